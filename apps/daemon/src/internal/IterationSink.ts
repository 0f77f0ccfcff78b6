/**
 * Where a running iteration's side facts go: log lines and progress reported
 * synchronously by the controller are queued in order and recorded by one
 * fiber (started on the first line, so a quiet iteration costs nothing), so they land in the task's stream in the order they were made and
 * before the iteration's outcome. Progress is recorded at most once per
 * second; the last value held back is flushed when the iteration ends.
 * Every command carries the iteration it belongs to (`expect`), so a line
 * that arrives after the iteration was taken over is refused, not stored.
 */
import { type Context, Effect, Fiber } from "effect"
import type { Lifecycle } from "@tasklane/core"
import type { TaskDefinition } from "@tasklane/tasks/host"
import { defined } from "./Defined.ts"

/** Minimum time between two recorded progress updates of one task. */
export const progressIntervalMs = 1000

/** The sink of one iteration: callbacks for the controller, and `close` to flush and wait. */
export interface IterationSink {
  readonly onLog: (entry: TaskDefinition.LogEntry) => void
  readonly onProgress: (progress: TaskDefinition.Progress) => void
  /** Flushes held-back progress, records everything queued, and stops. */
  readonly close: Effect.Effect<void>
}

/** The sink for one iteration; `record` stores one command (failures are the caller's to log), run with `context`. */
export const make = (options: {
  /** The iteration and attempt the sink's commands belong to. */
  readonly expect: Lifecycle.Expect
  readonly databaseLogs: boolean
  readonly now: () => number
  readonly record: (command: Lifecycle.Command) => Effect.Effect<void>
  readonly context: Context.Context<never>
}): IterationSink => {
  const { context, expect } = options
  // Commands wait here in order; one fiber records them, started by the first command (none for quiet iterations).
  let pending: Array<Lifecycle.Command> = []
  let writer: Fiber.Fiber<void> | undefined
  const drain: Effect.Effect<void> = Effect.suspend(() => {
    if (pending.length === 0) return Effect.void
    const batch = pending
    pending = []
    return Effect.andThen(Effect.forEach(batch, options.record, { discard: true }), drain)
  })
  const offer = (command: Lifecycle.Command) => {
    pending.push(command)
    writer ??= Effect.runForkWith(context)(Effect.ensuring(drain, Effect.sync(() => (writer = undefined))))
  }
  let lastProgressAt = Number.NEGATIVE_INFINITY
  let heldBack: TaskDefinition.Progress | undefined
  const progressCommand = (progress: TaskDefinition.Progress): Lifecycle.Command => ({
    _tag: "Progress",
    progress: defined({ completed: progress.completed, total: progress.total, message: progress.message }),
    expect,
  })

  return {
    onLog: (entry) => {
      if (!options.databaseLogs) return
      const data = entry.error === undefined ? entry.data : defined({ data: entry.data, error: entry.error })
      offer(defined({ _tag: "Log" as const, level: entry.level, message: entry.message, data, expect }))
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
      if (heldBack !== undefined) pending.push(progressCommand(heldBack))
      heldBack = undefined
      return Effect.andThen(writer === undefined ? Effect.void : Fiber.await(writer), drain)
    }),
  }
}
