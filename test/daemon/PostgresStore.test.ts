/**
 * `tasklane daemon --store postgres://…`: the real daemon process on a real
 * PostgreSQL 15 (a private cluster, packages/core/test/support/Postgres.ts),
 * one database per case. What a user would notice: tasks run to done and
 * every client call works; the history outlives the daemon and its data
 * directory (a new daemon on the same URL, another data dir, finds it all
 * and every history replays to its stored state); a database that cannot
 * be reached fails fast, naming the URL without its password. Several
 * daemons on one database (cluster mode) are test/daemon/Cluster.test.ts.
 */
import { writeFileSync } from "node:fs"
import * as Net from "node:net"
import { join } from "node:path"
import { Replay, TaskEvent } from "@tasklane/core"
import { Stream } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { postgresForFile } from "../../packages/core/test/support/PostgresForFile.ts"
import { ok } from "../support/CliProcess.ts"
import { type DaemonProcess, fixtureConfig, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, history, waitFor } from "../support/TaskPolling.ts"

const pg = postgresForFile()
const cleanup: Array<() => Promise<unknown> | void> = []

afterAll(async () => {
  for (const step of cleanup.reverse()) await step()
})

const args = (url: string) => ["--store", url, "--config", fixtureConfig, "--no-examples", "--abort-grace", "1", "--shutdown-grace", "2"]

/** A daemon on `url` with a fresh data dir, stopped and removed after the file. */
const daemonOn = async (url: string): Promise<{ readonly daemon: DaemonProcess; readonly c: Connection }> => {
  const daemon = await startDaemon({ dataDir: tempDataDir(), args: args(url) })
  cleanup.push(() => removeDataDir(daemon.dataDir), () => daemon.stop())
  const c = await connectTo(daemon)
  cleanup.push(() => c.close())
  return { daemon, c }
}

/** The state as plain JSON (what GetTask sends and what a replay folds are compared as data). */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value))

describe("a daemon on PostgreSQL", () => {
  it("runs tasks to done, serves ls/GetTask/History/Subscribe; a new daemon on the same URL finds all of it", async () => {
    const url = await pg().createDatabase()
    const first = await daemonOn(url)
    expect(first.daemon.output()).toContain(`event store: PostgreSQL at ${url}`)

    const { c } = first
    const quick = (await c.call((client) => client.Trigger({ definitionId: "quick", input: { hello: "pg" } }))).context.taskId
    const counter = (await c.call((client) => client.Trigger({ definitionId: "counter", input: { n: 0, target: 3 } }))).context.taskId
    const quickDone = await waitFor(c, quick, "done", { settled: true })
    const counterDone = await waitFor(c, counter, "done", { settled: true })
    expect(quickDone.context.output).toEqual({ echoed: { hello: "pg" } })
    expect(counterDone.context.output).toEqual({ counted: 3 })
    expect((await history(c, counter)).map((e) => e.type)).toEqual([
      "TaskTriggered",
      ...Array.from({ length: 3 }, () => ["IterationStarted", "ProgressUpdated", "TaskLogged", "IterationContinued"]).flat(),
      "IterationStarted",
      "ProgressUpdated",
      "TaskLogged",
      "TaskDone",
    ])

    // Subscribe from 1 delivers the whole log, gapless, in order.
    const head = (await c.call((client) => client.Info())).head
    const log = Array.from(await c.call((client) => client.Subscribe({ fromPosition: 1 }).pipe(Stream.take(head), Stream.runCollect)))
    expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1))
    expect(new Set(log.map((e) => e.stream))).toEqual(new Set([quick, counter]))

    const listed = JSON.parse(await ok(first.daemon.dataDir, ["ls", "--json"])) as { tasks: Array<{ context: { taskId: string }; status: string }> }
    expect(listed.tasks.map((t) => [t.context.taskId, t.status]).sort()).toEqual([[quick, "done"], [counter, "done"]].sort())
    const status = await ok(first.daemon.dataDir, ["daemon", "status"])
    expect(status).toMatch(/^tasks .* done 2,/m)
    expect(status).toMatch(/store size   \d/)
    // Which store, and where; a daemon on PostgreSQL is a cluster node, here the only one.
    expect(status).toContain(`event store  PostgreSQL at ${url}`)
    expect(status).toMatch(/^cluster +this daemon is node \S+ \(\*\); 1 node, 1 live$/m)

    const stored = { quick: plain(quickDone), counter: plain(counterDone), head }
    await c.close()
    expect(await first.daemon.stop()).toBe(0)

    // Another data dir, the same database: everything is there.
    const second = await daemonOn(url)
    expect((await second.c.call((client) => client.Info())).head).toBe(stored.head)
    for (const [taskId, expected] of [[quick, stored.quick], [counter, stored.counter]] as const) {
      const state = await second.c.call((client) => client.GetTask({ taskId }))
      expect(plain(state)).toEqual(expected)
      const replayed = Replay.replay((await history(second.c, taskId)).map((e) => TaskEvent.fromEnvelope(plain(e))))
      expect(replayed).not.toBeInstanceOf(Replay.ReplayError)
      expect(plain(replayed)).toEqual(expected)
    }
    // And it keeps running new tasks on the same log.
    const after = (await second.c.call((client) => client.Trigger({ definitionId: "quick", input: {} }))).context.taskId
    await waitFor(second.c, after, "done")
    expect((await history(second.c, after))[0]!.position).toBeGreaterThan(stored.head)
  }, 60_000)

  it("an unreachable database fails fast with one clear line that does not contain the password", async () => {
    const closed = await new Promise<number>((resolve) => {
      // A port nothing listens on: bind one, read it, close it.
      const server = Net.createServer()
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as Net.AddressInfo).port
        server.close(() => resolve(port))
      })
    })
    const url = `postgres://tasklane:s3cret-pw@127.0.0.1:${closed}/tasks`
    const dataDir = tempDataDir()
    cleanup.push(() => removeDataDir(dataDir))
    const startedAt = Date.now()
    const daemon = await startDaemon({ dataDir, args: args(url), waitReady: false })
    const code = await daemon.exited
    expect(code).toBe(1)
    expect(Date.now() - startedAt).toBeLessThan(15_000)
    const output = daemon.output()
    expect(output).toContain(`tasklane daemon: cannot open the PostgreSQL event store at postgres://tasklane:***@127.0.0.1:${closed}/tasks: `)
    expect(output).not.toContain("s3cret-pw")
    expect(output.trim().split("\n")).toHaveLength(1)
  }, 30_000)

  it("refuses a store that is not a postgres:// URL (flag or config), and --accept-store-damage with PostgreSQL", async () => {
    const dataDir = tempDataDir()
    cleanup.push(() => removeDataDir(dataDir))
    const config = join(dataDir, "tasklane.config.mjs")
    writeFileSync(config, `export default { tasks: [], store: "level:./here" }\n`)
    const configured = await startDaemon({ dataDir, args: ["--config", config, "--no-examples"], waitReady: false })
    expect(await configured.exited).toBe(1)
    expect(configured.output()).toContain(`cannot load ${config}: \`store\` must be a postgres:// or postgresql:// URL`)

    const wrong = await startDaemon({ dataDir, args: ["--store", "mysql://db/tasks"], waitReady: false })
    expect(await wrong.exited).toBe(1)
    expect(wrong.output()).toContain("--store must be a postgres:// or postgresql:// URL")
    const damage = await startDaemon({ dataDir, args: ["--store", "postgres://db/tasks", "--accept-store-damage"], waitReady: false })
    expect(await damage.exited).toBe(1)
    expect(damage.output()).toContain("--accept-store-damage applies to the embedded LevelDB store only")
  })
})
