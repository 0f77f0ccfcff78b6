/**
 * TriggerMany's point, measured in commits: the task service on a real
 * LevelDB store (temp dir; `onBatch` counts the synced group commits)
 * appends a batch's valid triggers together, so 1,000 triggers take a few
 * commits (3 to 20 here, depending on how fast the disk syncs) where
 * Triggers one after another take one each. No
 * scheduler runs here: the tasks stay triggered (or admitted), which is all
 * the commits are about.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventStore, TaskRpc } from "@tasklane/core"
import { LevelEventStore } from "@tasklane/core/level"
import { TaskDefinition } from "@tasklane/tasks/host"
import { Effect, Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as CommandSide from "./CommandSide.ts"
import * as TaskErrors from "../src/TaskErrors.ts"
import { Tasks } from "../src/Tasks.ts"

class Noop implements TaskDefinition.Interface {
  readonly id = "noop"
  readonly title = "Answers done at once"
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

/** `f` with the task service. */
const withService = <A, E>(f: (tasks: Tasks["Service"]) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    return yield* f(yield* Tasks)
  })

/** The task service over a fresh LevelDB store; `batches` receives every group commit. */
const withTasks = <A, E>(use: Effect.Effect<A, E, Tasks>) =>
  Effect.gen(function*() {
    const dir = mkdtempSync(join(tmpdir(), "tl-commits-"))
    const batches: Array<EventStore.BatchInfo> = []
    const layer = CommandSide.layer({ concurrency: 4, implementations: [TaskDefinition.createImplementation({ implementation: Noop })] }).pipe(
      Layer.provideMerge(LevelEventStore.layer({ directory: join(dir, "store"), onBatch: (info) => void batches.push(info) })),
    )
    const result = yield* use.pipe(Effect.provide(layer), Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
    return { result, batches }
  })

describe("TriggerMany commits", () => {
  it.live("1,000 triggers in one request reach the writer together and take a few group commits; one by one they take one each", () =>
    Effect.gen(function*() {
      const triggers = Array.from({ length: 1_000 }, (_, i) => ({ definitionId: "noop", input: { i } }))
      const many = yield* withTasks(withService((tasks) => tasks.triggerMany(triggers)))
      expect(many.result.every((outcome) => outcome._tag === "Triggered")).toBe(true)
      // The first four took the free slots (their start is in their trigger's commit): 1,004 events.
      expect(many.batches.reduce((sum, b) => sum + b.events, 0)).toBe(1_004)
      // All 1,000 reach the writer at once: its first group is as large as it makes one while the disk is idle
      // (256 events); how the rest is grouped depends on how fast the disk syncs (on tmpfs, a write is over
      // before the next group is full), but it is never close to one commit per task.
      expect(many.batches[0]!.appends).toBe(252)
      expect(many.batches.length).toBeLessThan(100)

      const single = yield* withTasks(
        withService((tasks) => Effect.forEach(triggers.slice(0, 200), (request) => tasks.trigger(request))),
      )
      expect(single.batches.length).toBe(200)
    }), 60_000)

  it.live("a refused item costs no write; the cap refuses the request before anything is checked", () =>
    Effect.gen(function*() {
      const { result, batches } = yield* withTasks(withService((tasks) =>
        Effect.all([
          tasks.triggerMany([{ definitionId: "nope", input: {} }, { definitionId: "noop", input: {} }]),
          Effect.flip(tasks.triggerMany(Array.from({ length: TaskRpc.maxTriggersPerRequest + 1 }, () => ({ definitionId: "noop", input: {} })))),
        ])))
      expect(result[0].map((outcome) => outcome._tag)).toEqual(["TriggerItemRefused", "Triggered"])
      // The service's own error; the RPC edge answers it as TaskRpc.TooManyTriggers (test/daemon/TriggerMany.test.ts).
      expect(result[1]).toBeInstanceOf(TaskErrors.BatchTooLarge)
      expect(batches.reduce((sum, b) => sum + b.appends, 0)).toBe(1)
    }), 60_000)
})
