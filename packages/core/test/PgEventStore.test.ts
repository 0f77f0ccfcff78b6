/**
 * The PostgreSQL event store: the conformance suite every store passes, then
 * what only a shared database has: several store instances (daemons) on one
 * database, and prune with its watermark. One private PostgreSQL cluster for
 * this file (support/Postgres.ts), a fresh database per test.
 *
 * The cases here run on the live clock (`it.live`): the stores' poll of the
 * head row sleeps on the real clock, as a daemon's does.
 *
 * Timeouts are longer than the default: every sequential append is a commit
 * that waits for PostgreSQL's fsync (the durability these tests are about),
 * and one conformance case makes 1,500 of them in a row.
 */
import { it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Layer, Stream } from "effect"
import { describe, expect, vi } from "vitest"
import { EventStore, type LayerOptions } from "../src/EventStore.ts"
import * as PgEventStore from "../src/PgEventStore.ts"
import { conformance } from "./EventStoreConformance.ts"
import { postgresForFile } from "./support/PostgresForFile.ts"
import * as S from "./support/StoreEvents.ts"

vi.setConfig({ testTimeout: 120_000 })

const pg = postgresForFile()

const database = Effect.promise(() => pg().createDatabase())

const pgLayer = (options: LayerOptions = {}) => Layer.unwrap(Effect.map(database, (url) => PgEventStore.layer({ ...options, url })))

conformance("PostgreSQL", pgLayer)

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** `n` store instances on one database (a fresh one unless given), opened one after another, closed with the scope. */
const instances = (n: number, options: Partial<PgEventStore.PgLayerOptions> = {}, on?: string) =>
  Effect.gen(function* () {
    const url = on ?? (yield* database)
    const stores: Array<EventStore["Service"]> = []
    for (let i = 0; i < n; i++) stores.push(Context.get(yield* Layer.build(PgEventStore.layer({ ...options, url })), EventStore))
    return stores
  })

/** Triggers `task` on `es` and runs `iterations` iterations, one append each. */
const runTask = (es: EventStore["Service"], task: ReturnType<typeof S.taskId>, iterations: number) =>
  Effect.gen(function* () {
    let version = (yield* es.append(S.request(task, "noStream", [S.triggered(task)]))).version
    for (let n = 1; n <= iterations; n++) version = (yield* es.append(S.request(task, version, S.iteration(n)))).version
    return version
  })

describe("EventStore PostgreSQL: several instances on one database", () => {
  it.live("three instances opening a fresh database at once migrate it once and all work", () =>
    Effect.gen(function* () {
      const url = yield* database
      const stores = yield* Effect.all(
        range(1, 3).map(() => Effect.map(Layer.build(PgEventStore.layer({ url })), (context) => Context.get(context, EventStore))),
        { concurrency: 3 },
      )
      yield* Effect.forEach(stores, (es, i) => es.append(S.request(S.taskId(i + 1), "noStream", [S.triggered(S.taskId(i + 1))])), { concurrency: 3 })
      expect((yield* stores[2]!.readAll(1)).map((e) => e.position)).toEqual([1, 2, 3])
      const migrations = yield* Effect.promise(() => pg().psql(url.slice(url.lastIndexOf("/") + 1), "SELECT count(*) FROM tasklane_migrations"))
      expect(migrations.trim()).toBe("5")
    }).pipe(Effect.scoped))

  it.live("a trigger that must own its idempotency key is refused with IdempotencyKeyTaken when another instance's took it first", () =>
    Effect.gen(function* () {
      const [a, b] = yield* instances(2)
      const trigger = (es: EventStore["Service"], n: number) =>
        Effect.exit(es.append({ ...S.request(S.taskId(n), "noStream", [S.triggered(S.taskId(n), { idempotencyKey: "nightly" })]), uniqueKey: true }))
      // Ten triggers with one key from two instances at once (and several in one group): one task is created.
      const exits = yield* Effect.all(range(1, 10).map((n) => trigger(n % 2 === 0 ? a! : b!, n)), { concurrency: "unbounded" })
      const created = exits.filter(Exit.isSuccess)
      expect(created).toHaveLength(1)
      for (const exit of exits.filter(Exit.isFailure)) expect(exit.cause.toString()).toContain("IdempotencyKeyTaken")
      const owner = (yield* a!.findByIdempotencyKey("nightly"))!.context.taskId
      expect((yield* b!.listTasks({}, { limit: 100 })).tasks.map((t) => t.context.taskId)).toEqual([owner])
      // Without the flag a second task is created, the key staying with the first (as on LevelDB).
      yield* a!.append(S.request(S.taskId(20), "noStream", [S.triggered(S.taskId(20), { idempotencyKey: "nightly" })]))
      expect((yield* b!.findByIdempotencyKey("nightly"))!.context.taskId).toBe(owner)
    }).pipe(Effect.scoped))

  it.live("an instance whose cached summary went stale (another instance appended) takes an append at the stream's real version", () =>
    Effect.gen(function* () {
      const [a, b] = yield* instances(2)
      const task = S.taskId(1)
      // a writes the stream, so its writer caches the summary at version 2.
      yield* a!.append(S.request(task, "noStream", [S.triggered(task)]))
      yield* a!.append(S.request(task, 1, [S.started(1)]))
      // b moves it on to version 3 behind a's back.
      yield* b!.append(S.request(task, 2, S.progressAndLog(1).slice(0, 1)))
      // a, told the real version, must not refuse it on its stale cache.
      const appended = yield* a!.append(S.request(task, 3, [S.continued(1)]))
      expect(appended.version).toBe(4)
      // And a stale expectation is still refused.
      expect(yield* Effect.flip(a!.append(S.request(task, 3, [S.started(2)])))).toMatchObject({ _tag: "ConcurrencyConflict", expected: 3, actual: 4 })
    }).pipe(Effect.scoped))

  it.live("conflicting appends from two instances: exactly one wins each race, the other gets ConcurrencyConflict", () =>
    Effect.gen(function* () {
      const [a, b] = yield* instances(2)
      const tasks = range(1, 30).map(S.taskId)
      yield* Effect.forEach(tasks, (task) => a!.append(S.request(task, "noStream", [S.triggered(task)])), { concurrency: "unbounded" })
      const races = yield* Effect.forEach(
        tasks,
        (task) => Effect.all([Effect.exit(a!.append(S.request(task, 1, [S.started(1)]))), Effect.exit(b!.append(S.request(task, 1, [S.started(1)])))], { concurrency: 2 }),
        { concurrency: "unbounded" },
      )
      for (const [x, y] of races) {
        expect([x, y].filter(Exit.isSuccess)).toHaveLength(1)
        const lost = Exit.isFailure(x) ? x : y
        expect(lost).toMatchObject({ _tag: "Failure" })
        const error = yield* Effect.flip(lost)
        expect(error).toMatchObject({ _tag: "ConcurrencyConflict", expected: 1, actual: 2 })
      }
      // Creating the same stream from both at once: one TaskTriggered only.
      const again = yield* Effect.all(
        [a!, b!].map((es) => Effect.exit(es.append(S.request(S.taskId(99), "noStream", [S.triggered(S.taskId(99))])))),
        { concurrency: 2 },
      )
      expect(again.filter(Exit.isSuccess)).toHaveLength(1)
      expect((yield* b!.readStream(S.taskId(99))).map((e) => e.version)).toEqual([1])
      for (const task of tasks) expect((yield* b!.getTask(task))?.context.version).toBe(2)
    }).pipe(Effect.scoped))

  it.live("three instances appending at once: one gapless log, per-stream versions in order, the same summaries everywhere", () =>
    Effect.gen(function* () {
      const stores = yield* instances(3)
      // Each task is driven by one instance; 3 x 10 tasks x (1 + 3 x 4) events.
      yield* Effect.forEach(range(1, 30), (n) => runTask(stores[n % 3]!, S.taskId(n), 3), { concurrency: "unbounded", discard: true })
      const total = 30 * 13
      for (const es of stores) {
        const all = yield* es.readAll(1)
        expect(all.map((e) => e.position)).toEqual(range(1, total))
        for (let n = 1; n <= 30; n++) expect(all.filter((e) => e.stream === S.taskId(n)).map((e) => e.version)).toEqual(range(1, 13))
        expect((yield* es.countByStatus).continue).toBe(30)
      }
      const dumps = yield* Effect.forEach(stores, (es) => es.dumpProjections)
      expect(dumps[1]).toEqual(dumps[0])
      expect(dumps[2]).toEqual(dumps[0])
      // The summaries carry the positions the log has (each written around the position its statement took).
      yield* stores[0]!.rebuildProjections
      expect(yield* stores[0]!.dumpProjections).toEqual(dumps[0])
      // Every instance learns the head (its own commits, the others' NOTIFY, or the poll).
      for (const es of stores) {
        while ((yield* es.head) < total) yield* Effect.sleep("20 millis")
        expect(yield* es.head).toBe(total)
      }
    }).pipe(Effect.scoped))

  it.live("a subscriber on one instance sees the other instances' appends, in order, live", () =>
    Effect.gen(function* () {
      // A poll far slower than the test: only NOTIFY can wake the subscriber in time.
      const [a, b, c] = yield* instances(3, { pollMillis: 600_000 })
      yield* runTask(b!, S.taskId(1), 1) // positions 1..5
      const fiber = yield* Effect.forkChild(Stream.runCollect(Stream.take(a!.subscribe(3), 5 * 20 - 2)))
      yield* Effect.forEach(range(2, 20), (n) => runTask(n % 2 === 0 ? b! : c!, S.taskId(n), 1), { concurrency: "unbounded", discard: true })
      const received = yield* Fiber.join(fiber)
      expect(received.map((e) => e.position)).toEqual(range(3, 100))
      expect(received).toEqual((yield* c!.readAll(3)))
    }).pipe(Effect.scoped))

  it.live("a group folded on a head another instance has moved is written at the positions its statement takes", () =>
    Effect.gen(function* () {
      const [a, b] = yield* instances(2)
      const [one, two] = [S.taskId(1), S.taskId(2)]
      yield* a!.append(S.request(one, "noStream", [S.triggered(one)]))
      yield* b!.append(S.request(two, "noStream", [S.triggered(two)]))
      // a expects head 1 (its own commit) and has task 1 cached: it folds on position 1, the statement takes 2.
      const result = yield* a!.append(S.request(one, 1, [S.started(1), ...S.progressAndLog(1)]))
      expect(result.events.map((e) => e.position)).toEqual([3, 4, 5])
      expect(result.state.context.position).toBe(5)
      expect((yield* b!.readAll(1)).map((e) => [e.position, e.stream, e.version])).toEqual([[1, one, 1], [2, two, 1], [3, one, 2], [4, one, 3], [5, one, 4]])
      expect((yield* b!.getTask(one))?.context.position).toBe(5)
      // The cache and the expected head follow the real positions: the next append folds right.
      expect((yield* a!.append(S.request(one, 4, [S.continued(2)]))).events[0]?.position).toBe(6)
      const stored = yield* a!.dumpProjections
      yield* a!.rebuildProjections
      expect(yield* a!.dumpProjections).toEqual(stored)
    }).pipe(Effect.scoped))

  it.live("getTaskToAppend answers what this instance last wrote of a task, possibly older than the stored state; its append proves it", () =>
    Effect.gen(function* () {
      const [a, b] = yield* instances(2)
      const one = S.taskId(1)
      yield* a!.append(S.request(one, "noStream", [S.triggered(one)]))
      yield* b!.append(S.request(one, 1, [S.started(1)]))
      expect((yield* a!.getTaskToAppend(one))?.context.version).toBe(1)
      expect((yield* a!.getTask(one))?.context.version).toBe(2)
      expect((yield* b!.getTaskToAppend(one))?.context.version).toBe(2)
      // Decided on version 1, the append conflicts; the exact read it was judged on is kept.
      expect(yield* Effect.flip(a!.append(S.request(one, 1, [S.started(1)])))).toMatchObject({ _tag: "ConcurrencyConflict", actual: 2 })
      expect((yield* a!.getTaskToAppend(one))?.context.version).toBe(2)
      // A task this instance has not written is read from the store, and kept: the next append folds on it without a read.
      expect(yield* a!.getTaskToAppend(S.taskId(2))).toBeUndefined()
      const two = S.taskId(2)
      yield* b!.append(S.request(two, "noStream", [S.triggered(two)]))
      expect((yield* a!.getTaskToAppend(two))?.context.version).toBe(1)
      yield* b!.append(S.request(two, 1, [S.started(1)]))
      expect((yield* a!.getTaskToAppend(two))?.context.version).toBe(1)
      expect(yield* Effect.flip(a!.append(S.request(two, 1, [S.started(1)])))).toMatchObject({ _tag: "ConcurrencyConflict", actual: 2 })
    }).pipe(Effect.scoped))

  it.live("reads kept while a group is in flight leave that group's fold alone: it is folded again, at the real head, on what its write proved", () =>
    Effect.gen(function* () {
      const [a, b] = yield* instances(2)
      // b keeps moving the head, so a's groups are mostly folded again at the head their statement takes.
      let moving = true
      const mover = yield* Effect.forkChild(Effect.gen(function* () {
        const task = S.taskId(1_000)
        let version = (yield* b!.append(S.request(task, "noStream", [S.triggered(task)]))).version
        for (let n = 1; moving; n++) version = (yield* b!.append(S.request(task, version, S.iteration(n)))).version
      }))
      for (let n = 1; n <= 60; n++) {
        const task = S.taskId(n)
        yield* b!.append(S.request(task, "noStream", [S.triggered(task)]))
        // a starts a task it has not written while its runner-like readers ask for it: reads that land after the
        // group's commit find its own result (version 2), and the writer keeps them before the group is folded again.
        const [started] = yield* Effect.all(
          [Effect.exit(a!.append(S.request(task, 1, [S.started(1)]))), ...range(1, 24).map((k) => Effect.delay(a!.getTaskToAppend(task), `${k % 4} millis`))],
          { concurrency: "unbounded" },
        )
        expect(started).toMatchObject({ _tag: "Success", value: { version: 2 } })
      }
      moving = false
      yield* Fiber.join(mover)
      const stored = yield* a!.dumpProjections
      yield* a!.rebuildProjections
      expect(yield* a!.dumpProjections).toEqual(stored)
    }).pipe(Effect.scoped))

  it.live("an idempotency key is claimed once across instances: the first committed trigger owns it", () =>
    Effect.gen(function* () {
      const [a, b] = yield* instances(2)
      const results = yield* Effect.all(
        range(1, 10).map((n) => (n % 2 === 0 ? a! : b!).append(S.request(S.taskId(n), "noStream", [S.triggered(S.taskId(n), { idempotencyKey: "nightly" })]))),
        { concurrency: "unbounded" },
      )
      const first = results.map((r) => r.events[0]!).sort((x, y) => x.position - y.position)[0]!
      expect((yield* a!.findByIdempotencyKey("nightly"))?.context.taskId).toBe(first.stream)
      expect((yield* b!.findByIdempotencyKey("nightly"))?.context.taskId).toBe(first.stream)
      expect((yield* a!.dumpProjections).filter(([key]) => key.startsWith("p!idem!"))).toEqual([["p!idem!nightly", first.stream]])
    }).pipe(Effect.scoped))
})

describe("EventStore PostgreSQL: events carried by NOTIFY", () => {
  it.live("another instance takes a small group's events from its NOTIFY without reading the log, and reads a group too large to carry", () =>
    Effect.gen(function* () {
      const url = yield* database
      const name = url.slice(url.lastIndexOf("/") + 1)
      // Every statement on this database is logged from here on: the log reads are counted there.
      yield* Effect.promise(() => pg().psql(name, `ALTER DATABASE ${name} SET log_statement = 'all'`))
      const logReads = () => pg().log().split("\n").filter((line) => line.includes("FROM tasklane_events WHERE position >=")).length
      // A poll far slower than the test: the NOTIFY is all a has.
      const [a, b] = yield* instances(2, { pollMillis: 600_000 }, url)
      const before = logReads()
      const subscriber = yield* Effect.forkChild(Stream.runCollect(Stream.take(a!.subscribe(1), 13 + 1 + 81)))
      yield* runTask(b!, S.taskId(1), 3) // 13 events in 4 groups
      while ((yield* a!.head) < 13) yield* Effect.sleep("20 millis")
      expect(logReads()).toBe(before)
      // 81 events of about 150 bytes in one group: more than a payload takes, so a reads them.
      const task = S.taskId(2)
      const big = [S.started(1), ...range(1, 40).flatMap(() => S.progressAndLog(1))]
      yield* b!.append(S.request(task, "noStream", [S.triggered(task)]))
      yield* b!.append(S.request(task, 1, big))
      const received = yield* Fiber.join(subscriber)
      expect(logReads()).toBeGreaterThan(before)
      expect(received).toEqual(yield* b!.readAll(1))
      expect(received.map((e) => e.position)).toEqual(range(1, 95))
    }).pipe(Effect.scoped))
})

describe("EventStore PostgreSQL: a summary changed behind the store's back", () => {
  it.live("an append folded on a cached summary that moved is judged again on what is stored, and nothing of the first try is written", () =>
    Effect.gen(function* () {
      const url = yield* database
      const es = Context.get(yield* Layer.build(PgEventStore.layer({ url })), EventStore)
      const task = S.taskId(1)
      yield* es.append(S.request(task, "noStream", [S.triggered(task)]))
      // Not through the store (as another node would): the writer's cached summary (version 1) no longer matches the row.
      yield* Effect.promise(() => pg().psql(url.slice(url.lastIndexOf("/") + 1), `UPDATE tasklane_tasks SET version = 7, state = replace(state, '"version":1,', '"version":7,') WHERE stream = '${task}'`))
      // Accepted on the cache, the write's proof fails; read again, version 7 is what the append is judged on.
      expect(yield* Effect.flip(es.append(S.request(task, 1, [S.started(1)])))).toMatchObject({ _tag: "ConcurrencyConflict", expected: 1, actual: 7 })
      expect(yield* es.readAll(1)).toHaveLength(1)
      expect((yield* es.head)).toBe(1)
      expect((yield* es.health).status).toBe("ok")
    }).pipe(Effect.scoped))
})

describe("EventStore PostgreSQL: prune", () => {
  it.live("prune removes finished tasks, raises the watermark, and reads below it fail with PositionPruned on every instance", () =>
    Effect.gen(function* () {
      const [a, b] = yield* instances(2, { pollMillis: 50 })
      for (const n of [1, 2]) {
        yield* runTask(a!, S.taskId(n), 1)
        yield* a!.append(S.request(S.taskId(n), "any", [S.started(2), S.done(), S.onDoneCompleted()]))
      }
      yield* runTask(a!, S.taskId(3), 1) // still waiting: kept out of the prune, not counted as kept
      yield* a!.append(S.request(S.taskId(4), "noStream", [S.triggered(S.taskId(4))]))
      yield* a!.append(S.request(S.taskId(4), 1, [S.started(1), S.done()])) // its onDone hook is due: kept
      const dry = yield* a!.prune({ before: S.epoch + 1_000_000_000, dryRun: true })
      expect(dry).toMatchObject({ dryRun: true, tasks: 2, kept: 1, prunedThrough: 0 })
      const exported: Array<string> = []
      const result = yield* a!.prune({ before: S.epoch + 1_000_000_000, exportTask: (task, json) => Effect.sync(() => void exported.push(`${task.context.taskId}:${JSON.parse(json).length}`)) })
      expect(result).toMatchObject({ dryRun: false, tasks: 2, events: 16, kept: 1 })
      expect(exported).toEqual([`${S.taskId(2)}:8`, `${S.taskId(1)}:8`]) // newest first, as the listings
      expect(result.prunedThrough).toBe(16)
      expect(yield* a!.getTask(S.taskId(1))).toBeUndefined()
      expect(yield* Effect.flip(a!.readAll(1))).toMatchObject({ _tag: "PositionPruned", requested: 1, prunedThrough: 16, oldestRetained: 17 })
      expect((yield* a!.readAll(0)).map((e) => e.stream)).toEqual([...Array(5).fill(S.taskId(3)), ...Array(3).fill(S.taskId(4))])
      expect(yield* a!.retention).toMatchObject({ prunedThrough: 16, oldestRetained: 17 })
      // The other instance learns the watermark from the head row.
      while ((yield* Effect.exit(b!.readAll(1)))._tag === "Success") yield* Effect.sleep("20 millis")
      expect(yield* Effect.flip(Stream.runCollect(b!.subscribe(5)))).toMatchObject({ _tag: "PositionPruned" })
      // Positions are not reused; a pruned task's idempotency key and id can be used again.
      const next = yield* b!.append(S.request(S.taskId(1), "noStream", [S.triggered(S.taskId(1))]))
      expect(next.events[0]!.position).toBe(25)
      const before = yield* a!.dumpProjections
      yield* a!.rebuildProjections
      expect(yield* a!.dumpProjections).toEqual(before)
    }).pipe(Effect.scoped))

  it.live("three instances pruning at once (every node's retention) remove each task once, count it once, and keep the rest writable", () =>
    Effect.gen(function* () {
      const stores = yield* instances(3)
      // 600 finished tasks (more than two chunks), 20 still waiting, appended from all three.
      yield* Effect.forEach(range(1, 620), (n) =>
        Effect.gen(function* () {
          const es = stores[n % 3]!
          yield* runTask(es, S.taskId(n), 1)
          if (n <= 600) yield* es.append(S.request(S.taskId(n), "any", [S.started(2), S.done(), S.onDoneCompleted()]))
        }), { concurrency: 32, discard: true })
      // Each prunes while the others do, and while a waiting task moves on.
      const [results] = yield* Effect.all([
        Effect.forEach(stores, (es) => es.prune({ before: S.epoch + 1_000_000_000 }), { concurrency: 3 }),
        Effect.forEach(range(601, 620), (n) => stores[n % 3]!.append(S.request(S.taskId(n), 5, [S.started(2)])), { concurrency: 4, discard: true }),
      ], { concurrency: 2 })
      expect(results.reduce((sum, r) => sum + r.tasks, 0)).toBe(600)
      expect(results.reduce((sum, r) => sum + r.events, 0)).toBe(600 * 8)
      const remaining = yield* stores[1]!.listTasks({}, { limit: 1000 })
      expect(remaining.tasks.map((t) => t.context.taskId).sort()).toEqual(range(601, 620).map(S.taskId))
      for (const task of remaining.tasks) expect(task.context.version).toBe(6)
      expect((yield* stores[2]!.readAll(0)).map((e) => e.stream).sort()).toEqual(range(601, 620).flatMap((n) => Array(6).fill(S.taskId(n))).sort())
      const stored = yield* stores[0]!.dumpProjections
      yield* stores[0]!.rebuildProjections
      expect(yield* stores[0]!.dumpProjections).toEqual(stored)
    }).pipe(Effect.scoped))
})
