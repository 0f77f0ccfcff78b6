/**
 * Runs one iteration of one task, start to recorded outcome.
 *
 * Lifecycle of an iteration:
 * 1. IterationStarted is recorded (durably) before `run()` is called, so a
 *    crash afterwards is found at the next start and the iteration re-runs.
 * 2. The stored input is decoded with the definition's schema and `run()` is
 *    called with a live controller. Its answer races one `stop` signal, set
 *    by the hard timeout (`timeout` seconds) or by a forced abort (an abort
 *    request not answered within the grace period); when `stop` wins, an
 *    Effect run is interrupted and a Promise run sees its AbortSignal fire.
 * 3. Log lines and progress are recorded in order, then the outcome:
 *    done / continue / error (or RetryScheduled when the policy allows) /
 *    aborted / a TaskFailed for a throw, a timeout or a malformed answer.
 * Abort requests reach a running iteration through `requestAbort`.
 */
import { Clock, Context, Deferred, Effect, Exit, Layer } from "effect"
import type { Ids, Lifecycle, Replay, TaskEvent } from "@tasklane/core"
import { EventStore } from "@tasklane/core"
import { TaskDefinition } from "@tasklane/tasks"
import * as IterationSink from "./internal/IterationSink.ts"
import { Registry } from "./Registry.ts"
import { storableWakeAt, Tasks } from "./Tasks.ts"

/** How the run of an iteration ended, before it is recorded. */
export type Outcome =
  | { readonly _tag: "Returned"; readonly result: unknown }
  | { readonly _tag: "Threw"; readonly error: unknown }
  | { readonly _tag: "TimedOut" }
  | { readonly _tag: "Forced" }

/** One call of a definition's `run()`: the decoded input, the output so far, and what the host provides. */
export interface RunOnce {
  readonly entry: TaskDefinition.Definition
  readonly input: unknown
  readonly output: unknown
  readonly now: () => number
  readonly signal: AbortSignal
  /** Completes when the run must end without its answer (timeout, forced abort). */
  readonly stop: Effect.Effect<Outcome>
  readonly host: Pick<TaskDefinition.ControllerOptions<unknown, unknown>, "onLog" | "onProgress" | "trigger" | "listChildren">
  /** Adjusts the controller before `run()` gets it (replay-test pins `isCloseToTimeout`). */
  readonly adjust?: ((controller: TaskDefinition.Controller<unknown, unknown>) => TaskDefinition.Controller<unknown, unknown>) | undefined
}

/**
 * Calls `run()` once with a live controller until it answers, throws or
 * `stop` wins; the outcome and the output `run()` last set. Shared by the
 * runner and `ReplayTest`, so replay-test runs an iteration exactly as the daemon does.
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
    return TaskDefinition.toEffect(() => entry.task.run({ input, controller })).pipe(
      Effect.map((result): Outcome => ({ _tag: "Returned", result })),
      Effect.catch((error) => Effect.succeed<Outcome>({ _tag: "Threw", error })),
      Effect.raceFirst(options.stop),
      Effect.map((outcome) => ({ outcome, output })),
    )
  })

/** Options of the runner. */
export interface RunnerOptions {
  /** Seconds a running iteration has to answer an abort before it is forced. */
  readonly abortGraceSeconds: number
}

interface Running {
  readonly abort: AbortController
  /** Completed with TimedOut by the iteration's timer or Forced after an unanswered abort: ends the race with run(). */
  readonly stop: Deferred.Deferred<Outcome>
}

/** The runner service. */
export class Runner extends Context.Service<
  Runner,
  {
    /** Runs the task's next iteration if it is waiting; returns when the outcome is recorded. */
    readonly runIteration: (taskId: Ids.TaskId) => Effect.Effect<void>
    /** Tells a running iteration that an abort was requested; forces it after the grace period. */
    readonly requestAbort: (taskId: Ids.TaskId) => Effect.Effect<void>
    /** How many iterations are running. */
    readonly runningCount: () => number
  }
>()("@tasklane/daemon/Runner") {}

const errorInfo = (cause: unknown): TaskEvent.ErrorInfo => TaskDefinition.toErrorInfo(cause)

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

/**
 * The lifecycle command recording how an iteration ended (pure but for the
 * Schema encoding of a continue input): the one mapping from a run's answer to
 * what is stored, shared with `ReplayTest`.
 */
export const toCommand = (
  entry: TaskDefinition.Definition,
  state: Replay.TaskState,
  outcome: Outcome,
  output: unknown,
  now: number,
): Effect.Effect<Lifecycle.Command> =>
  Effect.gen(function*() {
    const attempt = state.context.attempt
    const fail = (reason: TaskEvent.FailureReason, error: TaskEvent.ErrorInfo): Lifecycle.Command => ({
      _tag: "Fail",
      reason,
      error,
      ...retryAt(entry, attempt, now),
    })
    switch (outcome._tag) {
      case "Forced":
        return { _tag: "ForceAbort" }
      case "TimedOut":
        return fail("timeout", { message: `iteration ${state.context.iteration} ran past its ${entry.timeout} s timeout` })
      case "Threw":
        return fail("thrown", errorInfo(outcome.error))
    }
    const result = outcome.result
    if (!TaskDefinition.Result.is(result)) {
      return fail("invalidResult", { message: "run() must answer with controller.response.done/continue/error/aborted" })
    }
    switch (result._tag) {
      case "Done": {
        const final = result.output === undefined ? output : result.output
        if (!isJson(final)) return fail("invalidResult", { message: "the output of done() is not JSON-serializable" })
        return { _tag: "Complete", result: { _tag: "Done", output: final, ...(result.message ? { message: result.message } : {}) } }
      }
      case "Continue": {
        const input = yield* TaskDefinition.encodeInput(entry.task, result.input).pipe(Effect.option)
        const wakeAt = result.wakeAt === undefined ? undefined : storableWakeAt(result.wakeAt)
        if (input._tag === "None" || !isJson(output)) {
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
      }
      case "Error":
        return { _tag: "Complete", result: { _tag: "Error", error: result.error, ...retryAt(entry, attempt, now) } }
      case "Aborted":
        return { _tag: "Complete", result: { _tag: "Aborted" } }
    }
  })

/** The live runner. */
export const layer = (options: RunnerOptions) =>
  Layer.effect(
    Runner,
    Effect.gen(function*() {
      const tasks = yield* Tasks
      const registry = yield* Registry
      const store = yield* EventStore.EventStore
      const context = yield* Effect.context<never>()
      const running = new Map<Ids.TaskId, Running>()
      const clock = yield* Clock.Clock
      const now = () => clock.currentTimeMillisUnsafe()

      const record = (taskId: Ids.TaskId, command: Lifecycle.Command) =>
        tasks.execute(taskId, command).pipe(
          Effect.tapError((error) => Effect.logWarning(`task ${taskId}: ${command._tag} not recorded: ${error.message}`)),
        )

      const execute = (taskId: Ids.TaskId, state: Replay.TaskState, { abort, stop }: Running) =>
        Effect.gen(function*() {
          const entry = registry.get(state.context.definitionId)!.definition
          const decoded = yield* TaskDefinition.decodeInput(entry.task, state.context.input).pipe(Effect.result)
          if (decoded._tag === "Failure") {
            yield* Effect.ignore(record(taskId, { _tag: "Fail", reason: "error", error: { message: decoded.failure.message } }))
            return
          }
          if (state.context.abortRequested) abort.abort()
          const sink = yield* IterationSink.make({
            databaseLogs: entry.databaseLogs,
            now,
            record: (command) => Effect.ignore(record(taskId, command)),
          })
          const timer = setTimeout(() => Deferred.doneUnsafe(stop, Exit.succeed({ _tag: "TimedOut" })), entry.timeout * 1000)
          const { outcome, output } = yield* runOnce({
            entry,
            input: decoded.success,
            output: state.context.output,
            now,
            signal: abort.signal,
            stop: Deferred.await(stop),
            host: {
              onLog: sink.onLog,
              onProgress: sink.onProgress,
              trigger: (params) =>
                Effect.runPromiseWith(context)(
                  tasks.trigger({
                    definitionId: params.definition,
                    input: params.input,
                    name: params.name,
                    delaySeconds: params.delay,
                    parentId: taskId,
                    allowPrivate: true,
                  }).pipe(Effect.map((child) => ({ id: child.context.taskId }))),
                ),
              listChildren: (definitionId) =>
                Effect.runPromiseWith(context)(
                  store.listTasks({ parentId: taskId, ...(definitionId === undefined ? {} : { definitionId }) }, { limit: 1000 }).pipe(
                    Effect.map((page) => page.tasks.map(TaskSnapshot.of)),
                  ),
                ),
            },
          }).pipe(Effect.ensuring(Effect.sync(() => clearTimeout(timer))))
          running.delete(taskId)
          if (outcome._tag !== "Returned") abort.abort()
          yield* sink.close
          const command = yield* toCommand(entry, state, outcome, output, now())
          yield* Effect.ignore(record(taskId, command))
        })

      const runIteration = (taskId: Ids.TaskId) =>
        Effect.gen(function*() {
          const current = yield* Effect.option(tasks.get(taskId))
          if (current._tag === "None") return
          if (registry.get(current.value.context.definitionId) === undefined) {
            const message = `no task definition "${current.value.context.definitionId}" is loaded`
            yield* Effect.ignore(record(taskId, { _tag: "Fail", reason: "unknownDefinition", error: { message } }))
            return
          }
          // Registered before IterationStarted is recorded, so an abort request arriving meanwhile is not missed.
          const iteration: Running = { abort: new AbortController(), stop: yield* Deferred.make<Outcome>() }
          running.set(taskId, iteration)
          const started = yield* Effect.exit(tasks.execute(taskId, { _tag: "StartIteration" }))
          if (Exit.isFailure(started) || started.value.status !== "running") {
            running.delete(taskId)
            if (Exit.isFailure(started)) yield* Effect.logWarning(`task ${taskId}: its iteration could not start`, started.cause)
            return // no longer waiting, or ended aborted instead of starting: nothing to run
          }
          yield* execute(taskId, started.value, iteration).pipe(
            Effect.onInterrupt(() => Effect.ignore(record(taskId, { _tag: "Interrupt", reason: "shutdown" }))),
            Effect.ensuring(Effect.sync(() => running.delete(taskId))),
          )
        })

      const requestAbort = (taskId: Ids.TaskId) =>
        Effect.gen(function*() {
          const iteration = running.get(taskId)
          if (iteration === undefined || iteration.abort.signal.aborted) return
          iteration.abort.abort()
          setTimeout(() => Deferred.doneUnsafe(iteration.stop, Exit.succeed({ _tag: "Forced" })), options.abortGraceSeconds * 1000).unref()
        })

      return { runIteration, requestAbort, runningCount: () => running.size }
    }),
  )

/** The read-only task view hooks and `listChildren` receive. */
export const TaskSnapshot = {
  of: (state: Replay.TaskState): TaskDefinition.TaskSnapshot => {
    const c = state.context
    return {
      id: c.taskId,
      definitionId: c.definitionId,
      name: c.name,
      input: c.input,
      output: c.output,
      iteration: c.iteration,
      status: state.status as TaskDefinition.TaskSnapshot["status"],
      error: c.error,
      parentId: c.parentId,
    }
  },
}
