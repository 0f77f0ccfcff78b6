/**
 * Where task code runs. Every call into a definition's code — an iteration's
 * `run()`, a lifecycle hook, `onBeforeTrigger` — goes through this service,
 * which runs it either
 * - `inline`, on the daemon's own event loop (fastest: no thread hop), under
 *   {@link Containment}: its unhandled rejections and uncaught exceptions
 *   fail it instead of the daemon, `process.exit()` throws, and a watchdog
 *   stops a daemon whose loop a task blocked past its timeout; or
 * - `worker`, on a {@link WorkerPool} thread with a heap limit, killed at the
 *   timeout or at the end of the abort grace, so a leak, a busy loop or a
 *   crash costs only that task.
 * A definition's `isolation` wins over the daemon's default.
 *
 * Either way the answer is the same data: the lifecycle command recording an
 * iteration (built by `Iteration` of `@tasklane/tasks/host` in the thread that ran it), a hook's
 * error, or why `onBeforeTrigger` refused.
 */
import { Context, Deferred, Duration, Effect, Exit, Layer, Option } from "effect"
import type { Lifecycle, Replay, TaskEvent } from "@tasklane/core"
import * as Containment from "./Containment.ts"
import * as CoalescingSocket from "./internal/CoalescingSocket.ts"
import { Tracing } from "./Tracing.ts"
import { Iteration, TaskDefinition } from "@tasklane/tasks/host"
import type { Call, WorkerData } from "./internal/WorkerProtocol.ts"
import * as WorkerPool from "./WorkerPool.ts"

/** An iteration to run: the running task, its abort signal, when to stop waiting, and the host callbacks. */
export interface IterationRun {
  readonly entry: TaskDefinition.Definition
  readonly state: Replay.TaskState
  readonly signal: AbortSignal
  /** Fired (TimedOut, Forced; here also Crashed by a fault of inline code) when the iteration must end without its answer. */
  readonly stop: Iteration.Stop
  readonly host: Iteration.Host
  readonly now: () => number
}

/** The isolation service. */
export class Isolation extends Context.Service<
  Isolation,
  {
    /** Runs one iteration; the command recording it, and whether `run()` answered at all. */
    readonly iteration: (run: IterationRun) => Effect.Effect<{ readonly command: Lifecycle.Command; readonly answered: boolean }>
    /** Runs a lifecycle hook within the definition's timeout; its error, if it failed. */
    readonly hook: (
      entry: TaskDefinition.Definition,
      hook: TaskEvent.HookName,
      params: TaskDefinition.LifecycleHookParams,
    ) => Effect.Effect<TaskEvent.ErrorInfo | undefined>
    /** Runs `onBeforeTrigger` (the definition has one) within its timeout; why it refused, if it did. */
    readonly beforeTrigger: (entry: TaskDefinition.Definition, trigger: BeforeTrigger) => Effect.Effect<string | undefined>
    /** What the watchdog stopped the previous daemon for (hooks among them are recorded failed, not re-run). */
    readonly blocked: ReadonlyArray<Containment.Blocked>
    /** Live worker threads. */
    readonly workers: () => number
  }
>()("@tasklane/daemon/Isolation") {}

/** A trigger `onBeforeTrigger` is asked about: its input (decoded here, and as sent, for a worker to decode), name and parent. */
export interface BeforeTrigger {
  readonly input: { readonly decoded: unknown; readonly raw: unknown }
  readonly name: string | undefined
  readonly parentId: string | undefined
}

/** Isolation settings. */
export interface IsolationOptions {
  /** Where definitions that do not say run. */
  readonly isolation: TaskDefinition.Isolation
  /** Heap limit of a worker, for definitions that do not set `memoryLimitMb`. */
  readonly workerMemoryMb: number
  /** What workers load (the daemon's own task sources). */
  readonly sources: Omit<WorkerData, "abortFlag">
  /** Most worker threads at once. */
  readonly maxWorkers: number
  /** Idle workers are terminated after this long. */
  readonly idleMs: number
  /** Where the watchdog notes what it stopped the daemon for. */
  readonly blockedPath: string
}

const crashed = (reason: "uncaught" | "workerDied", error: TaskEvent.ErrorInfo): Iteration.Outcome => ({ _tag: "Crashed", reason, error })

const faultInfo = (kind: Containment.FaultKind, error: unknown): TaskEvent.ErrorInfo => {
  const info = TaskDefinition.toErrorInfo(error)
  return { ...info, message: `${kind} in task code: ${info.message}` }
}

/** Host callbacks run daemon code: outside the task's async context. */
const outsideHost = (host: Iteration.Host): Iteration.Host => ({
  onLog: host.onLog && ((entry) => Containment.outside(() => host.onLog!(entry))),
  onProgress: host.onProgress && ((progress) => Containment.outside(() => host.onProgress!(progress))),
  trigger: (params) => Containment.outside(() => host.trigger(params)),
  listChildren: (definitionId) => Containment.outside(() => host.listChildren(definitionId)),
})

/**
 * Runs task code inline under containment: calls made through `enter` are
 * attributed to `blocked` and watched until `deadline`; a fault of their async
 * work completes `faulted` with `onFault`'s value, which `body` races.
 */
/**
 * Enters task code on the daemon's loop: first sends the socket replies the
 * daemon has made (task code may block the loop for good), then calls it in
 * its owner's async context.
 */
const enterInline = <A>(owner: Containment.Owner, call: () => A): A => {
  CoalescingSocket.flushPending()
  return Containment.within(owner, call)
}

const contained = <F, A, E>(
  blocked: Containment.Blocked,
  deadline: number,
  onFault: (kind: Containment.FaultKind, error: unknown) => F,
  body: (enter: <B>(call: () => B) => B, faulted: Effect.Effect<F>) => Effect.Effect<A, E>,
): Effect.Effect<A, E> =>
  Effect.gen(function*() {
    const fault = yield* Deferred.make<F>()
    const owner: Containment.Owner = { label: blocked.label, fault: (error, kind) => Deferred.doneUnsafe(fault, Exit.succeed(onFault(kind, error))) }
    const release = Containment.watch(blocked, deadline)
    return yield* body((call) => enterInline(owner, call), Deferred.await(fault)).pipe(Effect.ensuring(Effect.sync(release)))
  })

/** A hook or onBeforeTrigger call as an Effect: its error (as ErrorInfo) or undefined, within `seconds`. */
const callHook = (
  call: () => TaskDefinition.HookResult,
  name: string,
  seconds: number,
): Effect.Effect<TaskEvent.ErrorInfo | undefined> =>
  TaskDefinition.toEffect(call).pipe(
    Effect.as(undefined),
    Effect.catch((error) => Effect.succeed(TaskDefinition.toErrorInfo(error))),
    Effect.timeoutOrElse({ duration: Duration.seconds(seconds), orElse: () => Effect.succeed(timedOut(name, seconds)) }),
  )

const timedOut = (name: string, seconds: number): TaskEvent.ErrorInfo => ({ message: `${name} ran past ${seconds} s`, code: "TIMEOUT" })

/** What a worker job ended with, as an ErrorInfo (for hooks) when it did not answer. */
const jobError = (result: WorkerPool.JobResult): TaskEvent.ErrorInfo | undefined =>
  result._tag === "Answer" || result._tag === "Cancelled" ? undefined : result.error

/** The live service; worker threads start on demand and stop with the layer. */
export const layer = (options: IsolationOptions) =>
  Layer.effect(
    Isolation,
    Effect.gen(function*() {
      Containment.install({ log: (message) => console.error(`tasklane daemon: ${message}`), blockedPath: options.blockedPath })
      const blocked = Containment.takeBlocked(options.blockedPath)
      // Present only with --otlp-endpoint: task code's spans nest under its iteration's span.
      const tracing = Option.getOrUndefined(yield* Effect.serviceOption(Tracing))
      const pool = WorkerPool.make({
        data: { ...options.sources, tracing: tracing !== undefined },
        maxWorkers: options.maxWorkers,
        idleMs: options.idleMs,
        onSpans: tracing?.pushSpans,
        onLogs: tracing?.pushLogs,
      })
      yield* Effect.addFinalizer(() => Effect.promise(() => pool.close()))
      const inWorker = (entry: TaskDefinition.Definition) => (entry.isolation ?? options.isolation) === "worker"
      const memoryOf = (entry: TaskDefinition.Definition) => entry.memoryLimitMb ?? options.workerMemoryMb

      const iteration = (run: IterationRun) => {
        const { entry, state } = run
        if (!inWorker(entry)) {
          const label = `task ${state.context.taskId} (${entry.id}) iteration ${state.context.iteration}`
          const owner: Containment.Owner = {
            label,
            fault: (error, kind) => run.stop.fire(crashed("uncaught", faultInfo(kind, error))),
          }
          return Effect.suspend(() => {
            const release = Containment.watch({ label, taskId: state.context.taskId }, run.now() + entry.timeout * 1000)
            const iterate = Iteration.iterate({
              ...run,
              host: outsideHost(run.host),
              enter: (call) => enterInline(owner, call),
            })
            const traced = tracing === undefined
              ? iterate
              : iterate.pipe(Effect.withParentSpan(tracing.parentOf(state)), Effect.withTracer(tracing.tracer))
            return traced.pipe(Effect.ensuring(Effect.sync(release)))
          })
        }
        const onCall = (request: Call): Promise<unknown> =>
          request.method === "trigger" ? run.host.trigger(request.params) : run.host.listChildren(request.definitionId)
        const trace = tracing === undefined ? undefined : tracing.parentOf(state)
        const job = pool.run({ _tag: "Iteration", definitionId: entry.id, state, trace: trace && { traceId: trace.traceId, spanId: trace.spanId } }, memoryOf(entry), {
          signal: run.signal,
          onLog: run.host.onLog,
          onProgress: run.host.onProgress,
          onCall,
        })
        return Effect.gen(function*() {
          const ended = yield* Effect.raceFirst(job, run.stop.await)
          if (ended._tag === "Answer") return { command: ended.value as Lifecycle.Command, answered: true }
          // Asked to abort before a worker took it: it stops as aborted without running.
          if (ended._tag === "Cancelled") return { command: { _tag: "Complete", result: { _tag: "Aborted" } } as const, answered: true }
          const outcome: Iteration.Outcome = ended._tag === "Uncaught"
            ? crashed("uncaught", ended.error)
            : ended._tag === "Died"
            ? crashed("workerDied", ended.error)
            : ended
          return { command: yield* Iteration.toCommand(entry, state, outcome, undefined, run.now()), answered: false }
        })
      }

      const hook = (entry: TaskDefinition.Definition, name: TaskEvent.HookName, params: TaskDefinition.LifecycleHookParams) => {
        const fn = entry.task[name]
        if (fn === undefined) return Effect.succeed(undefined)
        if (!inWorker(entry)) {
          const taskId = params.task.id
          return contained(
            { label: `${name} of task ${taskId} (${entry.id})`, taskId, hook: name },
            Date.now() + entry.timeout * 1000,
            (kind, error) => faultInfo(kind, error),
            (enter, faulted) => callHook(() => enter(() => fn.call(entry.task, params)), name, entry.timeout).pipe(Effect.raceFirst(faulted)),
          )
        }
        return pool.run({ _tag: "Hook", definitionId: entry.id, hook: name, params }, memoryOf(entry), {}).pipe(
          Effect.map((result) => (result._tag === "Answer" ? (result.value as TaskEvent.ErrorInfo | undefined) : jobError(result))),
          Effect.timeoutOrElse({ duration: Duration.seconds(entry.timeout), orElse: () => Effect.succeed(timedOut(name, entry.timeout)) }),
        )
      }

      const beforeTrigger = (entry: TaskDefinition.Definition, trigger: BeforeTrigger) => {
        const fn = entry.task.onBeforeTrigger
        if (fn === undefined) return Effect.succeed(undefined)
        const { input, name, parentId } = trigger
        if (!inWorker(entry)) {
          const params = TaskDefinition.beforeTriggerParams({ definition: entry, input: input.decoded, name, parentId })
          return contained(
            { label: `onBeforeTrigger of ${entry.id}`, taskId: "" },
            Date.now() + entry.timeout * 1000,
            (kind, error) => faultInfo(kind, error),
            (enter, faulted) =>
              callHook(() => enter(() => fn.call(entry.task, params)), "onBeforeTrigger", entry.timeout).pipe(Effect.raceFirst(faulted)),
          ).pipe(Effect.map((error) => error?.message))
        }
        return pool.run({ _tag: "BeforeTrigger", definitionId: entry.id, input: input.raw, name, parentId }, memoryOf(entry), {}).pipe(
          Effect.map((result) => (result._tag === "Answer" ? (result.value as string | undefined) : jobError(result)!.message)),
          Effect.timeoutOrElse({
            duration: Duration.seconds(entry.timeout),
            orElse: () => Effect.succeed(timedOut("onBeforeTrigger", entry.timeout).message),
          }),
        )
      }

      return { iteration, hook, beforeTrigger, blocked, workers: () => pool.size() }
    }),
  )
