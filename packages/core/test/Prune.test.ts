/**
 * `EventStore.prune` and the pruned-position rules, on the memory layer and
 * the LevelDB layer: exactly the eligible tasks go (events, summary, index
 * entries, idempotency key, counters), running/waiting tasks, tasks with a
 * due hook and parents of unfinished children stay; positions are not
 * reused; reads and subscriptions at or below the watermark fail with
 * PositionPruned while 0 gives everything retained; a rebuild after a prune
 * gives the same projections; on disk a reopen after a prune finds no damage
 * and the size on disk drops.
 */
import { it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Stream } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect } from "vitest"
import * as EventStore from "../src/EventStore.ts"
import * as LevelEventStore from "../src/LevelEventStore.ts"
import * as StoreErrors from "../src/StoreErrors.ts"
import * as LevelDb from "../src/internal/LevelDb.ts"
import * as Keys from "../src/internal/RecordKeys.ts"
import type { TaskId } from "../src/Ids.ts"
import * as TaskEvent from "../src/TaskEvent.ts"
import * as S from "./support/StoreEvents.ts"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "tasklane-prune-"))),
  (directory) => Effect.promise(() => fs.rm(directory, { recursive: true, force: true })),
)

/** Far in the future of every test event (they are stamped near S.epoch). */
const later = S.epoch + 1e9
const cutoff = S.epoch + 1e8

/** Triggers a task; `finish` runs one iteration to done (hook completed unless `hookPending`), else it stays running. */
const task = (n: number, options: S.TriggerOptions & { readonly finish?: "done" | "running" | "hookPending"; readonly doneAt?: number } = {}) =>
  Effect.gen(function* () {
    const es = yield* EventStore.EventStore
    const id = S.taskId(n)
    yield* es.append(S.request(id, "noStream", [S.triggered(id, options)]))
    if (options.finish === undefined) return id
    yield* es.append(S.request(id, 1, [S.started(1), ...S.progressAndLog(1)]))
    if (options.finish === "running") return id
    yield* es.append(S.request(id, 4, [S.newEvent(new TaskEvent.TaskDone({ output: { n } }), options.doneAt)]))
    if (options.finish === "done") yield* es.append(S.request(id, 5, [S.onDoneCompleted()]))
    return id
  })

const positionsOf = (events: ReadonlyArray<{ readonly position: number }>) => events.map((e) => e.position)

/**
 * 1 done (key k1), 2 done with its hook still due, 3 running, 4 triggered
 * (waiting), 5 done parent of 6 (running), 7 done parent of 8 (done),
 * 9 done after the cutoff, 10 done (key k10), 13 done and deleted.
 */
const world = Effect.gen(function* () {
  yield* task(1, { finish: "done", idempotencyKey: "k1" })
  yield* task(2, { finish: "hookPending" })
  yield* task(3, { finish: "running" })
  yield* task(4)
  yield* task(5, { finish: "done" })
  yield* task(6, { finish: "running", parentId: S.taskId(5) })
  yield* task(7, { finish: "done" })
  yield* task(8, { finish: "done", parentId: S.taskId(7) })
  yield* task(9, { finish: "done", doneAt: later })
  yield* task(10, { finish: "done", idempotencyKey: "k10" })
  const deleted = yield* task(13, { finish: "done" })
  yield* (yield* EventStore.EventStore).append(S.request(deleted, 6, [S.newEvent(new TaskEvent.TaskDeleted({}))]))
})

const pruned = [1, 7, 8, 10, 13].map(S.taskId)
const kept = [2, 3, 4, 5, 6, 9].map(S.taskId)

const suite = (name: string, makeLayer: () => Layer.Layer<EventStore.EventStore, unknown>) =>
  describe(`EventStore.prune: ${name}`, () => {
    const run = <A, E>(effect: Effect.Effect<A, E, EventStore.EventStore>) => effect.pipe(Effect.provide(makeLayer())) as Effect.Effect<A, unknown>

    it.effect("removes exactly the eligible tasks with their events, projections, index entries and idempotency keys", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore.EventStore
          yield* world
          const head = yield* es.head
          const before = yield* es.dumpProjections
          const streams = new Map<TaskId, ReadonlyArray<number>>()
          for (const id of [...pruned, ...kept]) streams.set(id, positionsOf(yield* es.readStream(id)))

          const dry = yield* es.prune({ before: cutoff, dryRun: true })
          expect(dry).toMatchObject({ dryRun: true, tasks: 5, kept: 2, prunedThrough: 0 })
          expect([...dry.taskIds].sort()).toEqual(pruned)
          expect(yield* es.dumpProjections).toEqual(before)

          const result = yield* es.prune({ before: cutoff })
          expect(result).toMatchObject({ dryRun: false, tasks: 5, kept: 2, events: dry.events, bytes: dry.bytes })
          expect(result.events).toBe(pruned.reduce((sum, id) => sum + streams.get(id)!.length, 0))
          const highest = Math.max(...pruned.flatMap((id) => streams.get(id)!))
          expect(result.prunedThrough).toBe(highest)

          for (const id of pruned) {
            expect(yield* es.getTask(id)).toBeUndefined()
            expect(yield* es.readStream(id)).toEqual([])
            expect(yield* es.readStreamJson(id)).toBe("[]")
          }
          for (const id of kept) {
            expect((yield* es.getTask(id))?.context.taskId).toBe(id)
            expect(positionsOf(yield* es.readStream(id))).toEqual(streams.get(id))
          }
          expect(yield* es.findByIdempotencyKey("k1")).toBeUndefined()
          expect(yield* es.findByIdempotencyKey("k10")).toBeUndefined()
          const listed = (yield* es.listTasks({}, { limit: 100 })).tasks.map((t) => t.context.taskId)
          expect([...listed].sort()).toEqual(kept)
          expect((yield* es.listTasks({ parentId: S.taskId(7) })).tasks).toEqual([])
          expect((yield* es.countByStatus).done).toBe(3)
          // No projection record names a pruned task (keys or values).
          const dump = yield* es.dumpProjections
          for (const id of pruned) expect(dump.filter(([key, value]) => key.includes(id) || value.includes(`"${id}"`) || value === id)).toEqual([])

          // Positions are not reused; the retained log is readable from 0, not from 1.
          expect(yield* es.head).toBe(head)
          const retained = positionsOf(yield* es.readAll(0))
          expect(retained).toEqual(kept.flatMap((id) => streams.get(id)!).sort((a, b) => a - b))
          const retention = yield* es.retention
          expect(retention).toMatchObject({ prunedThrough: highest, oldestRetained: retained[0] })
          const next = yield* task(11)
          expect(positionsOf(yield* es.readStream(next))).toEqual([head + 1])
          // An idempotency key of a pruned task can be taken again.
          yield* task(12, { idempotencyKey: "k1" })
          expect((yield* es.findByIdempotencyKey("k1"))?.context.taskId).toBe(S.taskId(12))

          // A second prune of the same cutoff finds nothing new.
          expect(yield* es.prune({ before: cutoff })).toMatchObject({ tasks: 0, kept: 2 })
        }),
      ))

    it.effect("statuses narrow what goes, and a prune with no cutoff in the past removes nothing", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore.EventStore
          yield* world
          expect(yield* es.prune({ before: cutoff, statuses: ["error", "aborted"] })).toMatchObject({ tasks: 0 })
          expect(yield* es.prune({ before: S.epoch })).toMatchObject({ tasks: 0, kept: 0, prunedThrough: 0 })
          expect((yield* es.prune({ before: later + 1, statuses: ["done"] })).tasks).toBe(6)
        }),
      ))

    it.effect("reads and subscriptions at or below the watermark fail with PositionPruned; from 0 they give everything retained, then live events", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore.EventStore
          yield* world
          const { prunedThrough } = yield* es.prune({ before: cutoff })
          const retention = yield* es.retention
          for (const from of [1, retention.oldestRetained, prunedThrough]) {
            const error = yield* Effect.flip(es.readAll(from))
            expect(error).toMatchObject({ _tag: "PositionPruned", requested: from, prunedThrough, oldestRetained: retention.oldestRetained })
            const failed = yield* Effect.flip(Stream.runCollect(es.subscribe(from)))
            expect(failed).toBeInstanceOf(StoreErrors.PositionPruned)
          }
          const head = yield* es.head
          expect(positionsOf(yield* es.readAll(prunedThrough + 1))).toEqual(Array.from({ length: head - prunedThrough }, (_, i) => prunedThrough + 1 + i))

          const retained = positionsOf(yield* es.readAll(0))
          const following = yield* Effect.forkChild(Stream.runCollect(Stream.take(es.subscribe(0), retained.length + 1)))
          const live = yield* task(20)
          const seen = yield* Fiber.join(following)
          expect(positionsOf(seen)).toEqual([...retained, head + 1])
          expect(seen.at(-1)?.stream).toBe(live)
        }),
      ))

    it.effect("a subscriber still catching up when a prune removes events ahead of it fails with PositionPruned instead of skipping them", () =>
      run(
        Effect.scoped(Effect.gen(function* () {
          const es = yield* EventStore.EventStore
          for (let n = 1; n <= 400; n++) yield* task(n, { finish: "done" })
          const pull = yield* Stream.toPull(es.subscribe(1))
          const seen = positionsOf(yield* pull)
          const head = yield* es.head
          expect(seen.length).toBeGreaterThan(0)
          expect(seen.length).toBeLessThan(head)
          const { prunedThrough } = yield* es.prune({ before: cutoff })
          expect(prunedThrough).toBe(head)
          const outcome = yield* Effect.flip(Effect.forever(Effect.map(pull, (events) => seen.push(...positionsOf(events)))))
          expect(outcome).toBeInstanceOf(StoreErrors.PositionPruned)
          expect(outcome).toMatchObject({ requested: seen.length + 1, prunedThrough: head })
          expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1))
        })),
      ))

    it.effect("rebuilding the projections after a prune gives the same records", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore.EventStore
          yield* world
          yield* es.prune({ before: cutoff })
          const before = yield* es.dumpProjections
          const head = yield* es.head
          yield* es.rebuildProjections
          expect(yield* es.dumpProjections).toEqual(before)
          expect(yield* es.head).toBe(head)
        }),
      ))

    it.effect("a prune interleaves with concurrent appends: every append commits and the projections agree with a rebuild", () =>
      run(
        Effect.gen(function* () {
          const es = yield* EventStore.EventStore
          for (let n = 1; n <= 600; n++) yield* task(n, { finish: "done" })
          const pruning = yield* Effect.forkChild(es.prune({ before: cutoff }))
          const appends = yield* Effect.all(
            Array.from({ length: 300 }, (_, i) => Effect.exit(task(1000 + i, { finish: "running" }))),
            { concurrency: 20 },
          )
          const result = yield* Fiber.join(pruning)
          expect(appends.filter(Exit.isFailure)).toEqual([])
          expect(result.tasks).toBe(600)
          expect(yield* es.countByStatus).toMatchObject({ done: 0, running: 300 })
          const before = yield* es.dumpProjections
          yield* es.rebuildProjections
          expect(yield* es.dumpProjections).toEqual(before)
        }),
      ))
  })

suite("memory", () => LevelEventStore.layerMemory)
suite("LevelDB", () => Layer.unwrap(Effect.map(tempDir, (directory) => LevelEventStore.layer({ directory }))))

describe("EventStore.prune: LevelDB on disk", () => {
  it.effect("a reopen after a prune (its head event pruned too) finds no damage, keeps the head and the watermark, and the size on disk drops", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      const layer = LevelEventStore.layer({ directory })
      const first = yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        const payload = "x".repeat(2000)
        for (let n = 1; n <= 1500; n++) {
          const id = S.taskId(n)
          yield* es.append(S.request(id, "noStream", [S.triggered(id)]))
          yield* es.append(S.request(id, 1, [S.started(1), S.newEvent(new TaskEvent.TaskLogged({ level: "info", message: payload }))]))
          yield* es.append(S.request(id, 3, [S.newEvent(new TaskEvent.TaskDone({ hookDue: false }))]))
        }
        const sizeBefore = (yield* es.retention).sizeOnDisk!
        const result = yield* es.prune({ before: cutoff })
        const after = yield* es.retention
        return { head: yield* es.head, result, sizeBefore, after, projections: yield* es.dumpProjections }
      }).pipe(Effect.provide(layer))
      expect(first.result.tasks).toBe(1500)
      expect(first.after.prunedThrough).toBe(first.head)
      expect(first.after.oldestRetained).toBe(first.head + 1)
      expect(first.after.sizeOnDisk!).toBeLessThan(first.sizeBefore / 4)

      const second = yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        const health = yield* es.health
        const head = yield* es.head
        const retention = yield* es.retention
        const id = yield* task(5000)
        return { health, head, retention, appended: positionsOf(yield* es.readStream(id)), projections: yield* es.dumpProjections }
      }).pipe(Effect.provide(layer))
      expect(second.health.damage).toEqual([])
      expect(second.head).toBe(first.head)
      expect(second.retention.prunedThrough).toBe(first.head)
      expect(second.appended).toEqual([first.head + 1])
      expect(second.projections.filter(([key]) => key.startsWith("p!task!"))).toHaveLength(1)
    }))

  it.effect("tasks deleted before the deleted index existed are indexed once by the first prune, then pruned", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      const layer = LevelEventStore.layer({ directory })
      const deleted = yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        const id = yield* task(1, { finish: "done" })
        yield* es.append(S.request(id, 6, [S.newEvent(new TaskEvent.TaskDeleted({}))]))
        yield* task(2, { finish: "done" })
        return id
      }).pipe(Effect.provide(layer))
      // As a store written before the index: no p!deleted! entry, no marker.
      yield* Effect.scoped(Effect.gen(function* () {
        const db = yield* LevelDb.openClassic(directory)
        const keys = yield* Effect.promise(() => db.keys(Keys.prefixRange(Keys.deletedPrefix)))
        expect(keys).toHaveLength(1)
        yield* Effect.promise(async () => {
          const batch = db.batch()
          for (const key of keys) batch.del(key)
          batch.del(Keys.deletedIndexed)
          await batch.write(true)
        })
      }))
      const result = yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        const pruned = yield* es.prune({ before: cutoff })
        const before = yield* es.dumpProjections
        yield* es.rebuildProjections
        return { pruned, deletedGone: (yield* es.getTask(deleted)) === undefined, same: equal(before, yield* es.dumpProjections) }
      }).pipe(Effect.provide(layer))
      expect(result.pruned.tasks).toBe(2)
      expect(result.deletedGone).toBe(true)
      expect(result.same).toBe(true)
    }))
})

const equal = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
