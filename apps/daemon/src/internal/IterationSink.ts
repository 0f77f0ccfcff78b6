/**
 * Where a running iteration's side facts go: log lines and progress reported
 * synchronously by the controller are queued in order and recorded by one
 * fiber, so they land in the task's stream in the order they were made and
 * before the iteration's outcome. Progress is recorded at most once per
 * second; the last value held back is flushed when the iteration ends.
 */
import { type Cause, Effect, Fiber, Queue } from "effect"
import type { Lifecycle } from "@tasklane/core"
import type { TaskDefinition } from "@tasklane/tasks"

/** Minimum time between two recorded progress updates of one task. */
export const progressIntervalMs = 1000

/** The sink of one iteration: callbacks for the controller, and `close` to flush and wait. */
export interface IterationSink {
  readonly onLog: (entry: TaskDefinition.LogEntry) => void
  readonly onProgress: (progress: TaskDefinition.Progress) => void
  /** Flushes held-back progress, records everything queued, and stops. */
  readonly close: Effect.Effect<void>
}

const defined = <A extends object>(fields: A): A =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as A

/** Starts the recording fiber; `record` stores one command (failures are the caller's to log). */
export const make = (options: {
  readonly databaseLogs: boolean
  readonly now: () => number
  readonly record: (command: Lifecycle.Command) => Effect.Effect<void>
}): Effect.Effect<IterationSink> =>
  Effect.gen(function*() {
    const queue = yield* Queue.unbounded<Lifecycle.Command, Cause.Done>()
    // Ends when the queue is ended and drained (take fails with Done).
    const writer = yield* Effect.forkChild(Effect.ignore(Effect.forever(Effect.flatMap(Queue.take(queue), options.record))))
    let lastProgressAt = Number.NEGATIVE_INFINITY
    let heldBack: TaskDefinition.Progress | undefined

    const offer = (command: Lifecycle.Command) => void Queue.offerUnsafe(queue, command)
    const progressCommand = (progress: TaskDefinition.Progress): Lifecycle.Command => ({
      _tag: "Progress",
      progress: defined({ completed: progress.completed, total: progress.total, message: progress.message }),
    })

    return {
      onLog: (entry) => {
        if (!options.databaseLogs) return
        const data = entry.error === undefined ? entry.data : defined({ data: entry.data, error: entry.error })
        offer(defined({ _tag: "Log" as const, level: entry.level, message: entry.message, data }))
      },
      onProgress: (progress) => {
        const now = options.now()
        if (now - lastProgressAt >= progressIntervalMs) {
          lastProgressAt = now
          heldBack = undefined
          offer(progressCommand(progress))
        } else {
          heldBack = progress
        }
      },
      close: Effect.suspend(() => {
        if (heldBack !== undefined) offer(progressCommand(heldBack))
        heldBack = undefined
        Queue.endUnsafe(queue)
        return Effect.asVoid(Fiber.await(writer))
      }),
    }
  })
