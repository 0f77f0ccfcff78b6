/**
 * Runs the event store conformance suite against the memory layer and the
 * LevelDB layer (real LevelDB files in a fresh temp directory per test,
 * removed afterwards), plus what only a disk store has: reopening, the
 * directory lock across processes, an interrupted rebuild, a corrupt record,
 * the schedule log across a reopen.
 */
import { it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect } from "vitest"
import * as EventStore from "../src/EventStore.ts"
import * as LevelEventStore from "../src/LevelEventStore.ts"
import * as Check from "../src/internal/LevelCheck.ts"
import * as LevelDb from "../src/internal/LevelDb.ts"
import * as Keys from "../src/internal/RecordKeys.ts"
import * as ScheduleEvent from "../src/ScheduleEvent.ts"
import { conformance } from "./EventStoreConformance.ts"
import * as S from "./support/StoreEvents.ts"

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** A fresh temp directory, removed when the scope closes. */
const tempDir = Effect.acquireRelease(
  Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "tasklane-store-"))),
  (directory) => Effect.promise(() => fs.rm(directory, { recursive: true, force: true })),
)

const levelLayer = (options: EventStore.LayerOptions = {}) => Layer.unwrap(Effect.map(tempDir, (directory) => LevelEventStore.layer({ ...options, directory })))

conformance("memory", (options) => LevelEventStore.layerMemoryWith(options ?? {}))
conformance("LevelDB", levelLayer)

/** Opens the store in `directory` from a separate Node process; resolves to what it printed. */
const openInChild = (directory: string) =>
  Effect.promise(
    () =>
      new Promise<unknown>((resolve, reject) =>
        execFile(process.execPath, ["--import", "tsx", "test/fixtures/openStore.ts", directory], { cwd: packageRoot }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split("\n").pop()!)),
        ),
      ),
  )

/** Appends a small history of three tasks. */
const someHistory = Effect.gen(function* () {
  const es = yield* EventStore.EventStore
  for (const n of [1, 2, 3]) {
    const task = S.taskId(n)
    yield* es.append(S.request(task, "noStream", [S.triggered(task, { idempotencyKey: `k${n}`, parentId: S.taskId(1) })]))
    yield* es.append(S.request(task, 1, S.iteration(1)))
  }
  yield* es.append(S.request(S.taskId(2), 5, [S.started(2), S.done()]))
})

const snapshot = Effect.gen(function* () {
  const es = yield* EventStore.EventStore
  return {
    head: yield* es.head,
    projections: yield* es.dumpProjections,
    counts: yield* es.countByStatus,
    task: yield* es.getTask(S.taskId(2)),
    log: yield* es.readAll(1),
  }
})

describe("EventStore LevelDB layer", () => {
  it.effect("reopening the directory recovers the head, stream versions and projections", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      const layer = LevelEventStore.layer({ directory })
      const before = yield* Effect.andThen(someHistory, snapshot).pipe(Effect.provide(layer))
      expect(before.head).toBe(17)
      const after = yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        const reopened = yield* snapshot
        const stale = yield* Effect.flip(es.append(S.request(S.taskId(1), 4, [S.started(2)])))
        const next = yield* es.append(S.request(S.taskId(1), 5, [S.started(2)]))
        return { reopened, stale, next }
      }).pipe(Effect.provide(layer))
      expect(after.reopened).toEqual(before)
      expect(after.stale).toMatchObject({ _tag: "ConcurrencyConflict", actual: 5 })
      expect(after.next.events[0]).toMatchObject({ version: 6, position: 18 })
    }),
  )

  it.effect("a second opener fails with StoreLocked naming the directory, in another process and in this one", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      yield* Effect.gen(function* () {
        yield* someHistory
        const inProcess = yield* Effect.flip(Layer.build(LevelEventStore.layer({ directory })))
        expect(inProcess).toMatchObject({ _tag: "StoreLocked", directory })
        expect(inProcess.message).toContain(directory)
        // Another process is refused too. (LevelDB's own in-process refusal would have dropped
        // this process's lock and let it in; the store's registry must prevent that.)
        expect(yield* openInChild(directory)).toEqual({ _tag: "StoreLocked", directory })
      }).pipe(Effect.provide(LevelEventStore.layer({ directory })))
      // Closing the scope released the lock.
      expect(yield* openInChild(directory)).toEqual({ opened: true, head: 17 })
    }),
  )

  it.effect("a rebuild interrupted by a crash is finished on the next open", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      const layer = LevelEventStore.layer({ directory })
      const before = yield* Effect.andThen(someHistory, snapshot).pipe(Effect.provide(layer))
      // Simulate a crash mid-rebuild: the mark is set and some projections are already gone.
      yield* Effect.gen(function* () {
        const db = yield* LevelDb.openClassic(directory)
        const batch = db.batch()
        batch.put(Keys.rebuilding, "1")
        for (const [key] of before.projections.filter((_, i) => i % 2 === 0)) batch.del(key)
        yield* Effect.promise(() => batch.write(true))
      }).pipe(Effect.scoped)
      expect(yield* snapshot.pipe(Effect.provide(layer))).toEqual(before)
    }),
  )

  it.effect("a corrupt log record older than the tail checked at open is a typed StoreError on read, not a crash", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      const layer = LevelEventStore.layer({ directory })
      yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        const tasks = Array.from({ length: Check.TAIL + 10 }, (_, i) => S.taskId(i + 1))
        yield* Effect.forEach(tasks, (task) => es.append(S.request(task, "noStream", [S.triggered(task)])), { concurrency: "unbounded" })
      }).pipe(Effect.provide(layer))
      yield* Effect.gen(function* () {
        const db = yield* LevelDb.openClassic(directory)
        const batch = db.batch()
        batch.put(Keys.log(2), JSON.stringify({ nonsense: true }))
        yield* Effect.promise(() => batch.write(true))
      }).pipe(Effect.scoped)
      const error = yield* Effect.flip(
        Effect.gen(function* () {
          const es = yield* EventStore.EventStore
          return yield* es.readAll(1)
        }).pipe(Effect.provide(layer)),
      )
      expect(error).toMatchObject({ _tag: "StoreError", operation: "readAll" })
    }),
  )

  it.effect("the schedule log survives a reopen in order, passes the checks at open, and continues its numbering", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      const layer = LevelEventStore.layer({ directory })
      const created = new ScheduleEvent.ScheduleCreated({ id: "a", at: S.epoch, definitionId: "quick", cron: "* * * * *", input: {}, overlap: "queue", catchUp: "all" })
      const fired = new ScheduleEvent.ScheduleFired({ id: "a", at: S.epoch + 60_001, slot: S.epoch + 60_000, queued: true })
      yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        yield* someHistory
        expect(yield* es.appendSchedule([created, fired])).toBe(2)
      }).pipe(Effect.provide(layer))
      const reopened = yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        const records = yield* es.readSchedules
        const next = yield* es.appendSchedule([new ScheduleEvent.ScheduleRemoved({ id: "a", at: S.epoch + 90_000 })])
        return { records, next, head: yield* es.head, health: yield* es.health }
      }).pipe(Effect.provide(layer))
      expect(reopened.records).toEqual([created, fired])
      expect(reopened.next).toBe(3)
      expect(reopened.head).toBe(17)
      expect(reopened.health.damage).toEqual([])
      const third = yield* Effect.gen(function* () {
        return yield* (yield* EventStore.EventStore).readSchedules
      }).pipe(Effect.provide(layer))
      expect(third.map((r) => r._tag)).toEqual(["ScheduleCreated", "ScheduleFired", "ScheduleRemoved"])
    }),
  )

  it.effect("a stored schedule record that does not decode is a StoreError naming its number", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      const layer = LevelEventStore.layer({ directory })
      yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        yield* es.appendSchedule(["a", "b", "c"].map((id) => new ScheduleEvent.SchedulePaused({ id, at: S.epoch })))
      }).pipe(Effect.provide(layer))
      yield* Effect.gen(function* () {
        const db = yield* LevelDb.openClassic(directory)
        const batch = db.batch()
        batch.put(Keys.schedule(2), JSON.stringify({ _tag: "SchedulePaused", id: 7 }))
        yield* Effect.promise(() => batch.write(true))
      }).pipe(Effect.scoped)
      const error = yield* Effect.flip(
        Effect.gen(function* () {
          return yield* (yield* EventStore.EventStore).readSchedules
        }).pipe(Effect.provide(layer)),
      )
      expect(error).toMatchObject({ _tag: "StoreError", operation: "readSchedules" })
      expect(error.message).toContain("stored schedule record 2 does not decode")
    }),
  )
})
