/**
 * Hard timeouts and aborts on the test clock: the timeout fires exactly at
 * the definition's `timeout` (not a millisecond before), an abort answered
 * within the grace ends the task aborted, one not answered is forced at the
 * end of `abortGraceSeconds`, and an abort of a waiting task ends it at once.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Tasks } from "../../src/Tasks.ts"
import { epoch, probe, trigger, withCore, withStore } from "./CoreFixture.ts"

const abort = (taskId: string, message?: string) =>
  Effect.flatMap(Tasks, (tasks) => Effect.orDie(tasks.abort(taskId as never, message)))

describe("hard timeout", () => {
  for (const definitionId of ["hanger", "hangerEffect"]) {
    it.effect(`${definitionId === "hanger" ? "a Promise" : "an Effect"} run times out at exactly its 10 s → TaskFailed{reason timeout}`, () =>
      withStore((h) =>
        withCore({}, () =>
          Effect.gen(function*() {
            const id = yield* trigger(definitionId, { id: "t" })
            yield* h.settle
            yield* h.advance(9.999)
            expect(yield* h.status(id)).toBe("running")
            expect(yield* h.types(id)).toEqual(["TaskTriggered", "IterationStarted"])
            yield* h.advance(0.001)
            const events = yield* h.events(id)
            expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "TaskFailed"])
            expect(events[2]).toMatchObject({ at: 10_000, data: { reason: "timeout", error: { message: "iteration 1 ran past its 10 s timeout" } } })
            const state = yield* h.state(id)
            expect(state.status).toBe("error")
            expect(state.context.failureReason).toBe("timeout")
            // An Effect run is interrupted by the timeout; a Promise run is told through its abort signal.
            if (definitionId === "hangerEffect") expect(probe).toEqual(["interrupted:t"])
          })
        )
      ))
  }

  it.effect("a timeout with a retry policy → RetryScheduled at +30 s, attempt 2 times out too → TaskFailed", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("retryingHanger", {})
          yield* h.settle
          yield* h.advance(10)
          const first = yield* h.events(id)
          expect(first.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "RetryScheduled"])
          expect(first[2]).toMatchObject({ at: 10_000, data: { reason: "timeout" } })
          expect(first[2]!.data["wakeAt"]).toBe(epoch + 40_000)
          expect(yield* h.status(id)).toBe("continue")
          yield* h.advance(29.999)
          expect((yield* h.types(id)).length).toBe(3)
          yield* h.advance(0.001)
          yield* h.advance(10)
          const events = yield* h.events(id)
          expect(events.map((e) => [e.type, e.at])).toEqual([
            ["TaskTriggered", 0],
            ["IterationStarted", 0],
            ["RetryScheduled", 10_000],
            ["IterationStarted", 40_000],
            ["TaskFailed", 50_000],
          ])
          expect(events[3]!.data).toEqual({ iteration: 1, attempt: 2 })
          expect(events[4]!.data).toMatchObject({ reason: "timeout" })
        })
      )
    ))
})

describe("abort", () => {
  it.effect("while running, answered at once → AbortRequested then TaskAborted at the same instant (not forced)", () =>
    withStore((h) =>
      withCore({ abortGraceSeconds: 5 }, () =>
        Effect.gen(function*() {
          const id = yield* trigger("aborter", {})
          yield* h.settle
          yield* h.advance(3)
          const requested = yield* abort(id, "stop please")
          expect(requested.status).toBe("running")
          expect(requested.context.abortRequested).toBe(true)
          yield* h.settle
          const events = yield* h.events(id)
          expect(events.map((e) => [e.type, e.at])).toEqual([
            ["TaskTriggered", 0],
            ["IterationStarted", 0],
            ["AbortRequested", 3_000],
            ["TaskAborted", 3_000],
          ])
          expect(events[3]!.data).not.toHaveProperty("forced")
          expect((yield* h.state(id)).context.abortMessage).toBe("stop please")
        })
      )
    ))

  it.effect("while running, not answered → TaskAborted{forced} exactly when the 5 s grace ends", () =>
    withStore((h) =>
      withCore({ abortGraceSeconds: 5 }, () =>
        Effect.gen(function*() {
          const id = yield* trigger("stubborn", {})
          yield* h.settle
          yield* h.advance(1)
          yield* abort(id)
          yield* h.settle
          yield* h.advance(4.999)
          expect(yield* h.status(id)).toBe("running")
          expect(yield* h.types(id)).toEqual(["TaskTriggered", "IterationStarted", "ProgressUpdated", "AbortRequested"])
          yield* h.advance(0.001)
          const events = yield* h.events(id)
          expect(events.map((e) => [e.type, e.at])).toEqual([
            ["TaskTriggered", 0],
            ["IterationStarted", 0],
            ["ProgressUpdated", 0],
            ["AbortRequested", 1_000],
            ["TaskAborted", 6_000],
          ])
          expect(events[4]!.data).toMatchObject({ forced: true })
          expect(yield* h.status(id)).toBe("aborted")
        })
      )
    ))

  it.effect("while triggered with a delay → AbortRequested + TaskAborted at once; it never runs, also past its wake time", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("quick", {}, { delaySeconds: 30 })
          yield* h.settle
          const aborted = yield* abort(id, "changed my mind")
          expect(aborted.status).toBe("aborted")
          yield* h.advance(60)
          expect(yield* h.types(id)).toEqual(["TaskTriggered", "AbortRequested", "TaskAborted"])
        })
      )
    ))

  it.effect("while waiting for a delayed continue → aborted, no further iteration past the wake time", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("counter", { n: 0, target: 5, delaySeconds: 20 })
          yield* h.settle
          expect((yield* h.state(id)).context.wakeAt).toBe(epoch + 20_000)
          yield* h.advance(5)
          const aborted = yield* abort(id)
          expect(aborted.status).toBe("aborted")
          expect(aborted.context.wakeAt).toBeUndefined()
          yield* h.advance(30)
          const types = yield* h.types(id)
          expect(types.slice(-2)).toEqual(["AbortRequested", "TaskAborted"])
          expect(types.filter((t) => t === "IterationStarted")).toHaveLength(1)
        })
      )
    ))

  it.effect("of a parent cascades to its running children: each gets AbortRequested, answers, ends aborted", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const parent = yield* trigger("parent", { children: 2 })
          yield* h.settle
          const page = yield* Effect.orDie(h.store.listTasks({ parentId: parent as never }))
          const children = page.tasks.map((task) => task.context.taskId as string)
          expect(children).toHaveLength(2)
          expect(page.tasks.map((task) => task.status)).toEqual(["running", "running"])
          yield* abort(parent, "enough")
          yield* h.settle
          expect(yield* h.status(parent)).toBe("aborted")
          for (const child of children) {
            expect(yield* h.types(child)).toEqual(["TaskTriggered", "IterationStarted", "AbortRequested", "TaskAborted"])
            expect((yield* h.state(child)).context.abortMessage).toBe(`parent ${parent} was aborted`)
          }
        })
      )
    ))
})
