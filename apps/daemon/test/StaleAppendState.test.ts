/**
 * Tasks.execute over a store whose `getTaskToAppend` answers an older state
 * than the stored one, as a cluster node's PostgreSQL store does for a task
 * another node moved on (here: the memory store, with a chosen task's
 * append-state pinned to an earlier version). A decision on it that appends
 * conflicts and is decided again on the stored state; one that appends
 * nothing (a refusal) is decided again too, so the caller gets the answer
 * the stored state gives and nothing extra is written.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventStore, Lifecycle, type Replay } from "@tasklane/core"
import type { Ids } from "@tasklane/core"
import { TaskDefinition } from "@tasklane/tasks"
import { Effect, Layer } from "effect"
import * as CommandSide from "./CommandSide.ts"
import { Tasks } from "../src/Tasks.ts"

class Wait implements TaskDefinition.Interface {
  readonly id = "wait"
  readonly title = "Never runs here (no scheduler)"
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

/** Append-states pinned by the test, by task; the others are the store's. */
const pinned = new Map<string, Replay.TaskState>()
/** How often `getTaskToAppend` answered a pinned state. */
const served = { count: 0 }

const staleStore = CommandSide.memoryStoreWith((inner) => ({
  getTaskToAppend: (stream) => {
    const state = pinned.get(stream)
    if (state === undefined) return inner.getTaskToAppend(stream)
    served.count++
    return Effect.succeed(state)
  },
}))

const withTasks = <A, E>(use: Effect.Effect<A, E, Tasks | EventStore.EventStore>) =>
  Effect.suspend(() => {
    pinned.clear()
    served.count = 0
    const layer = CommandSide.layer({ concurrency: 0, implementations: [TaskDefinition.createImplementation({ implementation: Wait })] }).pipe(
      Layer.provideMerge(staleStore),
    )
    return Effect.provide(use, layer)
  })

/** The task service, the store, and a new task waiting (triggered, no slot free). */
const waitingTask = Effect.gen(function*() {
  const tasks = yield* Tasks
  const store = yield* EventStore.EventStore
  const triggered = yield* tasks.trigger({ definitionId: "wait", input: {} })
  return { tasks, store, triggered, taskId: triggered.context.taskId as Ids.TaskId }
})

describe("Tasks.execute on an append-state older than the stored one", () => {
  it.live("an append decided on it conflicts and is decided again on the stored state", () =>
    withTasks(Effect.gen(function*() {
      const { tasks, store, triggered, taskId } = yield* waitingTask
      // Another writer started the iteration meanwhile (version 2).
      yield* tasks.execute(taskId, { _tag: "StartIteration" })
      expect((yield* tasks.get(taskId)).status).toBe("running")
      pinned.set(taskId, triggered)
      // Decided on "triggered", a Progress is refused; decided again on "running", it is recorded.
      const after = yield* tasks.execute(taskId, { _tag: "Progress", progress: { completed: 1, total: 2 }, expect: { iteration: 1, attempt: 1 } })
      expect(after.context.progress).toEqual({ completed: 1, total: 2 })
      expect(served.count).toBe(1)
      expect((yield* store.readStream(taskId)).map((e) => e.event._tag)).toEqual(["TaskTriggered", "IterationStarted", "ProgressUpdated"])
    })))

  it.live("a start decided on it conflicts, and the stored state's answer is the caller's: nothing is written twice", () =>
    withTasks(Effect.gen(function*() {
      const { tasks, store, triggered, taskId } = yield* waitingTask
      yield* tasks.execute(taskId, { _tag: "StartIteration" })
      pinned.set(taskId, triggered)
      // On "triggered" a start appends IterationStarted at version 1: a conflict; on "running" it is refused.
      const refused = yield* Effect.flip(tasks.execute(taskId, { _tag: "StartIteration" }))
      expect(refused).toBeInstanceOf(Lifecycle.CommandRejected)
      expect(served.count).toBe(1)
      expect((yield* store.readStream(taskId)).map((e) => e.event._tag)).toEqual(["TaskTriggered", "IterationStarted"])
    })))
})
