/**
 * Runs one iteration of one task, start to recorded outcome.
 *
 * Lifecycle of an iteration:
 * 1. IterationStarted is recorded (durably) before any task code runs, so a
 *    crash afterwards is found at the next start and the iteration re-runs.
 *    A start the store could not record is reported to the scheduler, which
 *    queues the task again.
 * 2. {@link Isolation} runs the iteration (inline or on a worker thread) with
 *    the host callbacks (logs, progress, child tasks) and one `stop` signal,
 *    set by the hard timeout (`timeout` seconds) or by a forced abort (an
 *    abort request not answered within the grace period).
 * 3. Log lines and progress are recorded in order, then the outcome's
 *    command; a store fault while recording it is retried until the store
 *    takes it (the iteration's result is not dropped).
 * Every command recorded for a started iteration carries its `(iteration,
 * attempt)` (`Lifecycle.Expect`): when another node took the iteration over
 * (cluster mode, DESIGN §8), the decider refuses it as superseded and the
 * result is dropped, not retried. IterationStarted records this daemon's
 * node id from the {@link Cluster} service (none when it runs alone).
 * Abort requests reach a running iteration through `requestAbort`. A task
 * has at most one iteration in flight: a second `runIteration` for a task
 * already running returns at once.
 *
 * Hot path: an iteration is a short Effect pipeline (no generators) around
 * plain bookkeeping; its timer is a plain `setTimeout` on its {@link Iteration.Stop}
 * (`setTimer` in the options puts it on another clock).
 */
import { Cause, Clock, Context, Duration, Effect, Exit, Layer, Schedule } from "effect"
import type { Ids, Lifecycle, Replay } from "@tasklane/core"
import { EventStore } from "@tasklane/core"
import { Cluster } from "./Cluster.ts"
import * as IterationSink from "./internal/IterationSink.ts"
import { Isolation } from "./Isolation.ts"
import { Iteration, TaskDefinition } from "@tasklane/tasks/host"
import { Registry } from "./Registry.ts"
import { Slots } from "./Slots.ts"
import * as TaskErrors from "./TaskErrors.ts"
import { Tasks } from "./Tasks.ts"
import { atEdge } from "./WireErrors.ts"

/** Options of the runner. */
export interface RunnerOptions {
  /** Seconds a running iteration has to answer an abort before it is forced. */
  readonly abortGraceSeconds: number
  /**
   * Starts an iteration's hard-timeout timer; default `setTimeout`. Tests on
   * `TestClock` pass one that sleeps on the Effect clock. Taken once here,
   * so an iteration pays for no fiber and no lookup.
   */
  readonly setTimer?: Iteration.SetTimer | undefined
}

interface Running {
  readonly abort: AbortController
  /**
   * Ends the run without its answer: TimedOut (the iteration's timer), Forced
   * (an abort not answered within the grace period), or a fault of inline code.
   */
  readonly stop: Iteration.Stop
}

/**
 * The iteration a run of one task is in, as its commands name it: moves to
 * the next iteration when a continue started it in the same commit, and
 * becomes undefined once the run's outcome is recorded or refused (then a
 * shutdown has nothing left to interrupt).
 */
interface Chain {
  current: Lifecycle.Expect | undefined
}

/** The iteration and attempt a running state is in. */
const expectOf = (state: Replay.TaskState): Lifecycle.Expect => ({ iteration: state.context.iteration, attempt: state.context.attempt })

/** What `runIteration` did: ran it, found nothing to run, or could not record its start (queue it again). */
export type Started = "ran" | "skipped" | "startFailed"

/** The runner service. */
export class Runner extends Context.Service<
  Runner,
  {
    /** Runs the task's next iteration if it is waiting; returns when the outcome is recorded. */
    readonly runIteration: (taskId: Ids.TaskId) => Effect.Effect<Started>
    /**
     * Takes over a task whose first iteration was recorded with its trigger
     * (it took a slot at once): registered for aborts when called, run by the
     * returned Effect.
     */
    readonly adopt: (taskId: Ids.TaskId) => Effect.Effect<Started>
    /** Tells a running iteration that an abort was requested; forces it after the grace period. */
    readonly requestAbort: (taskId: Ids.TaskId) => Effect.Effect<void>
    /** How many iterations are running. */
    readonly runningCount: () => number
    /**
     * Stops every running iteration at once, as a forced abort does (a
     * fenced cluster node: another node runs them now, so what they would
     * record is refused anyway).
     */
    readonly stopAll: () => void
  }
>()("@tasklane/daemon/Runner") {}

/** Retry schedule for recording an outcome the store refused (a store fault): until it is taken. */
const untilStored = Schedule.min([Schedule.exponential(Duration.millis(100)), Schedule.spaced(Duration.seconds(5))])

/** The live runner. */
export const layer = (options: RunnerOptions) =>
  Layer.effect(
    Runner,
    Effect.gen(function*() {
      const tasks = yield* Tasks
      const registry = yield* Registry
      const isolation = yield* Isolation
      const slots = yield* Slots
      const store = yield* EventStore.EventStore
      const context = yield* Effect.context<never>()
      const scope = yield* Effect.scope
      const { nodeId } = yield* Cluster
      const startCommand: Lifecycle.Command = nodeId === undefined ? { _tag: "StartIteration" } : { _tag: "StartIteration", node: nodeId }
      const running = new Map<Ids.TaskId, Running>()
      const clock = yield* Clock.Clock
      const now = () => clock.currentTimeMillisUnsafe()
      const setTimer = options.setTimer ?? Iteration.setTimer

      /** What a command refused as superseded was, in the log line that says it was dropped. */
      const dropped = (command: Lifecycle.Command) =>
        command._tag === "Log" ? "log line" : command._tag === "Progress" ? "progress" : command._tag === "Interrupt" ? "interruption" : "result"

      /**
       * Why a command was not recorded, logged. A superseded iteration is no
       * fault of this daemon: in a cluster another node took it over (after
       * this one missed its lease), so it is noted at info level.
       */
      const notRecorded = (taskId: Ids.TaskId, command: Lifecycle.Command, error: Effect.Error<ReturnType<typeof tasks.execute>>) => {
        if (error._tag === "CommandRejected" && error.superseded === true) {
          const { iteration, attempt } = (command as { readonly expect: Lifecycle.Expect }).expect
          const lost = nodeId === undefined ? "is no longer running" : "was taken over by another node"
          return Effect.logInfo(`task ${taskId}: iteration ${iteration} attempt ${attempt} ${lost}; its ${dropped(command)} is dropped`)
        }
        return Effect.logWarning(`task ${taskId}: ${command._tag} not recorded: ${error.message}`, ...TaskErrors.causeOf(error))
      }

      /** Records a command; a failure is logged here (with a storage failure's cause), so callers may drop it. */
      const record = (taskId: Ids.TaskId, command: Lifecycle.Command) =>
        tasks.execute(taskId, command).pipe(Effect.tapError((error) => notRecorded(taskId, command, error)))

      /**
       * Records an outcome once, moving `chain` with it: to the next
       * iteration it started, or to none. Not interruptible while in flight:
       * an append once queued is written anyway, and a shutdown must know
       * which iteration it interrupts.
       */
      const recordOnce = (taskId: Ids.TaskId, command: Lifecycle.Command, chain: Chain) =>
        Effect.uninterruptible(record(taskId, command).pipe(
          Effect.tap((after) => Effect.sync(() => (chain.current = after.status === "running" ? expectOf(after) : undefined))),
          // A store fault leaves the iteration where it was; a refusal means the state moved on without it.
          Effect.tapError((error) =>
            Effect.sync(() => {
              if (error._tag !== "StorageFailed") chain.current = undefined
            })
          ),
        ))

      /** Records an outcome, answering the task's state after it; a store fault is retried (a refusal by the lifecycle is final: the state moved on). */
      const recordOutcome = (taskId: Ids.TaskId, command: Lifecycle.Command, chain: Chain): Effect.Effect<Replay.TaskState | undefined> =>
        recordOnce(taskId, command, chain).pipe(
          // The retry is set up only after a failure: recording is the hot path.
          Effect.catchTag("StorageFailed", () =>
            recordOnce(taskId, command, chain).pipe(Effect.retry({ while: (error) => error._tag === "StorageFailed", schedule: untilStored }))),
          Effect.orElseSucceed(() => undefined),
        )

      /** The host callbacks of one iteration; its n-th child trigger has the key `child:<parent>:<iteration>:<n>` unless given one. */
      const host = (taskId: Ids.TaskId, iteration: number, sink: IterationSink.IterationSink): Iteration.Host => {
        let children = 0
        return {
          onLog: sink.onLog,
          onProgress: sink.onProgress,
          // Task code is an edge too: a refused child trigger rejects with the error a client would get.
          trigger: (params) =>
            Effect.runPromiseWith(context)(
              tasks.trigger({
                definitionId: params.definition,
                input: params.input,
                name: params.name,
                delaySeconds: params.delay,
                parentId: taskId,
                idempotencyKey: params.idempotencyKey ?? `child:${taskId}:${iteration}:${++children}`,
                allowPrivate: true,
              }).pipe(Effect.map((child) => ({ id: child.context.taskId })), atEdge(`task ${taskId}: child trigger`)),
            ),
          listChildren: (definitionId) =>
            Effect.runPromiseWith(context)(
              store.listTasks({ parentId: taskId, ...(definitionId === undefined ? {} : { definitionId }) }, { limit: 1000 }).pipe(
                Effect.map((page) => page.tasks.map(TaskDefinition.snapshotOf)),
              ),
            ),
        }
      }

      const newRunning = (): Running => ({ abort: new AbortController(), stop: new Iteration.Stop() })

      /** Whether a recorded command continues the task at once: no wait, and nobody waits for a slot. */
      const keepsSlot = (command: Lifecycle.Command) =>
        command._tag === "Complete" && command.result._tag === "Continue" && command.result.wakeAt === undefined && slots.waiting() === 0

      /**
       * Runs the started iteration of `state` under its timer; answers the
       * command recording it, its logs and progress recorded first, all of
       * them for the iteration `expect` names.
       */
      const runOne = (taskId: Ids.TaskId, state: Replay.TaskState, expect: Lifecycle.Expect, { abort, stop }: Running): Effect.Effect<Lifecycle.Command> =>
        Effect.suspend(() => {
          const entry = registry.get(state.context.definitionId)!.definition
          if (state.context.abortRequested) abort.abort()
          const sink = IterationSink.make({
            expect,
            databaseLogs: entry.databaseLogs,
            now,
            record: (command) => Effect.ignore(record(taskId, command)),
            context,
          })
          const cancelTimer = setTimer(entry.timeout * 1000, () => stop.fire({ _tag: "TimedOut" }))
          return isolation.iteration({ entry, state, signal: abort.signal, stop, host: host(taskId, state.context.iteration, sink), now }).pipe(
            Effect.ensuring(Effect.sync(cancelTimer)),
            Effect.flatMap(({ command, answered }) => {
              if (!answered) abort.abort()
              return Effect.as(sink.close, { ...command, expect } as Lifecycle.Command)
            }),
          )
        })

      /**
       * Runs the started iteration of `state` and records its outcome; a
       * continue that keeps the slot records the next start in the same
       * commit and runs that iteration too, until the task waits or ends.
       */
      const execute = (taskId: Ids.TaskId, state: Replay.TaskState, current: Running, chain: Chain): Effect.Effect<void> =>
        // `chain.current` is this iteration's here: set by runStarted, moved by the start recorded before each recursion.
        Effect.flatMap(runOne(taskId, state, chain.current!, current), (command) => {
          if (!keepsSlot(command)) {
            running.delete(taskId)
            return Effect.asVoid(recordOutcome(taskId, command, chain))
          }
          // Registered before the next start is recorded, so an abort request arriving meanwhile reaches it.
          const next = newRunning()
          running.set(taskId, next)
          return Effect.flatMap(recordOutcome(taskId, { ...command, startNext: true, node: nodeId } as Lifecycle.Command, chain), (after) => {
            if (after?.status !== "running" || after.context.iteration !== state.context.iteration + 1) {
              running.delete(taskId)
              return Effect.void
            }
            return execute(taskId, after, next, chain)
          })
        })

      /** Runs a started iteration; an interruption (shutdown) records the iteration it was in as interrupted. */
      const runStarted = (taskId: Ids.TaskId, state: Replay.TaskState, iteration: Running) => {
        const chain: Chain = { current: expectOf(state) }
        return execute(taskId, state, iteration, chain).pipe(
          Effect.onInterrupt(() =>
            Effect.suspend(() => {
              const expect = chain.current
              return expect === undefined ? Effect.void : Effect.ignore(record(taskId, { _tag: "Interrupt", reason: "shutdown", expect }))
            })
          ),
          Effect.ensuring(Effect.sync(() => running.delete(taskId))),
          Effect.as<Started>("ran"),
        )
      }

      /** Why a start was not recorded: refused by the lifecycle (nothing to run) or a store fault (queue it again). */
      const notStarted = (taskId: Ids.TaskId, cause: Cause.Cause<unknown>): Effect.Effect<Started> => {
        if (cause.reasons.some((reason) => Cause.isFailReason(reason) && (reason.error as { _tag?: string })._tag === "CommandRejected")) {
          return Effect.succeed("skipped")
        }
        return Effect.as(Effect.logWarning(`task ${taskId}: its iteration could not start; it is queued again`, cause), "startFailed")
      }

      /** Records the start of a waiting task's next iteration and runs it. */
      const start = (taskId: Ids.TaskId, current: Replay.TaskState): Effect.Effect<Started> => {
        if (registry.get(current.context.definitionId) === undefined) {
          const message = `no task definition "${current.context.definitionId}" is loaded`
          return Effect.as(Effect.ignore(record(taskId, { _tag: "Fail", reason: "unknownDefinition", error: { message } })), "skipped")
        }
        // Registered before IterationStarted is recorded, so an abort request arriving meanwhile is not missed.
        const iteration = newRunning()
        running.set(taskId, iteration)
        return Effect.flatMap(Effect.exit(tasks.execute(taskId, startCommand)), (started) => {
          // No longer waiting, or ended aborted instead of starting: nothing to run.
          if (Exit.isSuccess(started) && started.value.status === "running") return runStarted(taskId, started.value, iteration)
          running.delete(taskId)
          return Exit.isSuccess(started) ? Effect.succeed("skipped") : notStarted(taskId, started.cause)
        })
      }

      /** Why a task's state could not be read before a run: gone (deleted) says nothing; a store fault is logged. */
      const notRead = (taskId: Ids.TaskId, error: TaskErrors.TaskNotFound | TaskErrors.StorageFailed) =>
        error._tag === "TaskNotFound" ? Effect.void : Effect.logWarning(`task ${taskId}: not run, its state could not be read`, error.cause)

      const runIteration = (taskId: Ids.TaskId): Effect.Effect<Started> => {
        if (running.has(taskId)) return Effect.succeed("skipped")
        // Read for its definition (which never changes); the start decides on the state again.
        return Effect.matchEffect(tasks.getToAppend(taskId), {
          onFailure: (error) => Effect.as(notRead(taskId, error), "skipped" as const),
          onSuccess: (current) => (running.has(taskId) ? Effect.succeed("skipped") : start(taskId, current)),
        })
      }

      const adopt = (taskId: Ids.TaskId): Effect.Effect<Started> => {
        if (running.has(taskId)) return Effect.succeed("skipped")
        const iteration = newRunning()
        running.set(taskId, iteration)
        return Effect.matchEffect(tasks.get(taskId), {
          onFailure: (error) => Effect.as(notRead(taskId, error), "skipped" as const).pipe(Effect.ensuring(Effect.sync(() => running.delete(taskId)))),
          onSuccess: (current) => {
            if (current.status === "running" && current.context.iteration === 1) return runStarted(taskId, current, iteration)
            running.delete(taskId)
            return Effect.succeed("skipped")
          },
        })
      }

      const requestAbort = (taskId: Ids.TaskId) =>
        Effect.gen(function*() {
          const iteration = running.get(taskId)
          if (iteration === undefined || iteration.abort.signal.aborted) return
          iteration.abort.abort()
          const force = Effect.andThen(Effect.sleep(Duration.seconds(options.abortGraceSeconds)), Effect.sync(() => iteration.stop.fire({ _tag: "Forced" })))
          yield* Effect.forkIn(force, scope)
        })

      const stopAll = () => {
        for (const iteration of running.values()) {
          iteration.abort.abort()
          iteration.stop.fire({ _tag: "Forced" })
        }
      }

      return { runIteration, adopt, requestAbort, runningCount: () => running.size, stopAll }
    }),
  )
