/**
 * One iteration of task code, from the stored input to the lifecycle command
 * that records its outcome: decode the input with the definition's schema,
 * call `run()` with a live controller until it answers, throws or `stop`
 * wins, and map what happened to a command (`toCommand`, the one mapping from
 * a run's answer to what is stored).
 *
 * No I/O of its own: the caller provides the clock, the abort signal, the
 * `stop` signal ({@link Stop}) and the host callbacks. Hot path: an iteration
 * is a short Effect pipeline, and a run that answers with a value or a
 * Promise waits for "answer or stop" with one callback, no fiber. The same code runs an iteration
 * inline in the daemon, inside the daemon's worker threads, in `replay-test`
 * and in the test kit (`@tasklane/tasks/testing`), so all of them behave alike.
 */
import { Effect } from "effect"
import type { Lifecycle, Replay, TaskEvent } from "@tasklane/core"
import * as TaskDefinition from "./TaskDefinition.ts"
import type { Outcome } from "./Outcome.ts"
import type { Stop } from "./Stop.ts"
import { isPromiseLike } from "./ToEffect.ts"
import { storableWakeAt } from "./WakeAt.ts"

export type { Outcome } from "./Outcome.ts"
export { type SetTimer, setTimer, Stop, timer } from "./Stop.ts"

/** What the host gives a running task: log and progress sinks, child tasks. */
export type Host = Pick<TaskDefinition.ControllerOptions<unknown, unknown>, "onLog" | "onProgress" | "trigger" | "listChildren">

/** One call of a definition's `run()`: the decoded input, the output so far, and what the host provides. */
export interface RunOnce {
  readonly entry: TaskDefinition.Definition
  readonly input: unknown
  readonly output: unknown
  readonly now: () => number
  readonly signal: AbortSignal
  /** Fires when the run must end without its answer (timeout, forced abort, a fault of its code). */
  readonly stop: Stop
  readonly host: Host
  /** Adjusts the controller before `run()` gets it (replay-test pins `isCloseToTimeout`). */
  readonly adjust?: ((controller: TaskDefinition.Controller<unknown, unknown>) => TaskDefinition.Controller<unknown, unknown>) | undefined
  /** Calls task code (inline containment runs it in the iteration's async context); default: a plain call. */
  readonly enter?: (<A>(call: () => A) => A) | undefined
}

const plainCall = <A>(call: () => A): A => call()

/** Calls task code and waits for its answer or the stop, whichever comes first; only an Effect answer runs a race of fibers. */
const answerOrStop = (call: () => unknown, stop: Stop): Effect.Effect<Outcome> => {
  let value: unknown
  try {
    value = call()
  } catch (error) {
    return Effect.succeed({ _tag: "Threw", error })
  }
  if (Effect.isEffect(value)) {
    return (value as Effect.Effect<unknown, unknown>).pipe(
      Effect.map((result): Outcome => ({ _tag: "Returned", result })),
      Effect.catch((error) => Effect.succeed<Outcome>({ _tag: "Threw", error })),
      Effect.raceFirst(stop.await),
    )
  }
  if (!isPromiseLike(value)) return Effect.succeed({ _tag: "Returned", result: value })
  const answer = value
  return Effect.callback<Outcome>((resume) => {
    const off = stop.listen((outcome) => resume(Effect.succeed(outcome)))
    Promise.resolve(answer).then(
      (result) => {
        off()
        resume(Effect.succeed({ _tag: "Returned", result }))
      },
      (error: unknown) => {
        off()
        resume(Effect.succeed({ _tag: "Threw", error }))
      },
    )
    return Effect.sync(off)
  })
}

/**
 * Calls `run()` once with a live controller until it answers, throws or
 * `stop` wins; the outcome and the output `run()` last set.
 */
export const runOnce = (options: RunOnce): Effect.Effect<{ readonly outcome: Outcome; readonly output: unknown }> =>
  Effect.suspend(() => {
    const { entry, input, now } = options
    let output = options.output
    const live = TaskDefinition.makeController<unknown, unknown>({
      input,
      output: output as never,
      now,
      deadline: now() + entry.timeout * 1000,
      closeToTimeout: entry.closeToTimeout,
      signal: options.signal,
      ...options.host,
      onOutputUpdated: (next) => (output = next),
    })
    const controller = options.adjust?.(live) ?? live
    const enter = options.enter ?? plainCall
    return Effect.map(answerOrStop(() => enter(() => entry.task.run({ input, controller })), options.stop), (outcome) => ({ outcome, output }))
  })

const isJson = (value: unknown): boolean => {
  try {
    JSON.stringify(value)
    return true
  } catch {
    return false
  }
}

const retryAt = (definition: TaskDefinition.Definition, attempt: number, now: number) => {
  const delay = TaskDefinition.retryDelaySeconds(definition.retry, attempt)
  return delay === undefined ? {} : { retryAt: now + delay * 1000 }
}

/** The command failing an iteration (with a retry time when the definition's retry policy gives one). */
const failed = (entry: TaskDefinition.Definition, state: Replay.TaskState, now: number) =>
(reason: TaskEvent.FailureReason, error: TaskEvent.ErrorInfo): Lifecycle.Command => ({
  _tag: "Fail",
  reason,
  error,
  ...retryAt(entry, state.context.attempt, now),
})

/** The command recording a `continue` answer: its next input encoded with the definition's schema, or a failure if it cannot be stored. */
const continued = (
  entry: TaskDefinition.Definition,
  result: TaskDefinition.Result & { readonly _tag: "Continue" },
  output: unknown,
  fail: ReturnType<typeof failed>,
): Effect.Effect<Lifecycle.Command> =>
  Effect.map(Effect.option(TaskDefinition.encodeInput(entry.task, result.input)), (input): Lifecycle.Command => {
    const wakeAt = result.wakeAt === undefined ? undefined : storableWakeAt(result.wakeAt)
    // Also a schema-less input that JSON cannot hold (a function, a bigint) is refused here, not by the store.
    if (input._tag === "None" || !isJson(output) || TaskDefinition.findNotJson(input.value) !== undefined) {
      return fail("invalidResult", { message: TaskDefinition.describeUnstorableContinue(entry.task, result.input, output) })
    }
    return {
      _tag: "Complete",
      result: {
        _tag: "Continue",
        input: input.value,
        ...(output === undefined ? {} : { output }),
        ...(wakeAt === undefined ? {} : { wakeAt }),
      },
    }
  })

/**
 * The lifecycle command recording how an iteration ended (pure but for the
 * Schema encoding of a continue input).
 */
export const toCommand = (
  entry: TaskDefinition.Definition,
  state: Replay.TaskState,
  outcome: Outcome,
  output: unknown,
  now: number,
): Effect.Effect<Lifecycle.Command> => {
  const fail = failed(entry, state, now)
  switch (outcome._tag) {
    case "Forced":
      return Effect.succeed({ _tag: "ForceAbort" })
    case "TimedOut":
      return Effect.succeed(fail("timeout", { message: `iteration ${state.context.iteration} ran past its ${entry.timeout} s timeout` }))
    case "Threw":
      return Effect.succeed(fail("thrown", TaskDefinition.toErrorInfo(outcome.error)))
    case "Crashed":
      return Effect.succeed(fail(outcome.reason, outcome.error))
  }
  const result = outcome.result
  if (!TaskDefinition.Result.is(result)) {
    return Effect.succeed(fail("invalidResult", { message: "run() must answer with controller.response.done/continue/error/aborted" }))
  }
  switch (result._tag) {
    case "Done": {
      const final = result.output === undefined ? output : result.output
      if (!isJson(final)) return Effect.succeed(fail("invalidResult", { message: "the output of done() is not JSON-serializable" }))
      return Effect.succeed({ _tag: "Complete", result: { _tag: "Done", output: final, ...(result.message ? { message: result.message } : {}) } })
    }
    case "Continue":
      return continued(entry, result, output, fail)
    case "Error":
      return Effect.succeed({ _tag: "Complete", result: { _tag: "Error", error: result.error, ...retryAt(entry, state.context.attempt, now) } })
    case "Aborted":
      return Effect.succeed({ _tag: "Complete", result: { _tag: "Aborted" } })
  }
}

/** An iteration to run: the running task's state (its stored input and output) plus {@link RunOnce}'s host parts. */
export interface Iterate extends Omit<RunOnce, "input" | "output"> {
  readonly state: Replay.TaskState
}

/** What an iteration ended with: the command recording it, and whether `run()` answered at all. */
export interface Iterated {
  readonly command: Lifecycle.Command
  readonly answered: boolean
}

/**
 * Runs one iteration of `state`'s task: decodes the stored input (a refusal
 * fails the iteration), calls `run()`, and answers the command recording the
 * outcome (and whether `run()` answered at all: a run cut off by `stop`
 * should see its signal abort).
 */
export const iterate = (options: Iterate): Effect.Effect<Iterated> => {
  const { entry, state } = options
  return Effect.flatMap(Effect.result(TaskDefinition.decodeInput(entry.task, state.context.input)), (decoded): Effect.Effect<Iterated> => {
    if (decoded._tag === "Failure") {
      return Effect.succeed({ command: { _tag: "Fail", reason: "error", error: { message: decoded.failure.message } }, answered: true })
    }
    return Effect.flatMap(runOnce({ ...options, input: decoded.success, output: state.context.output }), ({ outcome, output }) =>
      Effect.map(toCommand(entry, state, outcome, output, options.now()), (command) => ({
        command,
        answered: outcome._tag === "Returned" || outcome._tag === "Threw",
      })))
  })
}
