/**
 * The scheduler of a daemon in cluster mode (DESIGN §8): the same service as
 * {@link Scheduler}, but the work is shared through the database instead of
 * an in-memory queue.
 *
 * - Starts: the dispatch loop claims due waiting tasks for its free slots
 *   (`PgCluster.claim`: oldest first, due by the database's clock, skipping
 *   rows other nodes are claiming, per-definition limits counted across the
 *   cluster) and runs them; it claims again whenever the log shows a task
 *   become runnable, a slot frees up, the earliest wake time comes, or a
 *   second passes. A new task may still start in its trigger's commit on the
 *   node that took it, when a slot is free and its definition has no limit.
 * - Hooks: every node sees a final event; the one whose hook claim succeeds
 *   runs it.
 * - Membership, every heartbeat: this node's row is refreshed; nodes past
 *   their lease (or, on this host, whose process is gone) are fenced; the
 *   running iterations of nodes that are not live are recorded as
 *   interrupted (with the iteration and attempt they ran, so a late result
 *   of theirs is refused) and so run again; due hooks nobody holds are
 *   claimed. A heartbeat that finds this node fenced (it was paused or cut
 *   off past its lease and its work was taken over) stops its running
 *   iterations, whose results would be refused anyway, and registers again
 *   under a new epoch. Heartbeats failing for half a lease mean the database
 *   is lost: the daemon exits 75 (see Cluster).
 * - Start-up: only this node id's own running iterations are recorded as
 *   interrupted (those of other nodes are theirs, or the orphan scan's).
 * - Shutdown: as alone, running iterations get the grace period, then are
 *   interrupted and recorded as such.
 */
import { Clock, Duration, Effect, Layer, Option, Queue, Scope, Stream } from "effect"
import type { Ids } from "@tasklane/core"
import { EventStore, StoreErrors, TaskEvent } from "@tasklane/core"
import type { PgCluster } from "@tasklane/core/postgres"
import type { Membership } from "./Cluster.ts"
import { Hooks } from "./Hooks.ts"
import { Registry } from "./Registry.ts"
import { Runner } from "./Runner.ts"
import { recordBlockedHooks, Scheduler, type SchedulerOptions, stopGracefully } from "./Scheduler.ts"
import { Slots } from "./Slots.ts"
import { Tasks } from "./Tasks.ts"

/** How long the dispatcher waits at most before it claims again (new work arrives by the log, this is the fallback). */
const pollMs = 1000

/** How many orphaned iterations or hooks one heartbeat takes on. */
const scanLimit = 500

/** A fenced node's row stays this many leases (shown by `daemon status`), then goes once nothing names it. */
const forgetAfterLeases = 30

/** Whether a process with this pid exists (on this host). */
const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: string }).code === "EPERM"
  }
}

/** The cluster scheduler of a node; it starts with the layer and stops with its scope. */
export const layer = (options: SchedulerOptions, membership: Membership) =>
  Layer.effect(
    Scheduler,
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const runner = yield* Runner
      const hooks = yield* Hooks
      const tasks = yield* Tasks
      const slots = yield* Slots
      const registry = yield* Registry
      const clock = yield* Clock.Clock
      const layerScope = yield* Effect.scope
      const cluster = membership.store
      const me = membership.identity
      const wake = yield* Queue.unbounded<void>()
      const signal = () => void Queue.offerUnsafe(wake, undefined)
      // Cleared while this node is fenced: it claims nothing until it registered again.
      let live = true
      // Waiting tasks in the whole cluster, as of the last heartbeat (what `queuedCount` says).
      const queued = { count: 0 }
      const limits = new Map<string, number>()
      for (const entry of registry.all) if (entry.definition.concurrency !== undefined) limits.set(entry.definition.id, entry.definition.concurrency)
      // Nothing waits for a slot in this node's memory: new tasks may take a free one at their trigger.
      slots.countWaitingWith(() => 0)

      const workScope = yield* Scope.fork(layerScope)
      const startWork = (effect: Effect.Effect<void>) => Effect.forkIn(effect, workScope)

      /** Records an iteration as interrupted by a crash, only if it is still the one that ran (iteration and attempt). */
      const interrupt = (task: PgCluster.RunningTask) =>
        tasks.execute(task.stream, { _tag: "Interrupt", reason: "crash", expect: { iteration: task.iteration, attempt: task.attempt } }).pipe(
          Effect.tap(() => Effect.logInfo(`task ${task.stream}: iteration ${task.iteration} of node ${task.node ?? "(none)"} recorded as interrupted; it runs again`)),
          Effect.catch((error) => Effect.logDebug(`task ${task.stream}: not recorded as interrupted: ${error.message}`)),
        )

      /** Iterations recorded for this node id that it does not run (an earlier epoch's). */
      const recoverOwn = Effect.flatMap(cluster.ownRunning, (own) => Effect.forEach(own, interrupt, { discard: true }))

      // Hooks this node runs now: a claim it holds is claimed again by its own scans, which must not run the hook twice.
      const hooksRunning = new Set<string>()
      const runHook = (taskId: Ids.TaskId) =>
        Effect.suspend(() => {
          if (hooksRunning.has(taskId)) return Effect.void
          return Effect.flatMap(cluster.claimHook(taskId), (won) => {
            if (!won || hooksRunning.has(taskId)) return Effect.void
            hooksRunning.add(taskId)
            return hooks.runDue(taskId).pipe(Effect.ensuring(Effect.sync(() => hooksRunning.delete(taskId))))
          })
        }).pipe(Effect.catch((error) => Effect.logWarning(`task ${taskId}: its hook could not be claimed: ${error.message}`)))

      yield* recoverOwn.pipe(Effect.catch((error) => Effect.logWarning(`this node's interrupted iterations were not recorded: ${error.message}`)))
      yield* recordBlockedHooks

      const head = yield* store.head
      const follow = store.subscribe(head + 1).pipe(
        Stream.runForEach((recorded) =>
          Effect.suspend(() => {
            const event = recorded.event
            switch (event._tag) {
              case "TaskTriggered":
                if (!slots.admitted.has(recorded.stream)) signal()
                return Effect.void
              case "IterationStarted": {
                const definitionId = slots.admitted.get(recorded.stream)
                if (definitionId === undefined) return Effect.void
                slots.admitted.delete(recorded.stream)
                return Effect.asVoid(startWork(runner.adopt(recorded.stream).pipe(Effect.ensuring(Effect.sync(() => finished(definitionId))))))
              }
              case "IterationContinued":
              case "RetryScheduled":
              case "IterationInterrupted":
                signal()
                return Effect.void
              case "AbortRequested":
                return runner.requestAbort(recorded.stream)
              default:
                if (!TaskEvent.isFinal(event) || event.hookDue === false) return Effect.void
                return Effect.asVoid(startWork(runHook(recorded.stream)))
            }
          })
        ),
      )
      yield* Effect.forkIn(
        Effect.catch(follow, (error) => membership.lose(`stopped following the event log: ${error.message}`)),
        layerScope,
      )

      const finished = (definitionId: string) => {
        slots.release(definitionId)
        signal()
      }

      /** Claims what the free slots can take and runs it: `full` when it filled every slot (there may be more), `idle` when it found less. */
      const claimAndRun = Effect.gen(function*() {
        const free = options.concurrency - slots.active()
        if (!live || free <= 0) return "busy" as const
        const claimed = yield* cluster.claim(free, limits).pipe(
          Effect.catch((error) => Effect.as(Effect.logWarning(`claiming work failed: ${error.message}`), [])),
        )
        for (const { stream, definitionId } of claimed) {
          slots.take(definitionId)
          yield* startWork(
            runner.runIteration(stream).pipe(
              // A start the store could not record leaves the task waiting (and claimed by this node): claim it again shortly.
              Effect.tap((started) => (started === "startFailed" ? Effect.delay(Effect.sync(signal), Duration.millis(pollMs)) : Effect.void)),
              Effect.ensuring(Effect.sync(() => finished(definitionId))),
            ),
          )
        }
        return claimed.length === free ? "full" as const : "idle" as const
      })

      const dispatch = Effect.gen(function*() {
        for (;;) {
          const claimed = yield* claimAndRun
          if (claimed === "full") continue
          // Idle slots: wake up for the earliest wake time too. Busy ones: a finished iteration signals.
          const next = claimed === "idle" ? yield* cluster.nextWakeIn.pipe(Effect.orElseSucceed(() => undefined)) : undefined
          const waitMs = Math.max(1, Math.min(pollMs, next ?? pollMs))
          yield* Queue.take(wake).pipe(Effect.timeoutOption(Duration.millis(waitMs)), Effect.map(Option.getOrUndefined))
          yield* Queue.clear(wake)
        }
      })
      const dispatcher = yield* Effect.forkIn(dispatch, layerScope)

      /** After this node was fenced: its iterations stop (their results would be refused), then it registers again. */
      const rejoin = Effect.gen(function*() {
        live = false
        yield* Effect.logWarning(`node ${me.id} was fenced (silent past its lease): stopping its ${runner.runningCount()} iterations and registering again`)
        runner.stopAll()
        while (runner.runningCount() > 0) yield* Effect.sleep(Duration.millis(50))
        const epoch = yield* cluster.register
        yield* recoverOwn
        yield* Effect.logInfo(`node ${me.id} registered again (epoch ${epoch})`)
        live = true
        signal()
      })

      /** Fences dead nodes, re-runs their iterations, and takes on due hooks nobody holds. */
      const takeOver = Effect.gen(function*() {
        const nodes = yield* cluster.nodes
        const dead = nodes.filter((n) => n.live && n.id !== me.id && me.localKey !== "" && n.localKey === me.localKey && !pidAlive(n.pid))
        for (const id of yield* cluster.fence(dead)) yield* Effect.logInfo(`node ${id} fenced: past its lease or its process is gone`)
        const orphans = yield* cluster.orphans(scanLimit)
        yield* Effect.forEach(orphans, interrupt, { discard: true })
        for (const taskId of yield* cluster.orphanHooks(scanLimit)) {
          if (!hooksRunning.has(taskId)) yield* startWork(runHook(taskId))
        }
        for (const id of yield* cluster.forget(forgetAfterLeases * membership.leaseMs)) yield* Effect.logDebug(`node ${id}: its row is removed (fenced long ago, nothing left to recover)`)
        const counts = yield* store.countByStatus
        queued.count = counts.triggered + counts.continue
        signal()
      })

      const heartbeatAt = { ok: clock.currentTimeMillisUnsafe() }
      const beat = Effect.gen(function*() {
        // A database that does not answer (a connect that hangs) is no heartbeat either.
        const status = yield* Effect.result(
          cluster.heartbeat(runner.runningCount()).pipe(
            Effect.timeoutOrElse({
              duration: Duration.millis(membership.heartbeatMs),
              orElse: () => Effect.fail(new StoreErrors.StoreError({ operation: "cluster heartbeat", reason: `no answer within ${membership.heartbeatMs} ms` })),
            }),
          ),
        )
        const now = clock.currentTimeMillisUnsafe()
        if (status._tag === "Failure") {
          yield* Effect.logWarning(`heartbeat failed: ${status.failure.message}`)
          if (now - heartbeatAt.ok > membership.leaseMs / 2) yield* membership.lose(`no heartbeat for ${now - heartbeatAt.ok} ms: ${status.failure.message}`)
          return
        }
        heartbeatAt.ok = now
        if (status.success === "fenced") return yield* rejoin
        yield* takeOver
      }).pipe(Effect.catch((error) => Effect.logWarning(`cluster upkeep failed: ${error.message}`)))
      const upkeep = yield* Effect.forkIn(Effect.forever(Effect.andThen(beat, Effect.sleep(Duration.millis(membership.heartbeatMs)))), layerScope)

      yield* stopGracefully({ layerScope, workScope, loops: [dispatcher, upkeep], graceSeconds: options.shutdownGraceSeconds })

      return { queuedCount: () => queued.count, runningCount: () => slots.active() }
    }),
  )
