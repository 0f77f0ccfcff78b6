/**
 * The event store contract as one suite, run against every implementation
 * (EventStore.test.ts: memory and LevelDB). `makeLayer` must give a fresh,
 * empty store each time it is called.
 */
import { it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Layer, Scope, Stream } from "effect"
import { describe, expect } from "vitest"
import { EventStore, type BatchInfo, type LayerOptions } from "../src/EventStore.ts"
import { StoreError, type StoreDamaged, type StoreLocked } from "../src/StoreErrors.ts"
import type { TaskId } from "../src/Ids.ts"
import * as ScheduleEvent from "../src/ScheduleEvent.ts"
import { toEnvelope } from "../src/TaskEvent.ts"
import * as S from "./support/StoreEvents.ts"

/** Builds a fresh, empty store layer with the given options. */
export type MakeLayer = (options?: LayerOptions) => Layer.Layer<EventStore, StoreError | StoreLocked | StoreDamaged>

/** Triggers `task` and runs `iterations` whole iterations, one append each; returns the stream version. */
const runTask = (task: TaskId, iterations: number, trigger: S.TriggerOptions = {}) =>
  Effect.gen(function* () {
    const es = yield* EventStore
    let version = (yield* es.append(S.request(task, "noStream", [S.triggered(task, trigger)]))).version
    for (let n = 1; n <= iterations; n++) version = (yield* es.append(S.request(task, version, S.iteration(n)))).version
    return version
  })

/** A schedule's creation record (the schedule log). */
const scheduleCreated = (id: string, at = S.epoch) =>
  new ScheduleEvent.ScheduleCreated({ id, at, definitionId: "quick", cron: "* * * * *", input: { n: 1 }, overlap: "skip", catchUp: "one" })
const scheduleFired = (id: string, slot: number, taskId?: string) =>
  new ScheduleEvent.ScheduleFired({ id, at: slot + 5, slot, ...(taskId === undefined ? {} : { taskId }) })

const positions = (events: ReadonlyArray<{ readonly position: number }>) => events.map((e) => e.position)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** Registers the conformance suite for one implementation. */
export const conformance = (name: string, makeLayer: MakeLayer) =>
  describe(`EventStore conformance: ${name}`, () => {
    const run = <A, E>(effect: Effect.Effect<A, E, EventStore>, options?: LayerOptions) => effect.pipe(Effect.provide(makeLayer(options)))

    it.effect("append checks the expected version and reports a conflict as a typed error", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          const task = S.taskId(1)
          const first = yield* es.append(S.request(task, "noStream", [S.triggered(task)]))
          expect(first.version).toBe(1)
          expect(first.events.map((e) => [e.version, e.position])).toEqual([[1, 1]])
          expect(first.state.status).toBe("triggered")
          const second = yield* es.append(S.request(task, 1, [S.started(1)]))
          expect(second.version).toBe(2)
          const stale = yield* Effect.flip(es.append(S.request(task, 1, S.progressAndLog(1))))
          expect(stale._tag).toBe("ConcurrencyConflict")
          expect(stale).toMatchObject({ stream: task, expected: 1, actual: 2 })
          const exists = yield* Effect.flip(es.append(S.request(task, "noStream", [S.triggered(task)])))
          expect(exists).toMatchObject({ _tag: "ConcurrencyConflict", expected: "noStream", actual: 2 })
          const missing = yield* Effect.flip(es.append(S.request(S.taskId(2), 3, [S.triggered(S.taskId(2))])))
          expect(missing).toMatchObject({ _tag: "ConcurrencyConflict", actual: 0 })
          const any = yield* es.append(S.request(task, "any", S.progressAndLog(1)))
          expect(any.version).toBe(4)
          expect(yield* es.head).toBe(4)
        }),
      ),
    )

    it.effect("a stream that leaves the state cache while its append is being added is read back, never taken as absent", () =>
      run(
        Effect.gen(function* () {
          // 50 cached streams, then one burst: 2,000 triggers (their groups commit while the burst is
          // still being added, evicting the 50 from a cache of 50) followed by an append to each of the 50.
          const es = yield* EventStore
          const old = range(1, 50).map(S.taskId)
          const fresh = range(51, 2050).map(S.taskId)
          yield* Effect.forEach(old, (task) => es.append(S.request(task, "noStream", [S.triggered(task)])))
          const burst = [
            ...fresh.map((task) => es.append(S.request(task, "noStream", [S.triggered(task)]))),
            ...old.map((task) => es.append(S.request(task, 1, S.iteration(1)))),
          ]
          const results = yield* Effect.all(burst.map(Effect.exit), { concurrency: "unbounded" })
          expect(results.filter(Exit.isFailure)).toEqual([])
          const counts = yield* es.countByStatus
          expect([counts.continue, counts.triggered]).toEqual([50, 2000])
        }),
        { cacheSize: 50 },
      ))

    it.effect("a fresh stream (an id minted by the caller) is created without a lookup, with the same result and projections", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          const tasks = range(1, 300).map(S.taskId)
          const results = yield* Effect.forEach(
            tasks,
            (task) => es.append({ ...S.request(task, "noStream", [S.triggered(task), S.started(1)]), fresh: true }),
            { concurrency: "unbounded" },
          )
          expect(results.map((r) => [r.version, r.state.status])).toEqual(tasks.map(() => [2, "running"]))
          expect(positions(yield* es.readAll(1)).length).toBe(600)
          expect((yield* es.countByStatus).running).toBe(300)
          expect((yield* es.getTask(tasks[0]!))?.context.version).toBe(2)
          // The stream now exists: a later append sees it (the hint only skips the lookup of a new id).
          const again = yield* Effect.flip(es.append(S.request(tasks[0]!, "noStream", [S.triggered(tasks[0]!)])))
          expect(again).toMatchObject({ _tag: "ConcurrencyConflict", actual: 2 })
        }),
        { cacheSize: 50 },
      ))

    it.effect("an event the machine refuses is an InvalidTransition and writes nothing", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          const task = S.taskId(1)
          yield* runTask(task, 1)
          const headBefore = yield* es.head
          const projections = yield* es.dumpProjections
          // IterationStarted for iteration 5 is not the expected next iteration (2); the first event is valid.
          const error = yield* Effect.flip(es.append(S.request(task, "any", [S.started(2), S.continued(2), S.started(5)])))
          expect(error).toMatchObject({ _tag: "InvalidTransition", stream: task, event: "IterationStarted", state: "continue" })
          const wrongStream = yield* Effect.flip(es.append(S.request(S.taskId(9), "noStream", [S.triggered(S.taskId(8))])))
          expect(wrongStream).toMatchObject({ _tag: "InvalidTransition", event: "TaskTriggered" })
          const notTriggered = yield* Effect.flip(es.append(S.request(S.taskId(7), "noStream", [S.started(1)])))
          expect(notTriggered._tag).toBe("InvalidTransition")
          expect(yield* es.head).toBe(headBefore)
          expect(yield* es.readAll(1)).toHaveLength(headBefore)
          expect(yield* es.readStream(S.taskId(9))).toEqual([])
          expect(yield* es.dumpProjections).toEqual(projections)
          // The next valid append takes the next position: nothing was consumed.
          const next = yield* es.append(S.request(task, "any", [S.started(2)]))
          expect(next.events[0]!.position).toBe(headBefore + 1)
        }),
      ),
    )

    it.effect("concurrent appends get gapless global positions and per-stream versions", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          const tasks = range(1, 40).map(S.taskId)
          yield* Effect.forEach(tasks, (task) => runTask(task, 5), { concurrency: "unbounded", discard: true })
          const all = yield* es.readAll(1)
          expect(positions(all)).toEqual(range(1, 40 * 21))
          expect(yield* es.head).toBe(40 * 21)
          for (const task of tasks) {
            const events = all.filter((e) => e.stream === task)
            expect(events.map((e) => e.version)).toEqual(range(1, 21))
          }
        }),
      ),
    )

    it.effect("readStream reads one stream from a version; readAll reads from a position with a limit", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          yield* runTask(S.taskId(1), 2)
          yield* runTask(S.taskId(2), 1)
          const stream = yield* es.readStream(S.taskId(1))
          expect(stream.map((e) => e.version)).toEqual(range(1, 9))
          expect(stream.map((e) => e.event._tag).slice(0, 3)).toEqual(["TaskTriggered", "IterationStarted", "ProgressUpdated"])
          expect((yield* es.readStream(S.taskId(1), 6)).map((e) => e.version)).toEqual([6, 7, 8, 9])
          expect((yield* es.readStream(S.taskId(1), 7)).map((e) => e.version)).toEqual([7, 8, 9])
          expect(yield* es.readStream(S.taskId(1), 10)).toEqual([])
          // The stored envelopes, verbatim, are exactly the encoded events; paged, the pages join up.
          const json = (from?: number, limit?: number) => es.readStreamJson(S.taskId(1), from, limit).pipe(Effect.map((text) => JSON.parse(text)))
          expect(yield* json()).toEqual(stream.map(toEnvelope))
          expect(yield* json(7)).toEqual(stream.slice(6).map(toEnvelope))
          expect(yield* json(2, 3)).toEqual(stream.slice(1, 4).map(toEnvelope))
          expect(yield* json(8, 5)).toEqual(stream.slice(7).map(toEnvelope))
          expect(yield* es.readStreamJson(S.taskId(9))).toBe("[]")
          expect(positions(yield* es.readAll(3, 4))).toEqual([3, 4, 5, 6])
          expect(positions(yield* es.readAll(12))).toEqual([12, 13, 14])
          expect(yield* es.readAll(15)).toEqual([])
          const [first] = yield* es.readAll(1, 1)
          expect(first).toMatchObject({ stream: S.taskId(1), version: 1, position: 1, event: { _tag: "TaskTriggered", taskId: S.taskId(1) } })
        }),
      ),
    )

    it.effect("subscribe catches up from a position, then follows live appends with no gap and no duplicate", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          yield* runTask(S.taskId(1), 5) // positions 1..21
          const fiber = yield* Effect.forkChild(Stream.runCollect(Stream.take(es.subscribe(10), 200 - 9)))
          // Appends race with the subscriber's catch-up read: some land before it reads, some after.
          yield* Effect.forEach(range(2, 6), (n) => runTask(S.taskId(n), 6), { concurrency: "unbounded", discard: true }) // +5 * 25
          yield* runTask(S.taskId(7), 13) // +53 -> head 199... and one more:
          yield* es.append(S.request(S.taskId(7), "any", [S.started(14)]))
          const received = yield* Fiber.join(fiber)
          expect(positions(received)).toEqual(range(10, 200))
        }),
      ),
    )

    it.effect("subscribe does not repeat live events it already read from the log", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          yield* runTask(S.taskId(1), 5) // positions 1..21
          const pull = yield* Stream.toPull(es.subscribe(1))
          expect(positions(yield* pull)).toEqual(range(1, 21))
          // Committed after the subscription started: both in its live buffer and in the log.
          yield* es.append(S.request(S.taskId(1), "any", [S.started(6), ...S.progressAndLog(6)]))
          expect(positions(yield* pull)).toEqual([22, 23, 24])
          const next = yield* Effect.forkChild(pull)
          yield* Effect.yieldNow
          yield* es.append(S.request(S.taskId(1), "any", [S.continued(6)]))
          expect(positions(yield* Fiber.join(next))).toEqual([25])
        }).pipe(Effect.scoped),
      ),
    )

    it.effect("a subscriber that falls far behind the live feed reads the gap from the log", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          yield* runTask(S.taskId(1), 0) // position 1
          const pull = yield* Stream.toPull(es.subscribe(1))
          expect(positions(yield* pull)).toEqual([1])
          // 1,500 single-event commits while the subscriber does not pull: more than the live buffer holds.
          let version = 1
          for (let n = 1; n <= 750; n++) {
            version = (yield* es.append(S.request(S.taskId(1), version, [S.started(n)]))).version
            version = (yield* es.append(S.request(S.taskId(1), version, [S.continued(n)]))).version
          }
          const received: Array<number> = []
          while (received.length < 1500) received.push(...positions(yield* pull))
          expect(received).toEqual(range(2, 1501))
        }).pipe(Effect.scoped),
      ),
    )

    it.effect("group commit: concurrent appends share synced batches, and a refused one fails alone", () => {
      const batches: Array<BatchInfo> = []
      return run(
        Effect.gen(function* () {
          const es = yield* EventStore
          const tasks = range(1, 64).map(S.taskId)
          yield* Effect.forEach(tasks, (task) => es.append(S.request(task, "noStream", [S.triggered(task)])), { concurrency: "unbounded" })
          expect(batches.reduce((sum, b) => sum + b.events, 0)).toBe(64)
          expect(batches.length).toBeLessThan(64)
          // Same stream twice plus a stale append, all at once: the second sees the first, the stale one fails alone.
          const results = yield* Effect.all(
            [
              Effect.result(es.append(S.request(tasks[0]!, 1, [S.started(1)]))),
              Effect.result(es.append(S.request(tasks[0]!, 2, S.progressAndLog(1)))),
              Effect.result(es.append(S.request(tasks[1]!, 7, [S.started(1)]))),
              Effect.result(es.append(S.request(tasks[2]!, 1, [S.started(1)]))),
            ],
            { concurrency: "unbounded" },
          )
          expect(results.map((r) => r._tag)).toEqual(["Success", "Success", "Failure", "Success"])
          expect((yield* es.readStream(tasks[0]!)).map((e) => e.event._tag)).toEqual(["TaskTriggered", "IterationStarted", "ProgressUpdated", "TaskLogged"])
          expect(positions(yield* es.readAll(1))).toEqual(range(1, 68))
        }),
        { onBatch: (info) => void batches.push(info) },
      )
    })

    it.effect("projections are updated in the same write: summary, listings, paging, idempotency, hooks, counts", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          const parent = S.taskId(1)
          yield* runTask(parent, 1, { definitionId: "crawl", at: S.epoch })
          expect(yield* es.getTask(parent)).toMatchObject({ status: "continue", context: { taskId: parent, iteration: 1, version: 5 } })
          for (let n = 2; n <= 8; n++) {
            yield* runTask(S.taskId(n), 0, { definitionId: n % 2 === 0 ? "index" : "crawl", parentId: parent, at: S.epoch + n * 1000 })
          }
          yield* runTask(S.taskId(9), 0, { idempotencyKey: "nightly!%", at: S.epoch + 9000 })
          yield* runTask(S.taskId(10), 0, { idempotencyKey: "nightly!%", at: S.epoch + 10_000 })
          const finished = S.taskId(3)
          yield* es.append(S.request(finished, 1, [S.started(1), S.done()]))

          const byParent = yield* es.listTasks({ parentId: parent }, { limit: 3 })
          expect(byParent.tasks.map((t) => t.context.taskId)).toEqual([S.taskId(8), S.taskId(7), S.taskId(6)])
          const page2 = yield* es.listTasks({ parentId: parent }, { limit: 3, cursor: byParent.cursor! })
          const page3 = yield* es.listTasks({ parentId: parent }, { limit: 3, cursor: page2.cursor! })
          expect(page2.tasks.map((t) => t.context.taskId)).toEqual([S.taskId(5), S.taskId(4), S.taskId(3)])
          expect(page3.tasks.map((t) => t.context.taskId)).toEqual([S.taskId(2)])
          expect(page3.cursor).toBeUndefined()
          const crawl = yield* es.listTasks({ definitionId: "crawl" })
          expect(crawl.tasks.map((t) => t.context.taskId)).toEqual([S.taskId(7), S.taskId(5), S.taskId(3), S.taskId(1)])
          const triggered = yield* es.listTasks({ status: "triggered" })
          expect(triggered.tasks).toHaveLength(8)
          const combined = yield* es.listTasks({ parentId: parent, status: "done" })
          expect(combined.tasks.map((t) => t.context.taskId)).toEqual([finished])
          const all = yield* es.listTasks({}, { limit: 100 })
          expect(all.tasks.map((t) => t.context.taskId)).toEqual(range(1, 10).reverse().map(S.taskId))
          expect(yield* Effect.flip(es.listTasks({}, { cursor: "not-a-cursor" }))).toBeInstanceOf(StoreError)

          expect((yield* es.findByIdempotencyKey("nightly!%"))?.context.taskId).toBe(S.taskId(9))
          expect(yield* es.findByIdempotencyKey("weekly")).toBeUndefined()
          expect((yield* es.pendingHooks).map((t) => t.context.taskId)).toEqual([finished])
          expect(yield* es.countByStatus).toEqual({ triggered: 8, running: 0, continue: 1, done: 1, error: 0, aborted: 0, maxIterations: 0 })
          yield* es.append(S.request(finished, 3, [S.onDoneCompleted()]))
          expect(yield* es.pendingHooks).toEqual([])
          expect(yield* es.getTask(S.taskId(99))).toBeUndefined()
        }),
      ),
    )

    it.effect("closing the scope writes every queued append, then refuses new ones", () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const es = Context.get(yield* Layer.buildWithScope(makeLayer(), scope), EventStore)
        const fibers = yield* Effect.forEach(range(1, 30), (n) => Effect.forkChild(es.append(S.request(S.taskId(n), "noStream", [S.triggered(S.taskId(n))]))))
        yield* Effect.yieldNow // let every append reach the writer's queue
        yield* Scope.close(scope, Exit.void)
        const results = yield* Effect.forEach(fibers, Fiber.join)
        expect(results.map((r) => r.events[0]!.position).sort((a, b) => a - b)).toEqual(range(1, 30))
        const late = yield* Effect.flip(es.append(S.request(S.taskId(31), "noStream", [S.triggered(S.taskId(31))])))
        expect(late).toMatchObject({ _tag: "StoreError", reason: "the event store is closed" })
      }),
    )

    it.effect("rebuildProjections recomputes byte-identical projections from the log", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          yield* Effect.forEach(range(1, 12), (n) => runTask(S.taskId(n), n % 4, { parentId: S.taskId(1), definitionId: `d${n % 3}`, idempotencyKey: `k${n % 5}` }), {
            concurrency: "unbounded",
            discard: true,
          })
          yield* es.append(S.request(S.taskId(4), "any", [S.started(1), S.done()]))
          yield* es.append(S.request(S.taskId(5), "any", [S.started(2), S.done(), S.onDoneCompleted()]))
          const before = yield* es.dumpProjections
          const counts = yield* es.countByStatus
          expect(before.length).toBeGreaterThan(12 * 4)
          yield* es.rebuildProjections
          expect(yield* es.dumpProjections).toEqual(before)
          expect(yield* es.countByStatus).toEqual(counts)
          // Appends still work after a rebuild (the writer's cache was reset).
          yield* es.append(S.request(S.taskId(6), "any", [S.started(3)]))
          expect((yield* es.getTask(S.taskId(6)))?.status).toBe("running")
        }),
      ),
    )

    it.effect("the schedule log: records read back in order, numbered gapless from 1, beside an untouched task log", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          expect(yield* es.readSchedules).toEqual([])
          const records = [scheduleCreated("a"), new ScheduleEvent.SchedulePaused({ id: "a", at: S.epoch + 1 })]
          expect(yield* es.appendSchedule(records)).toBe(2)
          const more = [scheduleFired("a", S.epoch + 60_000, "task-1"), new ScheduleEvent.ScheduleRemoved({ id: "a", at: S.epoch + 70_000 })]
          expect(yield* es.appendSchedule(more)).toBe(4)
          expect(yield* es.appendSchedule([])).toBe(4)
          const read = yield* es.readSchedules
          expect(read).toEqual([...records, ...more])
          expect(read.map((r) => r._tag)).toEqual(["ScheduleCreated", "SchedulePaused", "ScheduleFired", "ScheduleRemoved"])
          expect(read[0]).toBeInstanceOf(ScheduleEvent.ScheduleCreated)
          // Not the task log: no position, no projection, nothing to subscribe to.
          expect(yield* es.head).toBe(0)
          expect(yield* es.readAll(0)).toEqual([])
          expect(yield* es.dumpProjections).toEqual([])
        }),
      ))

    it.effect("schedule appends commit in the same group as concurrent task appends", () => {
      const batches: Array<BatchInfo> = []
      return run(
        Effect.gen(function* () {
          const es = yield* EventStore
          const tasks = range(1, 40).map(S.taskId)
          const results = yield* Effect.all(
            tasks.flatMap((task, i) => [
              Effect.map(es.append(S.request(task, "noStream", [S.triggered(task)])), () => undefined),
              es.appendSchedule([scheduleCreated(`s${i}`), scheduleFired(`s${i}`, S.epoch + i)]),
            ]),
            { concurrency: "unbounded" },
          )
          const lastSeqs = results.filter((r): r is number => r !== undefined)
          expect([...lastSeqs].sort((a, b) => a - b)).toEqual(range(1, 40).map((i) => i * 2))
          expect(batches.some((b) => b.events > 0 && b.scheduleRecords > 0)).toBe(true)
          expect(batches.reduce((sum, b) => sum + b.scheduleRecords, 0)).toBe(80)
          expect(positions(yield* es.readAll(1))).toEqual(range(1, 40))
          // Each append's records are consecutive: its creation right before its firing.
          const read = yield* es.readSchedules
          expect(read).toHaveLength(80)
          for (let i = 0; i < 80; i += 2) expect([read[i]!._tag, read[i + 1]!._tag, read[i]!.id]).toEqual(["ScheduleCreated", "ScheduleFired", read[i + 1]!.id])
        }),
        { onBatch: (info) => void batches.push(info) },
      )
    })

    it.effect("prune and rebuildProjections leave the schedule log alone", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          yield* es.appendSchedule([scheduleCreated("a"), scheduleFired("a", S.epoch + 60_000, S.taskId(1))])
          for (const n of [1, 2]) {
            yield* runTask(S.taskId(n), 1)
            yield* es.append(S.request(S.taskId(n), "any", [S.started(2), S.done(), S.onDoneCompleted()]))
          }
          const before = yield* es.readSchedules
          const pruned = yield* es.prune({ before: S.epoch + 1_000_000_000 })
          expect(pruned.tasks).toBe(2)
          expect(yield* es.readAll(0)).toEqual([])
          expect(yield* es.readSchedules).toEqual(before)
          yield* es.rebuildProjections
          expect(yield* es.readSchedules).toEqual(before)
          expect((yield* es.dumpProjections).filter(([key]) => !key.startsWith("p!"))).toEqual([])
          expect(yield* es.appendSchedule([new ScheduleEvent.ScheduleRemoved({ id: "a", at: S.epoch + 90_000 })])).toBe(3)
        }),
      ))

    it.effect("a schedule record that does not encode is a StoreError and nothing of its append is written", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore
          const unknownKind = { _tag: "ScheduleExploded", id: "a", at: S.epoch } as unknown as ScheduleEvent.ScheduleEvent
          const error = yield* Effect.flip(es.appendSchedule([scheduleCreated("a"), unknownKind]))
          expect(error).toBeInstanceOf(StoreError)
          expect(error).toMatchObject({ operation: "appendSchedule" })
          expect(error.reason).toContain("schedule record 2 of 2 does not encode")
          const unserializable = new ScheduleEvent.ScheduleCreated({ id: "b", at: S.epoch, definitionId: "quick", cron: "* * * * *", input: { big: 1n }, overlap: "skip", catchUp: "one" })
          expect(yield* Effect.flip(es.appendSchedule([unserializable]))).toMatchObject({ _tag: "StoreError", operation: "appendSchedule" })
          expect(yield* es.readSchedules).toEqual([])
          // Nothing was consumed: the next record is number 1.
          expect(yield* es.appendSchedule([scheduleCreated("c")])).toBe(1)
        }),
      ))
  })
