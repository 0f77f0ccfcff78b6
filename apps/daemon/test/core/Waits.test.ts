/**
 * Everything that waits on the clock, on the test clock: retries run after
 * their backoff (5 s, then 15 s), a delayed continue and a delayed trigger
 * start exactly at their wake time, never a millisecond before.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { epoch, trigger, withCore, withStore } from "./CoreFixture.ts"

describe("waits", () => {
  it.effect("retries with backoff: attempt 2 at +5 s, attempt 3 at +15 s more, then done", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("retrying", { key: "a" })
          yield* h.settle
          const first = yield* h.events(id)
          expect(first.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "RetryScheduled"])
          expect(first[2]!.data).toMatchObject({ reason: "error", error: { message: "attempt 1 failed" }, wakeAt: epoch + 5_000 })
          yield* h.advance(4.999)
          expect((yield* h.types(id)).length).toBe(3)
          expect(yield* h.status(id)).toBe("continue")
          yield* h.advance(0.001)
          const second = yield* h.events(id)
          expect(second.slice(3).map((e) => [e.type, e.at])).toEqual([["IterationStarted", 5_000], ["RetryScheduled", 5_000]])
          expect(second[3]!.data).toEqual({ iteration: 1, attempt: 2 })
          expect(second[4]!.data).toMatchObject({ error: { message: "attempt 2 failed" }, wakeAt: epoch + 20_000 })
          yield* h.advance(14.999)
          expect((yield* h.types(id)).length).toBe(5)
          yield* h.advance(0.001)
          const events = yield* h.events(id)
          expect(events.slice(5).map((e) => [e.type, e.at])).toEqual([["IterationStarted", 20_000], ["TaskDone", 20_000]])
          expect(events[5]!.data).toEqual({ iteration: 1, attempt: 3 })
          expect((yield* h.state(id)).context).toMatchObject({ output: { attempts: 3 }, iteration: 1, attempt: 3 })
        })
      )
    ))

  it.effect("a delayed continue runs at its wake time, not before: 30 s between iterations", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("counter", { n: 0, target: 2, delaySeconds: 30 })
          yield* h.settle
          expect(yield* h.state(id)).toMatchObject({ status: "continue", context: { wakeAt: epoch + 30_000 } })
          yield* h.advance(29.999)
          expect((yield* h.types(id)).filter((t) => t === "IterationStarted")).toHaveLength(1)
          yield* h.advance(0.001)
          expect((yield* h.state(id)).context).toMatchObject({ iteration: 2, wakeAt: epoch + 60_000 })
          yield* h.advance(29.999)
          expect(yield* h.status(id)).toBe("continue")
          yield* h.advance(0.001)
          const events = yield* h.events(id)
          expect(events.map((e) => [e.type, e.at])).toEqual([
            ["TaskTriggered", 0],
            ["IterationStarted", 0],
            ["IterationContinued", 0],
            ["IterationStarted", 30_000],
            ["IterationContinued", 30_000],
            ["IterationStarted", 60_000],
            ["TaskDone", 60_000],
          ])
          expect(events[2]!.data).toEqual({ input: { n: 1, target: 2, delaySeconds: 30 }, wakeAt: epoch + 30_000 })
        })
      )
    ))

  it.effect("a delayed trigger starts at its delay, not before", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          yield* h.advance(1)
          const id = yield* trigger("quick", { late: true }, { delaySeconds: 12 })
          yield* h.settle
          expect(yield* h.state(id)).toMatchObject({ status: "triggered", context: { wakeAt: epoch + 13_000 } })
          yield* h.advance(11.999)
          expect(yield* h.types(id)).toEqual(["TaskTriggered"])
          yield* h.advance(0.001)
          expect((yield* h.events(id)).map((e) => [e.type, e.at])).toEqual([["TaskTriggered", 1_000], ["IterationStarted", 13_000], ["TaskDone", 13_000]])
          expect((yield* h.state(id)).context.output).toEqual({ echoed: { late: true } })
        })
      )
    ))

  it.effect("delayed tasks wake in wake-time order, each at its own time", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const late = yield* trigger("quick", { which: "late" }, { delaySeconds: 20 })
          const early = yield* trigger("quick", { which: "early" }, { delaySeconds: 10 })
          yield* h.settle
          yield* h.advance(10)
          expect(yield* h.status(early)).toBe("done")
          expect(yield* h.status(late)).toBe("triggered")
          yield* h.advance(10)
          expect(yield* h.status(late)).toBe("done")
          expect((yield* h.events(early)).at(-1)!.at).toBe(10_000)
          expect((yield* h.events(late)).at(-1)!.at).toBe(20_000)
        })
      )
    ))
})
