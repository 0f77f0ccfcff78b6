/**
 * Fencing in the running core (DESIGN §8), in-process on the memory store and
 * the test clock: what this daemon's runner records for an iteration that was
 * taken over meanwhile (written here through the task service, as another
 * node would write it) is refused and dropped; a daemon that is a node of a
 * cluster records its node id on every IterationStarted it writes.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Ids } from "@tasklane/core"
import { Effect, Logger } from "effect"
import { Runner } from "../../src/Runner.ts"
import { Tasks } from "../../src/Tasks.ts"
import { probe, trigger, withCore, withStore } from "./CoreFixture.ts"

/** What the core logged, level and message; `capture` collects into it. */
const logged: Array<{ readonly level: string; readonly message: string }> = []
const capture = Logger.layer([Logger.make(({ logLevel, message }) => void logged.push({ level: logLevel, message: String(message) }))])

const execute = (taskId: string, command: Parameters<Tasks["Service"]["execute"]>[1]) =>
  Effect.flatMap(Tasks, (tasks) => Effect.orDie(tasks.execute(taskId as Ids.TaskId, command)))

describe("fencing in the core", () => {
  for (const nodeId of [undefined, "node-a"]) {
    it.effect(`a late result, log line and progress of a superseded attempt are dropped, noted at info level (${nodeId === undefined ? "alone" : "as a node"})`, () =>
      withStore((h) =>
        withCore(nodeId === undefined ? {} : { nodeId }, () =>
          Effect.gen(function*() {
            logged.length = 0
            const id = yield* trigger("lateReporter", { seconds: 10, tag: "a" })
            yield* h.advance(1)
            expect(yield* h.state(id)).toMatchObject({ status: "running", context: { iteration: 1, attempt: 1 } })
            // Another node finds this one's lease expired: attempt 1 interrupted, attempt 2 started there.
            yield* execute(id, { _tag: "Interrupt", reason: "crash" })
            yield* execute(id, { _tag: "StartIteration", node: "node-b" })
            yield* h.settle
            expect((yield* Runner).runningCount()).toBe(1)
            // Attempt 1 still runs here, and now reports: a log line, progress, done.
            yield* h.advance(10)
            expect(probe).toEqual(["report:a"])
            expect((yield* Runner).runningCount()).toBe(0)
            const events = yield* h.events(id)
            expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "IterationInterrupted", "IterationStarted"])
            expect(events[3]!.data).toEqual({ iteration: 1, attempt: 2, node: "node-b" })
            const state = yield* h.state(id)
            expect(state).toMatchObject({ status: "running", context: { iteration: 1, attempt: 2, node: "node-b", logCount: 0 } })
            expect(state.context.progress).toBeUndefined()
            const lost = nodeId === undefined ? "is no longer running" : "was taken over by another node"
            expect(logged.filter((line) => line.message.includes(id))).toEqual(["log line", "progress", "result"].map((what) => ({
              level: "Info",
              message: `task ${id}: iteration 1 attempt 1 ${lost}; its ${what} is dropped`,
            })))
          })
        ).pipe(Effect.provide(capture))
      ))
  }

  it.effect("a shutdown does not interrupt the attempt another node took over", () =>
    withStore((h) =>
      withCore({ nodeId: "node-a" }, (stop) =>
        Effect.gen(function*() {
          logged.length = 0
          const id = yield* trigger("lateReporter", { seconds: 10, tag: "c" })
          yield* h.advance(1)
          yield* execute(id, { _tag: "Interrupt", reason: "crash" })
          yield* execute(id, { _tag: "StartIteration", node: "node-b" })
          yield* stop
          expect(probe).toEqual([])
          expect(yield* h.types(id)).toEqual(["TaskTriggered", "IterationStarted", "IterationInterrupted", "IterationStarted"])
          expect(yield* h.state(id)).toMatchObject({ status: "running", context: { attempt: 2, node: "node-b" } })
          expect(logged.filter((line) => line.message.includes(id))).toEqual([
            { level: "Info", message: `task ${id}: iteration 1 attempt 1 was taken over by another node; its interruption is dropped` },
          ])
        })
      ).pipe(Effect.provide(capture))
    ))

  it.effect("the same iteration, not taken over, records everything (the fence lets the current attempt through)", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("lateReporter", { seconds: 10, tag: "b" })
          yield* h.advance(10)
          expect(yield* h.types(id)).toEqual(["TaskTriggered", "IterationStarted", "TaskLogged", "ProgressUpdated", "TaskDone"])
        })
      )
    ))

  it.effect("a node records its id on the IterationStarted of a started trigger, of a next start after a wait and of a continue's next start", () =>
    withStore((h) =>
      withCore({ nodeId: "node-a" }, () =>
        Effect.gen(function*() {
          const waits = yield* trigger("counter", { n: 0, target: 1, delaySeconds: 5 })
          const goes = yield* trigger("counter", { n: 0, target: 1 })
          yield* h.settle
          yield* h.advance(5)
          for (const id of [waits, goes]) {
            const events = yield* h.events(id)
            expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "IterationContinued", "IterationStarted", "TaskDone"])
            expect(events.filter((e) => e.type === "IterationStarted").map((e) => e.data)).toEqual([
              { iteration: 1, attempt: 1, node: "node-a" },
              { iteration: 2, attempt: 1, node: "node-a" },
            ])
            expect((yield* h.state(id)).context.node).toBeUndefined()
          }
        })
      )
    ))

  it.effect("a daemon alone records no node anywhere", () =>
    withStore((h) =>
      withCore({}, () =>
        Effect.gen(function*() {
          const id = yield* trigger("counter", { n: 0, target: 1 })
          yield* h.settle
          const started = (yield* h.events(id)).filter((e) => e.type === "IterationStarted")
          expect(started.map((e) => e.data)).toEqual([{ iteration: 1, attempt: 1 }, { iteration: 2, attempt: 1 }])
        })
      )
    ))
})
