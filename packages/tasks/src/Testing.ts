/**
 * @tasklane/tasks/testing: unit-test a task definition in-process, with no
 * daemon, store or socket.
 *
 * `run` drives a definition through its whole life the way the daemon does,
 * with the daemon's own code: the input is validated as a trigger is
 * (`onBeforeTrigger` included), every lifecycle decision is
 * `Lifecycle.decide` and every state the replay fold of the recorded events,
 * and every iteration runs through `Iteration.iterate` (the function the
 * daemon, its worker threads and replay-test run). So a `continue` feeds its
 * input to the next iteration after a JSON round trip through the schema,
 * retries follow the definition's policy, `maxIterations` ends the task, and
 * the due hook runs with Webiny's parameters.
 *
 * Time is virtual: the clock starts at `startAt` and only moves to a wake
 * time (a `continue` with a wait, a retry's backoff), so no test waits.
 * `closeToTimeoutAt` / `abortAt` make `isCloseToTimeout()` / `isAborted()`
 * true in chosen iterations. Child triggers and listings are answered by
 * the options (default: recorded, with made-up ids, no children listed).
 *
 * What is not simulated: timeouts of a hanging `run()` (it is cut off after
 * `realTimeoutMs` of real time and recorded as a timeout), worker threads,
 * and crashes.
 */
import { Cause, Context, Duration, Effect, Exit, Layer } from "effect"
import { Lifecycle, Replay, type TaskEvent } from "@tasklane/core"
import type { Ids } from "@tasklane/core"
import type { Progress, TriggerParams } from "./Controller.ts"
import { toErrorInfo } from "./ErrorInfo.ts"
import { type Implementation, isImplementation } from "./Implementation.ts"
import type { InvalidInput } from "./InputValidation.ts"
import type { Interface } from "./Interface.ts"
import type { InvalidDefinition } from "./InvalidDefinition.ts"
import type { TaskSnapshot } from "./TaskSnapshot.ts"
import { loadDefinitions, validateDefinitions } from "./host/Definition.ts"
import { beforeTriggerParams, lifecycleHookParams } from "./host/HookParams.ts"
import { decodeInput, encodeInput } from "./host/InputCodec.ts"
import * as Iteration from "./host/Iteration.ts"
import type { LogEntry } from "./host/LiveController.ts"
import { toEffect } from "./host/ToEffect.ts"

/** Options of {@link run}. */
export interface RunOptions {
  /** The trigger's input, as a client would send it (JSON). */
  readonly input: unknown
  /** A name for the task, as a trigger may give one. */
  readonly name?: string | undefined
  /** Provides the implementation's services (the config's layer, or test doubles). */
  readonly layer?: Layer.Layer<any, any, never> | undefined
  /** Iterations (1-based) in which `isCloseToTimeout()` is true. */
  readonly closeToTimeoutAt?: ReadonlyArray<number> | undefined
  /** The iteration during which an abort is requested (`isAborted()` is true from its start). */
  readonly abortAt?: number | undefined
  /** Answers `controller.task.trigger` (default: a made-up id). */
  readonly trigger?: ((params: TriggerParams) => Promise<{ readonly id: string }>) | undefined
  /** Answers `controller.task.listChildren` (default: none). */
  readonly listChildren?: ((definitionId: string | undefined) => Promise<ReadonlyArray<TaskSnapshot>>) | undefined
  /** The virtual clock's start, epoch ms (default 2026-01-01). */
  readonly startAt?: number | undefined
  /** Real milliseconds one `run()` or hook may take before it counts as timed out (default 10,000). */
  readonly realTimeoutMs?: number | undefined
}

/** One iteration as it ran. */
export interface IterationReport {
  readonly iteration: number
  readonly attempt: number
  /** The input `run()` got (decoded). */
  readonly input: unknown
  /** The virtual time it started at. */
  readonly startedAt: number
  /** What the daemon would record for its outcome. */
  readonly command: Lifecycle.Command
  readonly logs: ReadonlyArray<LogEntry>
  readonly progress: ReadonlyArray<Progress>
  readonly children: ReadonlyArray<TriggerParams & { readonly id: string }>
}

/** A hook call: `onBeforeTrigger` or the hook due after the final event. */
export interface HookReport {
  readonly hook: "onBeforeTrigger" | TaskEvent.HookName
  readonly params: unknown
  /** Set when it threw or failed. */
  readonly error?: TaskEvent.ErrorInfo | undefined
}

/** Everything a run did. */
export interface Report {
  /** The final state, as the daemon's projection would hold it. */
  readonly state: Replay.TaskState
  readonly status: Replay.TaskState["status"]
  readonly output: unknown
  readonly error: TaskEvent.ErrorInfo | undefined
  readonly iterations: ReadonlyArray<IterationReport>
  readonly hooks: ReadonlyArray<HookReport>
  /** Every event, as the daemon would record them. */
  readonly events: ReadonlyArray<TaskEvent.TaskEvent>
}

/** `onBeforeTrigger` refused the trigger (nothing would be stored). */
export class TriggerRefused extends Error {
  constructor(readonly reason: string) {
    super(`onBeforeTrigger refused the trigger: ${reason}`)
    this.name = "TriggerRefused"
  }
}

const taskId = "01900000-0000-7000-8000-000000000000" as Ids.TaskId

/** A history under construction: events folded one by one with the daemon's fold. */
const recorder = (clock: () => number) => {
  const events: Array<TaskEvent.TaskEvent> = []
  let state = Replay.initial
  const apply = (command: Lifecycle.Command, options: Lifecycle.DecideOptions): Replay.TaskState => {
    const decided = Lifecycle.decide(state, command, options)
    if (decided instanceof Lifecycle.CommandRejected) throw decided
    for (const event of decided) {
      const version = state.context.version + 1
      const next = Replay.step(state, { id: `e${version}` as Ids.EventId, stream: taskId, version, position: version, at: clock(), event })
      if (next instanceof Replay.ReplayError) throw next
      events.push(event)
      state = next
    }
    return state
  }
  return { events, apply, state: () => state }
}

/**
 * Runs a definition (a `createImplementation(...)` value with `layer`
 * providing its services, or a task instance) from trigger to its final
 * state and its hook; fails with the trigger's refusal (InvalidInput,
 * TriggerRefused) or an InvalidDefinition.
 */
export const run = (
  subject: Implementation.Any | Interface,
  options: RunOptions,
): Effect.Effect<Report, InvalidDefinition | InvalidInput | TriggerRefused> =>
  Effect.scoped(
    Effect.gen(function*() {
      const services = options.layer === undefined ? Context.empty() : yield* Layer.build(options.layer).pipe(Effect.orDie)
      const definition = isImplementation(subject)
        ? (yield* loadDefinitions([subject], services as Context.Context<any>))[0]!
        : (yield* validateDefinitions([subject]))[0]!
      const task = definition.task
      let now = options.startAt ?? Date.UTC(2026, 0, 1)
      const clock = () => now
      const realTimeout = Duration.millis(options.realTimeoutMs ?? 10_000)
      const hooks: Array<HookReport> = []
      const callHook = (hook: HookReport["hook"], params: unknown, call: () => unknown) =>
        toEffect(call as () => Promise<void>).pipe(
          Effect.timeoutOrElse({ duration: realTimeout, orElse: () => Effect.fail(new Error(`${hook} ran past ${Duration.format(realTimeout)}`)) }),
          Effect.exit,
          Effect.map((exit) => {
            const error = Exit.isFailure(exit) ? toErrorInfo(Cause.squash(exit.cause)) : undefined
            hooks.push({ hook, params, ...(error === undefined ? {} : { error }) })
            return error
          }),
        )

      // The trigger: validated, onBeforeTrigger, stored in its JSON form.
      const decoded = yield* decodeInput(task, options.input)
      if (task.onBeforeTrigger !== undefined) {
        const params = beforeTriggerParams({ definition, input: decoded, name: options.name, parentId: undefined })
        const refused = yield* callHook("onBeforeTrigger", params, () => task.onBeforeTrigger!(params))
        if (refused !== undefined) return yield* Effect.fail(new TriggerRefused(refused.message))
      }
      const stored = JSON.parse(JSON.stringify(yield* encodeInput(task, decoded)))
      const history = recorder(clock)
      const decide: Lifecycle.DecideOptions = { maxCrashRetries: definition.maxCrashRetries }
      history.apply({
        _tag: "Trigger",
        taskId,
        definitionId: definition.id as Ids.DefinitionId,
        input: stored,
        maxIterations: definition.maxIterations,
        ...(options.name === undefined ? {} : { name: options.name }),
      }, decide)

      const iterations: Array<IterationReport> = []
      let childCount = 0
      while (history.state().status === "triggered" || history.state().status === "continue") {
        const waiting = history.state()
        if (waiting.context.wakeAt !== undefined) now = Math.max(now, waiting.context.wakeAt)
        const state = history.apply({ _tag: "StartIteration" }, decide)
        if (state.status !== "running") break
        const { iteration, attempt } = state.context
        const startedAt = now
        const abort = new AbortController()
        if (options.abortAt === iteration) {
          history.apply({ _tag: "Abort", message: "aborted by the test" }, decide)
          abort.abort()
        }
        const logs: Array<LogEntry> = []
        const progress: Array<Progress> = []
        const children: Array<TriggerParams & { readonly id: string }> = []
        const closeToTimeout = options.closeToTimeoutAt?.includes(iteration) === true
        const input = yield* decodeInput(task, state.context.input).pipe(Effect.orElseSucceed(() => state.context.input))
        const timer = Iteration.timer(Duration.toMillis(realTimeout))
        const { command } = yield* Iteration.iterate({
          entry: definition,
          state: history.state(),
          now: clock,
          signal: abort.signal,
          stop: timer.stop,
          host: {
            onLog: (entry) => void logs.push(entry),
            onProgress: (value) => void progress.push(value),
            trigger: async (params) => {
              const child = options.trigger === undefined ? { id: `child-${++childCount}` } : await options.trigger(params)
              children.push({ ...params, id: child.id })
              return child
            },
            listChildren: (definitionId) => options.listChildren?.(definitionId) ?? Promise.resolve([]),
          },
          adjust: (live) => ({ ...live, runtime: { ...live.runtime, isCloseToTimeout: closeToTimeout ? () => true : live.runtime.isCloseToTimeout } }),
        }).pipe(Effect.ensuring(Effect.sync(timer.cancel)))
        for (const entry of logs) if (definition.databaseLogs) history.apply({ _tag: "Log", level: entry.level, message: entry.message, ...(entry.data === undefined ? {} : { data: entry.data }) }, decide)
        if (progress.length > 0) history.apply({ _tag: "Progress", progress: progress.at(-1)! }, decide)
        history.apply(command, decide)
        iterations.push({ iteration, attempt, input, startedAt, command, logs, progress, children })
      }

      // The hook due after the final event, with Webiny's parameters.
      const final = history.state()
      const due = final.context.pendingHook
      const fn = due === undefined ? undefined : task[due]
      if (due !== undefined) {
        const params = lifecycleHookParams(final, definition)
        const error = fn === undefined ? undefined : yield* callHook(due, params, () => fn.call(task, params))
        history.apply({ _tag: "HookResult", hook: due, ...(error === undefined ? {} : { error }) }, decide)
      }
      const state = history.state()
      return {
        state,
        status: state.status,
        output: state.context.output,
        error: state.context.error,
        iterations,
        hooks,
        events: history.events,
      }
    }),
  )

/** {@link run} as a Promise (for test runners without Effect). */
export const runPromise = (subject: Implementation.Any | Interface, options: RunOptions): Promise<Report> =>
  Effect.runPromise(run(subject, options))
