/**
 * Concurrency limits on the test clock: with 2 global slots four 10 s tasks
 * run two at a time in trigger order; a definition limited to one runs its
 * tasks one after another while other definitions still run.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Scheduler } from "../../src/Scheduler.ts"
import { Tasks } from "../../src/Tasks.ts"
import { probe, trigger, withCore, withStore } from "./CoreFixture.ts"

describe("slots", () => {
  it.effect("global concurrency 2: four 10 s tasks run two at a time, in trigger order", () =>
    withStore((h) =>
      withCore({ concurrency: 2 }, () =>
        Effect.gen(function*() {
          const scheduler = yield* Scheduler
          const ids: Array<string> = []
          for (const tag of ["a", "b", "c", "d"]) ids.push(yield* trigger("sleeper", { seconds: 10, tag }))
          yield* h.settle
          expect(probe).toEqual(["start:a", "start:b"])
          expect(scheduler.runningCount()).toBe(2)
          expect(scheduler.queuedCount()).toBe(2)
          expect(yield* Effect.forEach(ids, h.status)).toEqual(["running", "running", "triggered", "triggered"])
          yield* h.advance(9.999)
          expect(probe).toEqual(["start:a", "start:b"])
          yield* h.advance(0.001)
          expect(probe).toEqual(["start:a", "start:b", "end:a", "end:b", "start:c", "start:d"])
          expect(scheduler.runningCount()).toBe(2)
          yield* h.advance(10)
          expect(yield* Effect.forEach(ids, h.status)).toEqual(["done", "done", "done", "done"])
          const spans = yield* Effect.forEach(ids, (id) =>
            Effect.map(h.events(id), (events) => [events.find((e) => e.type === "IterationStarted")!.at, events.at(-1)!.at]))
          expect(spans).toEqual([[0, 10_000], [0, 10_000], [10_000, 20_000], [10_000, 20_000]])
          expect(scheduler.runningCount()).toBe(0)
          expect(scheduler.queuedCount()).toBe(0)
        })
      )
    ))

  it.effect("a definition's own limit of 1 runs its tasks one after another; another definition is not held up", () =>
    withStore((h) =>
      withCore({ concurrency: 8 }, () =>
        Effect.gen(function*() {
          const serial: Array<string> = []
          for (const tag of ["s1", "s2", "s3"]) serial.push(yield* trigger("serial", { seconds: 10, tag }))
          const other = yield* trigger("sleeper", { seconds: 10, tag: "other" })
          yield* h.settle
          expect(probe).toEqual(["start:s1", "start:other"])
          for (let i = 0; i < 3; i++) yield* h.advance(10)
          expect(probe).toEqual(["start:s1", "start:other", "end:s1", "end:other", "start:s2", "end:s2", "start:s3", "end:s3"])
          const starts = yield* Effect.forEach(serial, (id) => Effect.map(h.events(id), (events) => events.find((e) => e.type === "IterationStarted")!.at))
          expect(starts).toEqual([0, 10_000, 20_000])
          expect(yield* h.status(other)).toBe("done")
        })
      )
    ))

  it.effect("a task aborted while it waits for a slot leaves the queue and never runs", () =>
    withStore((h) =>
      withCore({ concurrency: 1 }, () =>
        Effect.gen(function*() {
          const scheduler = yield* Scheduler
          const first = yield* trigger("sleeper", { seconds: 10, tag: "first" })
          const queued = yield* trigger("sleeper", { seconds: 10, tag: "queued" })
          const next = yield* trigger("sleeper", { seconds: 10, tag: "next" })
          yield* h.settle
          expect(scheduler.queuedCount()).toBe(2)
          const tasks = yield* Tasks
          expect((yield* Effect.orDie(tasks.abort(queued as never, undefined))).status).toBe("aborted")
          yield* h.settle
          expect(scheduler.queuedCount()).toBe(1)
          yield* h.advance(10)
          expect(probe).toEqual(["start:first", "end:first", "start:next"])
          yield* h.advance(10)
          expect(yield* Effect.forEach([first, queued, next], h.status)).toEqual(["done", "aborted", "done"])
          expect(yield* h.types(queued)).toEqual(["TaskTriggered", "AbortRequested", "TaskAborted"])
        })
      )
    ))
})
