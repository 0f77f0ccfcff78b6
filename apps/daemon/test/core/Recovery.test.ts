/**
 * Restarts on the same store, on the test clock. The store is kept outside
 * the core; a crash is the store as a daemon that died leaves it (written by
 * the task service alone, with no runner to finish anything), a shutdown is
 * the core's scope closed with its grace. The next core's start-up rule:
 * an iteration it died in is recorded interrupted and runs again (a poison
 * task past `maxCrashRetries` ends `crashedDaemon`), a hook whose result
 * was not recorded runs again once, and waiting tasks keep their wake time.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Ids } from "@tasklane/core"
import { Effect, Layer } from "effect"
import { Tasks } from "../../src/Tasks.ts"
import { epoch, probe, tasksOnly, trigger, withCore, withStore } from "./CoreFixture.ts"

/** Runs `f` with the task service alone on the store in context, then drops it: what it wrote is what a crash leaves. */
const beforeCrash = <A, E>(f: Effect.Effect<A, E, Tasks>) =>
  Effect.scoped(Effect.flatMap(Layer.build(tasksOnly), (context) => f.pipe(Effect.provideContext(context))))

const execute = (taskId: string, command: Parameters<Tasks["Service"]["execute"]>[1]) =>
  Effect.flatMap(Tasks, (tasks) => Effect.orDie(tasks.execute(taskId as Ids.TaskId, command)))

describe("crash recovery", () => {
  it.effect("an iteration the daemon died in → IterationInterrupted{crash} at the next start, run again (attempt 2) to done", () =>
    withStore((h) =>
      Effect.gen(function*() {
        // A free slot: the first iteration starts in the trigger's own commit; nothing will ever finish it.
        const id = yield* beforeCrash(trigger("sleeper", { seconds: 10, tag: "a" }))
        expect(yield* h.status(id)).toBe("running")
        yield* h.advance(60)
        yield* withCore({}, () =>
          Effect.gen(function*() {
            yield* h.settle
            expect(yield* h.types(id)).toEqual(["TaskTriggered", "IterationStarted", "IterationInterrupted", "IterationStarted"])
            expect(probe).toEqual(["start:a"])
            yield* h.advance(9.999)
            expect(yield* h.status(id)).toBe("running")
            yield* h.advance(0.001)
            const events = yield* h.events(id)
            expect(events.map((e) => [e.type, e.at])).toEqual([
              ["TaskTriggered", 0],
              ["IterationStarted", 0],
              ["IterationInterrupted", 60_000],
              ["IterationStarted", 60_000],
              ["TaskDone", 70_000],
            ])
            expect(events[2]!.data).toEqual({ iteration: 1, reason: "crash" })
            expect(events[3]!.data).toEqual({ iteration: 1, attempt: 2 })
            expect(probe).toEqual(["start:a", "end:a"])
          })
        )
      })
    ))

  it.effect("a poison task (died in maxCrashRetries times already) ends crashedDaemon at the next start and is not run", () =>
    withStore((h) =>
      Effect.gen(function*() {
        // sleeper allows 2 crash re-runs: the store after two crashes and the third start.
        const id = yield* beforeCrash(Effect.gen(function*() {
          const id = yield* trigger("sleeper", { seconds: 10, tag: "p" })
          for (let crash = 0; crash < 2; crash++) {
            yield* execute(id, { _tag: "Interrupt", reason: "crash" })
            yield* execute(id, { _tag: "StartIteration" })
          }
          return id
        }))
        expect((yield* h.state(id)).context.attempt).toBe(3)
        yield* withCore({}, () =>
          Effect.gen(function*() {
            yield* h.settle
            yield* h.advance(60)
            const events = yield* h.events(id)
            expect(events.slice(-2).map((e) => e.type)).toEqual(["IterationInterrupted", "TaskFailed"])
            expect(events.at(-1)!.data).toMatchObject({ reason: "crashedDaemon", error: { code: "CRASHED_DAEMON" } })
            expect(yield* h.status(id)).toBe("error")
            expect(probe).toEqual([])
          })
        )
      })
    ))

  it.effect("a hook whose result was not recorded runs again at the next start, once", () =>
    withStore((h) =>
      Effect.gen(function*() {
        const id = yield* beforeCrash(Effect.gen(function*() {
          const id = yield* trigger("hooked", { answer: "done" })
          yield* execute(id, { _tag: "Complete", result: { _tag: "Done", output: { answered: "done" } } })
          return id
        }))
        expect(yield* h.types(id)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone"])
        expect(probe).toEqual([])
        yield* withCore({}, () =>
          Effect.gen(function*() {
            yield* h.settle
            expect(yield* h.types(id)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone", "HookCompleted"])
            expect(probe).toEqual([`onDone:${id}`])
          })
        )
        // Recorded: a second start does not run it again.
        yield* withCore({}, () => h.settle)
        expect(probe).toEqual([`onDone:${id}`])
        expect(yield* h.types(id)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone", "HookCompleted"])
      })
    ))

  it.effect("a task triggered but not started when the daemon died runs at the next start", () =>
    withStore((h) =>
      Effect.gen(function*() {
        const id = yield* beforeCrash(Effect.gen(function*() {
          const tasks = yield* Tasks
          // Delayed by 5 s: not admitted at its trigger, so it is only triggered when the daemon dies.
          return (yield* Effect.orDie(tasks.trigger({ definitionId: "quick", input: { i: 1 }, delaySeconds: 5 }))).context.taskId as string
        }))
        yield* withCore({}, () =>
          Effect.gen(function*() {
            yield* h.settle
            yield* h.advance(4.999)
            expect(yield* h.status(id)).toBe("triggered")
            yield* h.advance(0.001)
            expect((yield* h.events(id)).map((e) => [e.type, e.at])).toEqual([["TaskTriggered", 0], ["IterationStarted", 5_000], ["TaskDone", 5_000]])
          })
        )
      })
    ))
})

describe("graceful restart", () => {
  it.effect("shutdown mid-iteration: the grace passes, IterationInterrupted{shutdown}; the next start runs it again to done", () =>
    withStore((h) =>
      Effect.gen(function*() {
        const id = yield* withCore({ shutdownGraceSeconds: 2 }, (stop) =>
          Effect.gen(function*() {
            const id = yield* trigger("sleeper", { seconds: 10, tag: "g" })
            yield* h.settle
            yield* h.advance(3)
            yield* stop
            yield* h.settle
            return id
          }))
        const interrupted = yield* h.events(id)
        expect(interrupted.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "IterationInterrupted"])
        // The 2 s grace ran on the test clock before the iteration was interrupted.
        expect(interrupted[2]).toMatchObject({ at: 5_000, data: { iteration: 1, reason: "shutdown" } })
        expect(probe).toEqual(["start:g", "interrupted:g"])
        yield* withCore({}, () =>
          Effect.gen(function*() {
            yield* h.settle
            yield* h.advance(10)
            const events = yield* h.events(id)
            expect(events.slice(3).map((e) => [e.type, e.at])).toEqual([["IterationStarted", 5_000], ["TaskDone", 15_000]])
            expect(events[3]!.data).toEqual({ iteration: 1, attempt: 2 })
          })
        )
      })
    ))

  it.effect("shutdown while an iteration can finish within the grace: it finishes, nothing is interrupted", () =>
    withStore((h) =>
      Effect.gen(function*() {
        const id = yield* withCore({ shutdownGraceSeconds: 2 }, (stop) =>
          Effect.gen(function*() {
            const id = yield* trigger("sleeper", { seconds: 1, tag: "f" })
            yield* h.settle
            yield* stop
            yield* h.settle
            return id
          }))
        expect((yield* h.events(id)).map((e) => [e.type, e.at])).toEqual([["TaskTriggered", 0], ["IterationStarted", 0], ["TaskDone", 1_000]])
        expect(probe).toEqual(["start:f", "end:f"])
      })
    ))

  it.effect("a delayed continue keeps its wake time across a restart", () =>
    withStore((h) =>
      Effect.gen(function*() {
        const id = yield* withCore({}, () =>
          Effect.gen(function*() {
            const id = yield* trigger("counter", { n: 0, target: 1, delaySeconds: 20 })
            yield* h.settle
            yield* h.advance(5)
            return id
          }))
        yield* h.advance(5)
        yield* withCore({}, () =>
          Effect.gen(function*() {
            yield* h.settle
            expect(yield* h.state(id)).toMatchObject({ status: "continue", context: { wakeAt: epoch + 20_000 } })
            yield* h.advance(9.999)
            expect(yield* h.status(id)).toBe("continue")
            yield* h.advance(0.001)
            expect((yield* h.events(id)).slice(3).map((e) => [e.type, e.at])).toEqual([["IterationStarted", 20_000], ["TaskDone", 20_000]])
          })
        )
      })
    ))
})
