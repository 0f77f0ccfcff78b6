/**
 * Decides when iterations run. The scheduler follows the event log: a
 * trigger, a continue, a retry or an interruption puts the task in the
 * {@link TaskQueue} (ready, or at its wake time); an abort request reaches
 * the runner; a final event with a hook due starts the hook. A dispatch loop
 * starts the oldest ready task whenever fewer than `concurrency` iterations
 * run (fair FIFO). A definition with its own `concurrency` limit that is
 * reached parks its ready tasks; each finished iteration of that definition
 * releases its oldest parked task ahead of the queue.
 *
 * Start-up (recovery): before following the log, running tasks are recorded
 * as interrupted (the daemon died mid-iteration; past `maxCrashRetries` such
 * a poison task ends `crashedDaemon` instead), waiting tasks are queued once
 * with their wake times (so delays survive restarts), and due hooks re-run.
 * A task whose start the store could not record is queued again a second
 * later, so a store fault never strands a task in `triggered`.
 *
 * Shutdown: the dispatch loop stops taking work; running iterations get a
 * grace period to finish; the rest are interrupted and recorded as such.
 */
import { Clock, Context, Duration, Effect, Exit, Fiber, Layer, Option, Queue, Scope, Stream } from "effect"
import type { Ids } from "@tasklane/core"
import { EventStore, TaskEvent } from "@tasklane/core"
import { Hooks } from "./Hooks.ts"
import { allTasks } from "./internal/AllTasks.ts"
import { TaskQueue } from "./internal/TaskQueue.ts"
import { Isolation } from "./Isolation.ts"
import { Runner } from "./Runner.ts"
import { Slots } from "./Slots.ts"
import { Tasks } from "./Tasks.ts"

/** Scheduler options. */
export interface SchedulerOptions {
  /** Iterations that may run at the same time. */
  readonly concurrency: number
  /** Seconds running iterations get to finish on shutdown before they are interrupted. */
  readonly shutdownGraceSeconds: number
}

/** The scheduler service. */
export class Scheduler extends Context.Service<
  Scheduler,
  {
    /** Tasks waiting to run (ready or delayed). */
    readonly queuedCount: () => number
    /** Iterations running now. */
    readonly runningCount: () => number
  }
>()("@tasklane/daemon/Scheduler") {}

/** How long a task whose start the store could not record waits before it is tried again. */
const retryStartMs = 1000

/** A hook that blocked the event loop until the watchdog stopped the daemon is recorded as failed, not run again. */
export const recordBlockedHooks = Effect.gen(function*() {
  const isolation = yield* Isolation
  const tasks = yield* Tasks
  for (const { taskId, hook, label } of isolation.blocked) {
    if (hook === undefined) continue
    const error = { message: `${label} blocked the event loop past its timeout; the daemon was stopped and restarted`, code: "BLOCKED" }
    yield* tasks.execute(taskId as Ids.TaskId, { _tag: "HookResult", hook, error }).pipe(
      Effect.catch((failure) => Effect.logWarning(`task ${taskId}: the blocked ${hook} hook was not recorded as failed`, failure)),
    )
  }
})

/**
 * Shutdown, when the layer's scope closes: the loops that take work stop,
 * running iterations get the grace period to finish, then the work scope
 * closes (interrupting the rest, which records them as interrupted).
 */
export const stopGracefully = (options: {
  readonly layerScope: Scope.Scope
  readonly workScope: Scope.Closeable
  readonly loops: ReadonlyArray<Fiber.Fiber<unknown, unknown>>
  readonly graceSeconds: number
}) =>
  Effect.gen(function*() {
    const slots = yield* Slots
    const clock = yield* Clock.Clock
    yield* Scope.addFinalizer(
      options.layerScope,
      Effect.gen(function*() {
        for (const loop of options.loops) yield* Fiber.interrupt(loop)
        const deadline = clock.currentTimeMillisUnsafe() + options.graceSeconds * 1000
        while (slots.active() > 0 && clock.currentTimeMillisUnsafe() < deadline) yield* Effect.sleep(Duration.millis(50))
        yield* Scope.close(options.workScope, Exit.void)
      }),
    )
  })

/** The live scheduler; it starts with the layer and stops with its scope. */
export const layer = (options: SchedulerOptions) =>
  Layer.effect(
    Scheduler,
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const runner = yield* Runner
      const hooks = yield* Hooks
      const tasks = yield* Tasks
      const slots = yield* Slots
      const clock = yield* Clock.Clock
      const layerScope = yield* Effect.scope
      const queue = new TaskQueue()
      const wake = yield* Queue.unbounded<void>()
      const signal = () => void Queue.offerUnsafe(wake, undefined)
      // Per-definition limits: tasks parked at their definition's limit, tasks released from it.
      const parked = new Map<string, Array<Ids.TaskId>>()
      const released: Array<Ids.TaskId> = []
      let parkedCount = 0
      // A new task may take a slot at its trigger only when no task waits for one (ready or released).
      slots.countWaitingWith(() => queue.readySize + released.length)
      const definitionOf = (taskId: Ids.TaskId) =>
        store.getTask(taskId).pipe(
          Effect.map((state) => state?.context.definitionId ?? ""),
          // Unknown, the task counts against no definition's limit; its start reads the store again and fails there if it must.
          Effect.catch((error) => Effect.as(Effect.logDebug(`task ${taskId}: its definition could not be read`, error), "")),
        )
      const finished = (definitionId: string) => {
        slots.release(definitionId)
        const next = parked.get(definitionId)?.shift()
        if (next !== undefined) {
          parkedCount--
          released.push(next)
        }
        signal()
      }

      const enqueue = (taskId: Ids.TaskId, wakeAt: number | undefined) => {
        queue.add(taskId, wakeAt, clock.currentTimeMillisUnsafe())
        signal()
      }

      // Iterations and hooks run in their own scope, closed after the grace period on shutdown.
      const workScope = yield* Scope.fork(layerScope)
      const startWork = (effect: Effect.Effect<void>) => Effect.forkIn(effect, workScope)

      // Recovery, before anything else writes: iterations the daemon died in are interrupted (or end as poison tasks).
      for (const state of yield* allTasks(store, { status: "running" })) {
        yield* tasks.execute(state.context.taskId, { _tag: "Interrupt", reason: "crash" }).pipe(
          Effect.catch((error) => Effect.logWarning(`task ${state.context.taskId}: its interrupted iteration was not recorded`, error)),
        )
      }
      // Waiting tasks, the interrupted ones included, are queued by the scan; the log is followed from here on.
      const head = yield* store.head
      for (const status of ["triggered", "continue"] as const) {
        for (const state of yield* allTasks(store, { status })) enqueue(state.context.taskId, state.context.wakeAt)
      }
      yield* recordBlockedHooks
      for (const state of yield* store.pendingHooks) yield* startWork(hooks.runDue(state.context.taskId))

      // Follow the log from where recovery's scan started.
      const follow = store.subscribe(head + 1).pipe(
        Stream.runForEach((recorded) =>
          Effect.suspend(() => {
            const event = recorded.event
            switch (event._tag) {
              case "TaskTriggered":
                // Admitted at its trigger: it started in the same commit (next event), it does not queue.
                if (slots.admitted.has(recorded.stream)) return Effect.void
                enqueue(recorded.stream, event.wakeAt)
                return Effect.void
              case "IterationStarted": {
                const definitionId = slots.admitted.get(recorded.stream)
                if (definitionId === undefined) {
                  // Started by the runner, or continued in the same commit by a runner that kept its slot.
                  queue.remove(recorded.stream)
                  return Effect.void
                }
                slots.admitted.delete(recorded.stream)
                const run = runner.adopt(recorded.stream)
                return Effect.asVoid(startWork(run.pipe(Effect.ensuring(Effect.sync(() => finished(definitionId))))))
              }
              case "IterationContinued":
              case "RetryScheduled":
                enqueue(recorded.stream, event.wakeAt)
                return Effect.void
              case "IterationInterrupted":
                enqueue(recorded.stream, undefined)
                return Effect.void
              case "AbortRequested":
                return runner.requestAbort(recorded.stream)
              default:
                // A task that ends while waiting (aborted during its delay) leaves the queue now, not at its wake time.
                if (!TaskEvent.isFinal(event)) return Effect.void
                queue.remove(recorded.stream)
                return event.hookDue === false ? Effect.void : Effect.asVoid(startWork(hooks.runDue(recorded.stream)))
            }
          })
        ),
      )
      yield* Effect.forkIn(Effect.catch(follow, (error) => Effect.logError(`scheduler stopped following the log: ${error.message}`)), layerScope)

      const dispatch = Effect.gen(function*() {
        for (;;) {
          const now = clock.currentTimeMillisUnsafe()
          queue.promote(now)
          while (slots.active() < options.concurrency) {
            const taskId = (released.shift() ?? queue.take()) as Ids.TaskId | undefined
            if (taskId === undefined) break
            const definitionId = yield* definitionOf(taskId)
            if (!slots.free(definitionId)) {
              const waiting = parked.get(definitionId) ?? []
              waiting.push(taskId)
              parked.set(definitionId, waiting)
              parkedCount++
              continue
            }
            slots.take(definitionId)
            yield* startWork(
              runner.runIteration(taskId).pipe(
                // A start the store could not record leaves the task waiting: try it again shortly.
                Effect.tap((started) => started === "startFailed" ? Effect.sync(() => enqueue(taskId, clock.currentTimeMillisUnsafe() + retryStartMs)) : Effect.void),
                Effect.ensuring(Effect.sync(() => finished(definitionId))),
              ),
            )
          }
          const next = queue.nextWakeAt()
          const waitFor = next === undefined ? Queue.take(wake) : Queue.take(wake).pipe(Effect.timeoutOption(Duration.millis(Math.max(1, next - now))), Effect.map(Option.getOrUndefined))
          yield* waitFor
          yield* Queue.clear(wake)
        }
      })
      const dispatcher = yield* Effect.forkIn(dispatch, layerScope)

      yield* stopGracefully({ layerScope, workScope, loops: [dispatcher], graceSeconds: options.shutdownGraceSeconds })

      return { queuedCount: () => queue.size + parkedCount + released.length, runningCount: () => slots.active() }
    }),
  )
