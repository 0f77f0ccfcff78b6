/**
 * toEffect: one Effect from whatever `run` or a hook answered.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { TaskDefinition } from "../src/host.ts"

describe("toEffect", () => {
  it.effect("passes values, resolved Promises and Effects through", () =>
    Effect.gen(function*() {
      expect(yield* TaskDefinition.toEffect(() => 1)).toBe(1)
      expect(yield* TaskDefinition.toEffect(() => Promise.resolve(2))).toBe(2)
      expect(yield* TaskDefinition.toEffect(() => Effect.succeed(3))).toBe(3)
    }))

  it.effect("turns a synchronous throw and a rejection into failures carrying the thrown value", () =>
    Effect.gen(function*() {
      const thrown = new Error("sync")
      const rejected = new Error("async")
      expect(yield* Effect.flip(TaskDefinition.toEffect(() => {
        throw thrown
      }))).toBe(thrown)
      expect(yield* Effect.flip(TaskDefinition.toEffect(() => Promise.reject(rejected)))).toBe(rejected)
      expect(yield* Effect.flip(TaskDefinition.toEffect(() => Effect.fail("typed")))).toBe("typed")
    }))

  it.effect("is lazy: nothing runs until the Effect does, and each run evaluates again", () =>
    Effect.gen(function*() {
      let calls = 0
      const effect = TaskDefinition.toEffect(() => ++calls)
      expect(calls).toBe(0)
      yield* effect
      yield* effect
      expect(calls).toBe(2)
    }))

  it.effect("lets the daemon interrupt an Effect run on timeout", () =>
    Effect.gen(function*() {
      let finished = false
      const run = TaskDefinition.toEffect(() =>
        Effect.sleep("20 minutes").pipe(Effect.andThen(Effect.sync(() => (finished = true))))
      )
      const fiber = yield* Effect.forkChild(Effect.exit(Effect.timeout(run, "15 minutes")))
      yield* TestClock.adjust("15 minutes")
      const exit = yield* Fiber.join(fiber)
      expect(Exit.isFailure(exit)).toBe(true)
      yield* TestClock.adjust("10 minutes")
      expect(finished).toBe(false)
    }))
})
