/**
 * `tasklane daemon start|stop|status` and exit code 3: a background daemon
 * with its pid and log file in the data dir, stopped gracefully; every
 * command says how to start a daemon when none answers.
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ok, tasklane } from "../support/CliProcess.ts"
import { fixtureConfig, removeDataDir, tempDataDir } from "../support/DaemonProcess.ts"

const dir = tempDataDir()

afterAll(async () => {
  await tasklane(dir, ["daemon", "stop"])
  removeDataDir(dir)
})

describe("tasklane CLI: daemon control", () => {
  it("exit 3 with no daemon: one sentence saying how to start it; the cause only with --verbose", async () => {
    for (const args of [["ls"], ["definitions", "--json"], ["daemon", "status"]]) {
      const run = await tasklane(dir, args)
      expect(run.code).toBe(3)
      expect(run.stderr.trim()).toMatch(/^tasklane: cannot reach the Tasklane daemon at .+ Start it with `tasklane daemon`.*$/)
      expect(run.stdout).toBe("")
    }
    const verbose = await tasklane(dir, ["ls", "--verbose"])
    expect(verbose.code).toBe(3)
    expect(verbose.stderr).toMatch(/^\s+at /m)
  })

  it("starts a background daemon, reports its status, and stops it gracefully", async () => {
    const started = JSON.parse(await ok(dir, ["daemon", "start", "--config", fixtureConfig, "--no-examples", "--json"]))
    expect(started).toMatchObject({ started: true, dataDir: dir })
    expect(Number(readFileSync(join(dir, "daemon.pid"), "utf8").trim())).toBe(started.pid)

    expect(await ok(dir, ["daemon", "start"])).toContain(`already running for ${dir} (pid ${started.pid})`)
    const status = JSON.parse(await ok(dir, ["daemon", "status", "--json"]))
    expect(status).toMatchObject({ pid: started.pid, dataDir: dir, version: "0.1.0", storeKind: "leveldb", storeLocation: join(dir, "store") })
    // Alone on LevelDB: no cluster, in JSON or in text.
    expect(status).not.toHaveProperty("cluster")
    const human = await ok(dir, ["daemon", "status"])
    expect(human).toMatch(/^tasklane daemon 0\.1\.0 \(pid \d+\)/)
    expect(human).toContain(`event store  LevelDB at ${join(dir, "store")}`)
    expect(human).not.toMatch(/^cluster/m)
    const id = (await ok(dir, ["trigger", "quick"])).trim()
    expect(id).not.toBe("")

    const stopped = JSON.parse(await ok(dir, ["daemon", "stop", "--json"]))
    expect(stopped).toEqual({ stopped: true, pid: started.pid, dataDir: dir })
    expect(existsSync(join(dir, "daemon.pid"))).toBe(false)
    expect(readFileSync(join(dir, "daemon.log"), "utf8")).toContain(`(pid ${started.pid}) serving`)
    expect((await tasklane(dir, ["daemon", "status"])).code).toBe(3)
    expect(await ok(dir, ["daemon", "stop"])).toContain("no daemon is running")
  })
})
