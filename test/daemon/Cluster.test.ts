/**
 * Cluster mode: real daemon processes as nodes on one real PostgreSQL 15 (a
 * private cluster, packages/core/test/support/Postgres.ts), a fresh
 * database per case. What a user would notice: any node serves every task
 * (triggered on one, followed and aborted from another); the nodes share
 * the work; a node killed mid-iteration has it re-run on another at once
 * (same host: its dead pid is seen) and a node paused past its lease has it
 * re-run after the lease, its late result refused when it wakes up, after
 * which it rejoins; a due hook runs once across the cluster; a node that
 * loses its database stops with exit code 75. The chaos suite with three
 * nodes is test/cluster.
 */
import { TaskEvent } from "@tasklane/core"
import { Stream } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { postgresForFile } from "../../packages/core/test/support/PostgresForFile.ts"
import { ok } from "../support/CliProcess.ts"
import { type DaemonProcess, fixtureConfig, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, history, poll, waitFor } from "../support/TaskPolling.ts"

const pg = postgresForFile()
const cleanup: Array<() => Promise<unknown> | void> = []

afterAll(async () => {
  for (const step of cleanup.reverse()) await step()
})

interface Node {
  readonly daemon: DaemonProcess
  readonly c: Connection
}

/** A node named `id` on `url` with a fresh data dir, stopped and removed after the file. */
const node = async (url: string, id: string, extra: ReadonlyArray<string> = []): Promise<Node> => {
  const args = ["--store", url, "--node-id", id, "--config", fixtureConfig, "--no-examples", "--abort-grace", "1", "--shutdown-grace", "2", ...extra]
  const daemon = await startDaemon({ dataDir: tempDataDir(), args })
  cleanup.push(() => removeDataDir(daemon.dataDir), () => daemon.stop())
  const c = await connectTo(daemon)
  cleanup.push(() => c.close().catch(() => undefined))
  return { daemon, c }
}

const trigger = async (c: Connection, definitionId: string, input: unknown) =>
  (await c.call((client) => client.Trigger({ definitionId, input }))).context.taskId

/** The decoded events of a task's history. */
const events = async (c: Connection, taskId: string) => (await history(c, taskId)).map((e) => TaskEvent.fromEnvelope(e).event)

/** The nodes each of a task's iterations started on, in order. */
const startedOn = async (c: Connection, taskId: string) =>
  (await events(c, taskId)).flatMap((e) => (e._tag === "IterationStarted" ? [`${e.iteration}.${e.attempt}@${e.node}`] : []))

describe("daemons on one PostgreSQL database form a cluster", () => {
  it("any node serves every task: triggered on one, followed, listed and aborted from another; both run work", async () => {
    const url = await pg().createDatabase()
    const a = await node(url, "a", ["--concurrency", "2"])
    const b = await node(url, "b", ["--concurrency", "2"])
    expect(a.daemon.output()).toContain("cluster node a")

    // Follow from b what a takes: b's Subscribe sees a's trigger and its whole run.
    const head = (await b.c.call((client) => client.Info())).head
    const followed = b.c.call((client) =>
      client.Subscribe({ fromPosition: head + 1 }).pipe(
        Stream.filter((e) => e.type === "TaskDone"),
        Stream.take(12),
        Stream.runCollect,
      )
    )
    const ids = await Promise.all(Array.from({ length: 12 }, () => trigger(a.c, "slow", { ms: 300 })))
    const done = Array.from(await followed)
    expect(new Set(done.map((e) => e.stream))).toEqual(new Set(ids))
    const nodes = new Set((await Promise.all(ids.map((id) => startedOn(b.c, id)))).flat().map((s) => s.split("@")[1]))
    expect(nodes).toEqual(new Set(["a", "b"]))

    // Aborted from b while it runs (on whichever node took it).
    const long = await trigger(a.c, "aborter", {})
    await waitFor(b.c, long, "running")
    await b.c.call((client) => client.Abort({ taskId: long }))
    await waitFor(a.c, long, "aborted")

    const listed = JSON.parse(await ok(b.daemon.dataDir, ["ls", "--json", "--limit", "100"])) as { tasks: Array<{ context: { taskId: string } }> }
    expect(listed.tasks.map((t) => t.context.taskId).sort()).toEqual([...ids, long].sort())
  }, 90_000)

  it("a node killed mid-iteration: another records it interrupted and runs it again at once (its process is seen gone)", async () => {
    const url = await pg().createDatabase()
    const a = await node(url, "a")
    const b = await node(url, "b")
    const taskId = await trigger(a.c, "slow", { ms: 4_000 })
    await waitFor(b.c, taskId, "running")
    const killedAt = Date.now()
    a.daemon.child.kill("SIGKILL")
    const done = await waitFor(b.c, taskId, "done", { timeoutMs: 30_000 })
    const took = Date.now() - killedAt
    expect(await startedOn(b.c, taskId)).toEqual(["1.1@a", "1.2@b"])
    expect((await events(b.c, taskId)).map((e) => e._tag)).toEqual(["TaskTriggered", "IterationStarted", "IterationInterrupted", "IterationStarted", "TaskDone"])
    expect(done.status).toBe("done")
    // Well within the 10 s lease: the dead pid on this host is seen at b's next heartbeat (every 2 s), then 4 s to run again.
    expect(took).toBeLessThan(10_000)
    expect(b.daemon.output()).toContain("node a fenced")
  }, 60_000)

  it("a node paused past its lease: its iteration runs again elsewhere; woken up, its late result is refused and it rejoins", async () => {
    const url = await pg().createDatabase()
    const a = await node(url, "a", ["--lease", "2"])
    const b = await node(url, "b", ["--lease", "2"])
    const taskId = await trigger(a.c, "slow", { ms: 3_000 })
    await waitFor(b.c, taskId, "running")
    a.daemon.child.kill("SIGSTOP")
    try {
      // b fences a after the lease and re-runs the iteration; it ends done while a sleeps.
      await waitFor(b.c, taskId, "done", { timeoutMs: 20_000 })
      expect(await startedOn(b.c, taskId)).toEqual(["1.1@a", "1.2@b"])
    } finally {
      a.daemon.child.kill("SIGCONT")
    }
    // a wakes up, finishes its iteration: refused (superseded); its heartbeat finds it fenced; it registers again.
    await poll(async () => (a.daemon.output().includes("registered again") ? true : undefined), { timeoutMs: 20_000, what: () => a.daemon.output() })
    expect(a.daemon.output()).toContain("node a was fenced")
    const after = await events(b.c, taskId)
    expect(after.filter(TaskEvent.isFinal)).toHaveLength(1)
    expect(after.map((e) => e._tag)).toEqual(["TaskTriggered", "IterationStarted", "IterationInterrupted", "IterationStarted", "TaskDone"])
    // And it works again: a task it takes runs to done.
    const next = await trigger(a.c, "quick", {})
    await waitFor(a.c, next, "done")
    const nodes = JSON.parse(await ok(b.daemon.dataDir, ["daemon", "status", "--json"])) as { cluster?: { nodes: Array<{ id: string; live: boolean }> } }
    expect(nodes.cluster?.nodes.map((n) => [n.id, n.live]).sort()).toEqual([["a", true], ["b", true]])
  }, 90_000)

  it("a due hook runs once across the cluster", async () => {
    const url = await pg().createDatabase()
    const a = await node(url, "a")
    const b = await node(url, "b")
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => trigger(i % 2 === 0 ? a.c : b.c, "hooked", { answer: "done" })))
    for (const id of ids) await waitFor(a.c, id, "done", { settled: true })
    for (const id of ids) {
      const ran = (a.daemon.output() + b.daemon.output()).split("\n").filter((line) => line.includes(`hooked: onDone ran for ${id}`))
      expect(ran).toHaveLength(1)
      expect((await events(a.c, id)).filter((e) => e._tag === "HookCompleted")).toHaveLength(1)
    }
  }, 60_000)

  it("a node told to stop while its database is unreachable stops within seconds, exit code 0 (what it could not record, another node recovers)", async () => {
    const url = await pg().createDatabase()
    const a = await node(url, "a")
    // A run that ignores aborts: the stop must give up recording it interrupted, and leaving the cluster, once the grace is over.
    const taskId = await trigger(a.c, "stubborn", {})
    await waitFor(a.c, taskId, "running")
    const database = new URL(url).pathname.slice(1)
    await pg().psql("postgres", `ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`)
    await pg().psql("postgres", `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${database}'`)
    try {
      // Before its heartbeats would find the database lost (half the 10 s lease).
      const asked = performance.now()
      expect(await a.daemon.stop()).toBe(0)
      // The shutdown grace (2 s), the abort grace (1 s) and the bounded goodbye (2 s) at most, with room for a loaded machine.
      expect(performance.now() - asked).toBeLessThan(10_000)
    } finally {
      await pg().psql("postgres", `ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`)
    }
    // The database back, the next node records the cut-short iteration and runs it again.
    const b = await node(url, "b")
    const recovered = await poll(async () => {
      const tags = (await events(b.c, taskId)).map((e) => e._tag)
      return tags.includes("IterationInterrupted") && tags.lastIndexOf("IterationStarted") > tags.indexOf("IterationInterrupted") ? tags : undefined
    }, { timeoutMs: 20_000 })
    expect(recovered).toEqual(["TaskTriggered", "IterationStarted", "IterationInterrupted", "IterationStarted"])
  }, 60_000)

  it("a node that loses its database stops with exit code 75, for its supervisor to restart it", async () => {
    const url = await pg().createDatabase()
    const a = await node(url, "a", ["--lease", "2"])
    const database = new URL(url).pathname.slice(1)
    await pg().psql("postgres", `ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`)
    await pg().psql("postgres", `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${database}'`)
    try {
      expect(await a.daemon.exited).toBe(75)
    } finally {
      await pg().psql("postgres", `ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`)
    }
    // It says why: the heartbeats failed; then it stops gracefully, or after the grace period (plus 5 s) at the latest.
    expect(a.daemon.output()).toContain("heartbeat failed")
    expect(a.daemon.output()).toMatch(/Stopping with exit code 75 so that a supervisor restarts the daemon|did not stop within 7 s; exiting with code 75/)
  }, 30_000)
})
