/**
 * The cluster's shared state on PostgreSQL (PgCluster): node registration,
 * heartbeats and fencing by the database's clock, claims of waiting tasks
 * (disjoint between nodes, due by the database's clock, per-definition
 * limits across the cluster, lapsing with the task's version or its node's
 * life), hook claims, and the running iterations a dead node leaves behind.
 * One private PostgreSQL cluster for this file, a fresh database per test;
 * the store instances write the tasks as a daemon would. Leases are short
 * (400 ms) so that nodes die quickly.
 */
import { it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { describe, expect, vi } from "vitest"
import { EventStore } from "../src/EventStore.ts"
import type { TaskId } from "../src/Ids.ts"
import type * as Replay from "../src/Replay.ts"
import * as PgCluster from "../src/PgCluster.ts"
import * as PgEventStore from "../src/PgEventStore.ts"
import * as TaskEvent from "../src/TaskEvent.ts"
import { postgresForFile } from "./support/PostgresForFile.ts"
import * as S from "./support/StoreEvents.ts"

vi.setConfig({ testTimeout: 60_000 })

const pg = postgresForFile()

const leaseMs = 400

/** A fresh database with a store instance on it (the schema migrated) and a way to add nodes. */
const setup = Effect.gen(function* () {
  const url = yield* Effect.promise(() => pg().createDatabase())
  const store = Context.get(yield* Layer.build(PgEventStore.layer({ url })), EventStore)
  const node = (id: string, pid = process.pid, claimMs?: number, onClaimed?: (state: Replay.TaskState) => void) =>
    PgCluster.make({ url, leaseMs, claimMs, onClaimed, identity: { id, host: "test-host", localKey: "test", pid } })
  return { url, store, node }
})

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

/** Triggers tasks `from..from+n-1` of a definition, waiting (not started). */
const trigger = (store: EventStore["Service"], from: number, n: number, definitionId = "demo") =>
  Effect.forEach(range(n), (i) => store.append(S.request(S.taskId(from + i - 1), "noStream", [S.triggered(S.taskId(from + i - 1), { definitionId })])), {
    concurrency: "unbounded",
  })

const startOn = (store: EventStore["Service"], task: TaskId, version: number, node: string) =>
  store.append(S.request(task, version, [S.newEvent(new TaskEvent.IterationStarted({ iteration: 1, attempt: 1, node }))]))

const ids = (claimed: ReadonlyArray<PgCluster.Claimed>) => claimed.map((c) => c.stream).sort()

describe("PgCluster: nodes", () => {
  it.live("registering again takes the next epoch; a node silent past its lease is fenced, its heartbeat says so, and it can rejoin", () =>
    Effect.gen(function* () {
      const { node } = yield* setup
      const a = yield* node("a")
      const b = yield* node("b")
      expect(a.epoch()).toBe(1)
      expect(yield* a.register).toBe(2)
      expect(yield* a.heartbeat(3)).toBe("ok")
      expect((yield* b.nodes).map((n) => [n.id, n.epoch, n.running, n.live])).toEqual([["a", 2, 3, true], ["b", 1, 0, true]])
      // Nothing is past its lease yet: fencing finds nobody.
      expect(yield* b.fence([])).toEqual([])
      yield* Effect.sleep(leaseMs + 200)
      expect(yield* b.heartbeat(0)).toBe("ok")
      expect(yield* b.fence([])).toEqual(["a"])
      expect(yield* a.heartbeat(0)).toBe("fenced")
      expect((yield* b.nodes).find((n) => n.id === "a")?.live).toBe(false)
      expect(yield* a.register).toBe(3)
      expect(yield* a.heartbeat(0)).toBe("ok")
    }).pipe(Effect.scoped))

  it.live("a node named dead (its process gone) is fenced at once, even within its lease; a node never fences itself", () =>
    Effect.gen(function* () {
      const { node } = yield* setup
      const a = yield* node("a", 4_000_000)
      const b = yield* node("b")
      expect(yield* b.fence([{ id: "a", epoch: 7 }])).toEqual([])
      expect(yield* b.fence([{ id: "a", epoch: a.epoch() }, { id: "b", epoch: b.epoch() }])).toEqual(["a"])
      expect(yield* a.heartbeat(0)).toBe("fenced")
      expect(yield* b.heartbeat(0)).toBe("ok")
    }).pipe(Effect.scoped))

  it.live("leave removes the node's row", () =>
    Effect.gen(function* () {
      const { node } = yield* setup
      const a = yield* node("a")
      const b = yield* node("b")
      yield* a.leave
      expect((yield* b.nodes).map((n) => n.id)).toEqual(["b"])
    }).pipe(Effect.scoped))
})

describe("PgCluster: claims", () => {
  it.live("two nodes claiming at once take disjoint tasks, oldest first; a claim holds against others while its node lives, and lapses with it", () =>
    Effect.gen(function* () {
      const { store, node } = yield* setup
      yield* trigger(store, 1, 20)
      const a = yield* node("a")
      const b = yield* node("b")
      const [fromA, fromB] = yield* Effect.all([a.claim(10, new Map()), b.claim(10, new Map())], { concurrency: 2 })
      expect(fromA.length + fromB.length).toBe(20)
      expect(new Set([...ids(fromA), ...ids(fromB)]).size).toBe(20)
      // Held by a live node: nobody else gets them; the holder may claim its own again.
      expect(ids(yield* b.claim(20, new Map()))).toEqual(ids(fromB))
      expect(ids(yield* a.claim(20, new Map()))).toEqual(ids(fromA))
      // Oldest first: one node alone claiming 5 of 5 fresh tasks gets them in trigger order.
      yield* trigger(store, 100, 5)
      const c = yield* node("c")
      const fromC = yield* c.claim(5, new Map())
      expect(fromC.map((x) => x.stream)).toEqual(range(5).map((i) => S.taskId(99 + i)))
      // a and c die: their claims lapse and b can take them.
      yield* Effect.sleep(leaseMs + 200)
      yield* b.heartbeat(0)
      expect(ids(yield* b.claim(40, new Map()))).toEqual(ids([...fromA, ...fromB, ...fromC]))
    }).pipe(Effect.scoped))

  it.live("a start claim lapses after claimMs though its node lives (stuck right after claiming): another node starts the task, the late start conflicts", () =>
    Effect.gen(function* () {
      const { store, node } = yield* setup
      yield* trigger(store, 1, 1)
      const a = yield* node("a", process.pid, 250)
      const b = yield* node("b", process.pid, 250)
      expect(ids(yield* a.claim(1, new Map()))).toEqual([S.taskId(1)])
      expect(yield* b.claim(1, new Map())).toEqual([])
      yield* Effect.sleep(300)
      // a is live (within its lease), but its claim is too old to hold.
      expect(yield* a.heartbeat(0)).toBe("ok")
      expect(ids(yield* b.claim(1, new Map()))).toEqual([S.taskId(1)])
      yield* startOn(store, S.taskId(1), 1, "b")
      expect(yield* Effect.flip(startOn(store, S.taskId(1), 1, "a"))).toMatchObject({ _tag: "ConcurrencyConflict", actual: 2 })
    }).pipe(Effect.scoped))

  it.live("a claim hands the claimed summary to the claiming node's store, which appends the start on it without reading the task", () =>
    Effect.gen(function* () {
      const { url, store, node } = yield* setup
      yield* trigger(store, 1, 2)
      /** Another node's store, and a cluster node that hands its claims to it (as the daemon wires them), or not. */
      const member = (id: string, handOver: boolean) =>
        Effect.gen(function* () {
          const services = yield* Layer.build(PgEventStore.layer({ url }))
          const kept = Context.get(services, PgEventStore.KeptStates)
          return { store: Context.get(services, EventStore), node: yield* node(id, process.pid, undefined, handOver ? kept.keep : undefined) }
        })
      const b = yield* member("b", true)
      const c = yield* member("c", false)
      expect(ids(yield* b.node.claim(1, new Map()))).toEqual([S.taskId(1)])
      expect(ids(yield* c.node.claim(1, new Map()))).toEqual([S.taskId(2)])
      // Marked behind every store's back, at the same version: a read of either summary now finds the mark.
      const database = url.slice(url.lastIndexOf("/") + 1)
      yield* Effect.promise(() => pg().psql(database, `UPDATE tasklane_tasks SET state = replace(state, '"definitionId":"demo"', '"definitionId":"marked"')`))
      expect((yield* b.store.getTaskToAppend(S.taskId(1)))?.context.definitionId).toBe("demo")
      expect((yield* c.store.getTaskToAppend(S.taskId(2)))?.context.definitionId).toBe("marked")
      expect((yield* b.store.getTask(S.taskId(1)))?.context.definitionId).toBe("marked")
      // The kept summary is at the stored version: the start on it is accepted.
      yield* startOn(b.store, S.taskId(1), 1, "b")
      expect((yield* store.getTask(S.taskId(1)))?.status).toBe("running")
    }).pipe(Effect.scoped))

  it.live("a claim lapses when the task moves on; a started task is not claimable", () =>
    Effect.gen(function* () {
      const { store, node } = yield* setup
      yield* trigger(store, 1, 1)
      const a = yield* node("a")
      const b = yield* node("b")
      expect(ids(yield* a.claim(1, new Map()))).toEqual([S.taskId(1)])
      expect(yield* b.claim(1, new Map())).toEqual([])
      yield* startOn(store, S.taskId(1), 1, "a")
      expect(yield* b.claim(1, new Map())).toEqual([])
      yield* store.append(S.request(S.taskId(1), 2, [S.continued(1)]))
      expect(ids(yield* b.claim(1, new Map()))).toEqual([S.taskId(1)])
    }).pipe(Effect.scoped))

  it.live("a task whose iteration a dead node cut short is claimed before older waiting ones; once it moves on, age decides again", () =>
    Effect.gen(function* () {
      const { store, node } = yield* setup
      yield* trigger(store, 1, 3)
      const cut = S.taskId(3)
      yield* startOn(store, cut, 1, "gone")
      yield* store.append(S.request(cut, 2, [S.newEvent(new TaskEvent.IterationInterrupted({ iteration: 1, reason: "crash" }))]))
      const b = yield* node("b")
      expect(ids(yield* b.claim(1, new Map()))).toEqual([cut])
      // Its re-run continues: crashes are cleared, and it waits in line by age (after 1 and 2, which b holds now too).
      yield* store.append(S.request(cut, 3, [S.newEvent(new TaskEvent.IterationStarted({ iteration: 1, attempt: 2, node: "b" })), S.continued(1)]))
      expect(ids(yield* b.claim(3, new Map()))).toEqual([S.taskId(1), S.taskId(2), cut])
    }).pipe(Effect.scoped))

  it.live("a database from before 3_reruns gets the crashes of its waiting tasks from their stored states when it migrates", () =>
    Effect.gen(function* () {
      const url = yield* Effect.promise(() => pg().createDatabase())
      const database = url.slice(url.lastIndexOf("/") + 1)
      const cut = S.taskId(3)
      yield* Effect.scoped(Effect.gen(function* () {
        const store = Context.get(yield* Layer.build(PgEventStore.layer({ url })), EventStore)
        yield* trigger(store, 1, 3)
        yield* startOn(store, cut, 1, "gone")
        yield* store.append(S.request(cut, 2, [S.newEvent(new TaskEvent.IterationInterrupted({ iteration: 1, reason: "crash" }))]))
      }))
      // Back to the schema 2_cluster left: no crashes column, the runnable index by age, the idempotency key unique as a
      // column constraint, no record of 3_reruns (nor of what came after).
      yield* Effect.promise(() => pg().psql(database, `ALTER TABLE tasklane_tasks DROP COLUMN crashes, DROP COLUMN claimed_at;
        CREATE INDEX tasklane_tasks_runnable ON tasklane_tasks (created_key) WHERE listed AND status IN ('triggered', 'continue');
        DROP INDEX tasklane_tasks_idempotency; ALTER TABLE tasklane_tasks ADD CONSTRAINT tasklane_tasks_idempotency_key_key UNIQUE (idempotency_key);
        DELETE FROM tasklane_migrations WHERE migration_id >= 3`))
      yield* Layer.build(PgEventStore.layer({ url }))
      expect((yield* Effect.promise(() => pg().psql(database, "SELECT stream || ':' || coalesce(crashes::text, '-') FROM tasklane_tasks ORDER BY stream"))).trim().split("\n"))
        .toEqual([`${S.taskId(1)}:-`, `${S.taskId(2)}:-`, `${cut}:1`])
      const b = yield* PgCluster.make({ url, leaseMs, identity: { id: "b", host: "test-host", localKey: "test", pid: process.pid } })
      expect(ids(yield* b.claim(1, new Map()))).toEqual([cut])
    }).pipe(Effect.scoped))

  it.live("a task waiting until a wake time is claimed only once the database's clock passes it", () =>
    Effect.gen(function* () {
      const { store, node } = yield* setup
      const [row] = yield* Effect.promise(() => pg().psql("postgres", "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint"))
        .pipe(Effect.map((out) => [Number(out.trim())]))
      const wakeAt = row! + 700
      yield* store.append(S.request(S.taskId(1), "noStream", [S.newEvent(new TaskEvent.TaskTriggered({
        taskId: S.taskId(1),
        definitionId: "demo" as never,
        input: {},
        maxIterations: 1,
        wakeAt,
      }))]))
      const a = yield* node("a")
      expect(yield* a.claim(1, new Map())).toEqual([])
      const wait = yield* a.nextWakeIn
      expect(wait).toBeGreaterThan(300)
      expect(wait).toBeLessThanOrEqual(700)
      yield* Effect.sleep(wait! + 50)
      expect(ids(yield* a.claim(1, new Map()))).toEqual([S.taskId(1)])
    }).pipe(Effect.scoped))

  it.live("a definition's concurrency limit holds across the cluster: running and claimed tasks count, finished ones free a place", () =>
    Effect.gen(function* () {
      const { store, node } = yield* setup
      yield* trigger(store, 1, 5, "limited")
      yield* trigger(store, 10, 3, "free")
      const limits = new Map([["limited", 2]])
      const a = yield* node("a")
      const b = yield* node("b")
      const first = yield* a.claim(10, limits)
      expect(first.filter((c) => c.definitionId === "limited")).toHaveLength(2)
      expect(first.filter((c) => c.definitionId === "free")).toHaveLength(3)
      expect(yield* b.claim(10, limits)).toEqual([])
      // One of them starts (running still counts), then ends: a place is free.
      const one = first.find((c) => c.definitionId === "limited")!.stream
      yield* startOn(store, one, 1, "a")
      expect(yield* b.claim(10, limits)).toEqual([])
      yield* store.append(S.request(one, 2, [S.done()]))
      const next = yield* b.claim(10, limits)
      expect(next).toHaveLength(1)
      expect(next[0]!.definitionId).toBe("limited")
    }).pipe(Effect.scoped))
})

describe("PgCluster: what a dead node leaves", () => {
  it.live("running iterations of a node that is not live are orphans (with their iteration and attempt); a node sees its own after a restart", () =>
    Effect.gen(function* () {
      const { store, node } = yield* setup
      yield* trigger(store, 1, 2)
      const a = yield* node("a")
      const b = yield* node("b")
      yield* startOn(store, S.taskId(1), 1, "a")
      yield* startOn(store, S.taskId(2), 1, "b")
      expect(yield* b.orphans(10)).toEqual([])
      expect((yield* a.ownRunning).map((r) => r.stream)).toEqual([S.taskId(1)])
      yield* Effect.sleep(leaseMs + 200)
      yield* b.heartbeat(0)
      expect(yield* b.orphans(10)).toEqual([{ stream: S.taskId(1), iteration: 1, attempt: 1, node: "a" }])
    }).pipe(Effect.scoped))

  it.live("a due hook is claimed by one live node at a time; when its node dies it is an orphan and another takes it", () =>
    Effect.gen(function* () {
      const { store, node } = yield* setup
      yield* trigger(store, 1, 1)
      yield* startOn(store, S.taskId(1), 1, "a")
      const a = yield* node("a")
      const b = yield* node("b")
      expect(yield* a.claimHook(S.taskId(1))).toBe(false)
      yield* store.append(S.request(S.taskId(1), 2, [S.done()]))
      expect(yield* b.orphanHooks(10)).toEqual([S.taskId(1)])
      expect(yield* a.claimHook(S.taskId(1))).toBe(true)
      expect(yield* b.claimHook(S.taskId(1))).toBe(false)
      expect(yield* a.claimHook(S.taskId(1))).toBe(true)
      expect(yield* b.orphanHooks(10)).toEqual([])
      yield* Effect.sleep(leaseMs + 200)
      yield* b.heartbeat(0)
      expect(yield* b.orphanHooks(10)).toEqual([S.taskId(1)])
      expect(yield* b.claimHook(S.taskId(1))).toBe(true)
      yield* store.append(S.request(S.taskId(1), 3, [S.onDoneCompleted()]))
      expect(yield* b.orphanHooks(10)).toEqual([])
      expect(yield* b.claimHook(S.taskId(1))).toBe(false)
    }).pipe(Effect.scoped))

  it.live("a node's own hook claim is still offered to it (it may have lost the run); a claim of an earlier epoch lapses when the node registers again", () =>
    Effect.gen(function* () {
      const { store, node } = yield* setup
      yield* trigger(store, 1, 1)
      yield* startOn(store, S.taskId(1), 1, "a")
      yield* store.append(S.request(S.taskId(1), 2, [S.done()]))
      const a = yield* node("a")
      const b = yield* node("b")
      expect(yield* a.claimHook(S.taskId(1))).toBe(true)
      expect(yield* a.orphanHooks(10)).toEqual([S.taskId(1)])
      expect(yield* b.orphanHooks(10)).toEqual([])
      // a restarts under the same id: its old claim is no one's, b may take it.
      yield* a.register
      expect(yield* b.orphanHooks(10)).toEqual([S.taskId(1)])
      expect(yield* b.claimHook(S.taskId(1))).toBe(true)
      expect(yield* a.claimHook(S.taskId(1))).toBe(false)
    }).pipe(Effect.scoped))
})
