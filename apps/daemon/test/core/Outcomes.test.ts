/**
 * Final states and their events, in-process on the memory store and the
 * test clock: done, continue then done, error (answered or thrown),
 * aborted (answered), maxIterations; each final state runs its hook once.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { probe, trigger, withCore, withStore } from "./CoreFixture.ts"

describe("final states and their hooks", () => {
  it.effect("done → TaskDone{output, message}, then onDone once → HookCompleted", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("hooked", { answer: "done" })
          yield* h.settle
          const events = yield* h.events(id)
          expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone", "HookCompleted"])
          expect(events[1]!.data).toEqual({ iteration: 1, attempt: 1 })
          expect(events[2]!.data).toMatchObject({ output: { answered: "done" }, message: "all good" })
          expect(events[3]!.data).toMatchObject({ hook: "onDone" })
          const state = yield* h.state(id)
          expect(state.status).toBe("done")
          expect(state.context.output).toEqual({ answered: "done" })
          expect(probe).toEqual([`onDone:${id}`])
        })
      )
    ))

  it.effect("continue below maxIterations → IterationContinued with the next input each time, then done", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("counter", { n: 0, target: 2 })
          yield* h.settle
          const events = yield* h.events(id)
          expect(events.map((e) => e.type)).toEqual([
            "TaskTriggered",
            "IterationStarted", "IterationContinued",
            "IterationStarted", "IterationContinued",
            "IterationStarted", "TaskDone",
          ])
          expect(events.filter((e) => e.type === "IterationContinued").map((e) => e.data["input"])).toEqual([
            { n: 1, target: 2 },
            { n: 2, target: 2 },
          ])
          expect(events.filter((e) => e.type === "IterationStarted").map((e) => e.data)).toEqual([
            { iteration: 1, attempt: 1 },
            { iteration: 2, attempt: 1 },
            { iteration: 3, attempt: 1 },
          ])
          // No wait asked for: every step ran at the trigger's instant.
          expect(new Set(events.map((e) => e.at))).toEqual(new Set([0]))
          expect((yield* h.state(id)).context).toMatchObject({ output: { counted: 2 }, iteration: 3, input: { n: 2, target: 2 } })
        })
      )
    ))

  it.effect("error answer → TaskFailed{reason error, message, code}, then onError once", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("hooked", { answer: "error" })
          yield* h.settle
          const events = yield* h.events(id)
          expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "TaskFailed", "HookCompleted"])
          expect(events[2]!.data).toMatchObject({ reason: "error", error: { message: "bad things", code: "E_BAD" } })
          expect(events[3]!.data).toMatchObject({ hook: "onError" })
          const state = yield* h.state(id)
          expect(state.status).toBe("error")
          expect(state.context.failureReason).toBe("error")
          expect(probe).toEqual([`onError:${id}`])
        })
      )
    ))

  it.effect("run throws → TaskFailed{reason thrown} with the thrown message, then onError once", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("hooked", { answer: "throw" })
          yield* h.settle
          const events = yield* h.events(id)
          expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "TaskFailed", "HookCompleted"])
          expect(events[2]!.data).toMatchObject({ reason: "thrown", error: { message: "kaboom" } })
          expect(probe).toEqual([`onError:${id}`])
        })
      )
    ))

  it.effect("aborted answer (no abort asked) → AbortRequested + TaskAborted, then onAbort once", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("hooked", { answer: "aborted" })
          yield* h.settle
          const events = yield* h.events(id)
          // The answer itself asks for the abort: the request is recorded with the outcome.
          expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "AbortRequested", "TaskAborted", "HookCompleted"])
          expect(events[3]!.data).not.toHaveProperty("forced")
          expect(events[4]!.data).toMatchObject({ hook: "onAbort" })
          expect((yield* h.state(id)).status).toBe("aborted")
          expect(probe).toEqual([`onAbort:${id}`])
        })
      )
    ))

  it.effect("continue at maxIterations → MaxIterationsReached, then onMaxIterations once", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("hooked", { answer: "continue" })
          yield* h.settle
          expect(yield* h.types(id)).toEqual([
            "TaskTriggered",
            "IterationStarted", "IterationContinued",
            "IterationStarted", "IterationContinued",
            "IterationStarted", "MaxIterationsReached",
            "HookCompleted",
          ])
          const state = yield* h.state(id)
          expect(state.status).toBe("maxIterations")
          expect(state.context).toMatchObject({ iteration: 3, maxIterations: 3 })
          expect(probe).toEqual([`onMaxIterations:${id}`])
        })
      )
    ))

  it.effect("an iteration that works until isCloseToTimeout() continues at timeout − closeToTimeout, read on the Effect clock", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          // chunked: timeout 10 s, closeToTimeout 3 s, 1 s steps; maxIterations 2.
          const id = yield* trigger("chunked", { steps: 0 })
          yield* h.settle
          for (let s = 0; s < 6; s++) yield* h.advance(1)
          expect(yield* h.types(id)).toEqual(["TaskTriggered", "IterationStarted"])
          yield* h.advance(1)
          const first = yield* h.events(id)
          expect(first.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "IterationContinued", "IterationStarted"])
          expect(first[2]).toMatchObject({ at: 7_000, data: { input: { steps: 7 } } })
          for (let s = 0; s < 7; s++) yield* h.advance(1)
          const events = yield* h.events(id)
          expect(events.at(-1)).toMatchObject({ type: "MaxIterationsReached", at: 14_000 })
          expect((yield* h.state(id)).context.input).toEqual({ steps: 14 })
        })
      )
    ))

  it.effect("a hook that throws → HookFailed with its message; the outcome stays done", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("badHook", { hook: "throws" })
          yield* h.settle
          const events = yield* h.events(id)
          expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone", "HookFailed"])
          expect(events[3]!.data).toMatchObject({ hook: "onDone", error: { message: "hook exploded" } })
          const state = yield* h.state(id)
          expect(state.status).toBe("done")
          expect(state.context.hookFailed).toBe(true)
          expect(probe).toEqual([`onDone:${id}`])
        })
      )
    ))

  it.effect("a hook that never settles → HookFailed{TIMEOUT} at exactly the definition's 10 s timeout; run once", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("badHook", { hook: "hangs" })
          yield* h.settle
          yield* h.advance(9.999)
          expect(yield* h.types(id)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone"])
          yield* h.advance(0.001)
          const events = yield* h.events(id)
          expect(events.map((e) => [e.type, e.at])).toEqual([["TaskTriggered", 0], ["IterationStarted", 0], ["TaskDone", 0], ["HookFailed", 10_000]])
          expect(events[3]!.data).toMatchObject({ hook: "onDone", error: { code: "TIMEOUT" } })
          expect((yield* h.state(id)).status).toBe("done")
          expect(probe).toEqual([`onDone:${id}`])
        })
      )
    ))
})
