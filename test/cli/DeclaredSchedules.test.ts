/**
 * Schedules declared by a definition (`schedules` on the class), against a
 * real daemon restarted with different declarations: created at start with
 * the stable id `<definition>.<name>` and listed as `definition`; a user's
 * pause survives a restart that changes the cron (updated, still paused);
 * one the definition stops declaring is removed while user schedules stay;
 * invalid input stops the start with an error naming the class and schedule.
 */
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ok } from "../support/CliProcess.ts"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, poll } from "../support/TaskPolling.ts"

const config = join(import.meta.dirname, "..", "fixtures", "declared", "tasklane.config.ts")
const dataDir = tempDataDir()
const daemons: Array<DaemonProcess> = []
afterAll(async () => {
  for (const daemon of daemons) await daemon.stop("SIGKILL")
  removeDataDir(dataDir)
})

const start = async (declared: ReadonlyArray<unknown>, waitReady = true) => {
  const daemon = await startDaemon({
    dataDir,
    args: ["--config", config, "--no-examples", "--shutdown-grace", "2"],
    env: { TL_DECLARED: JSON.stringify(declared) },
    waitReady,
  })
  daemons.push(daemon)
  return daemon
}

const list = async () => JSON.parse(await ok(dataDir, ["schedule", "ls", "--json"])) as Array<Record<string, any>>

describe("schedules declared by a definition", () => {
  it("are created at start, updated on change (a user's pause kept), removed when no longer declared", async () => {
    let daemon = await start([
      { name: "nightly", cron: "0 3 * * *", tz: "Europe/Berlin", input: { folder: "/tmp/a" } },
      { name: "tick", cron: "* * * * * *", input: { folder: "/tmp/tick" }, overlap: "allow" },
    ])
    let listed = await list()
    expect(listed.map((s) => [s.id, s.source, s.name]).sort()).toEqual([
      ["tidy.nightly", "definition", "nightly"],
      ["tidy.tick", "definition", "tick"],
    ])
    expect(listed.find((s) => s.id === "tidy.nightly")).toMatchObject({ cron: "0 3 * * *", tz: "Europe/Berlin", input: { folder: "/tmp/a" }, paused: false })
    const table = await ok(dataDir, ["schedule", "ls"])
    expect(table).toMatch(/SOURCE/)
    expect(table).toMatch(/tidy\.nightly\s+definition/)
    // A declared schedule fires like any other: its tasks carry its name and input.
    const c = await connectTo(daemon)
    const fired = await poll(async () => {
      const page = await c.call((client) => client.ListTasks({ search: "tick", limit: 10 }))
      return page.tasks.find((task) => task.context.name === "tick")
    }, { timeoutMs: 5000 })
    expect(fired.context.input).toEqual({ folder: "/tmp/tick" })
    expect(fired.context.idempotencyKey).toMatch(/^schedule:tidy\.tick:/)
    await c.close()
    // A user pauses the nightly one and adds one of their own.
    await ok(dataDir, ["schedule", "pause", "tidy.nightly"])
    const userId = (await ok(dataDir, ["schedule", "add", "tidy", "--cron", "0 5 * * *", "--input", '{"folder":"/u"}'])).trim()
    await daemon.stop("SIGTERM")

    // Restart: nightly's cron changed, tick dropped, weekly added.
    daemon = await start([
      { name: "nightly", cron: "30 4 * * *", tz: "Europe/Berlin", input: { folder: "/tmp/a" } },
      { name: "weekly", cron: "0 6 * * 1", input: { folder: "/tmp/w" }, catchUp: "none" },
    ])
    listed = await list()
    expect(listed.map((s) => s.id).sort()).toEqual(["tidy.nightly", "tidy.weekly", userId].sort())
    const nightly = listed.find((s) => s.id === "tidy.nightly")!
    expect(nightly).toMatchObject({ cron: "30 4 * * *", paused: true, source: "definition" })
    expect(nightly.rescheduledAt).toBeGreaterThan(nightly.createdAt)
    expect(listed.find((s) => s.id === userId)).toMatchObject({ source: "user", cron: "0 5 * * *" })
    expect(listed.find((s) => s.id === "tidy.weekly")).toMatchObject({ catchUp: "none", source: "definition" })
    await daemon.stop("SIGTERM")

    // The same declarations again: nothing changes (still paused, not re-created).
    daemon = await start([
      { name: "nightly", cron: "30 4 * * *", tz: "Europe/Berlin", input: { folder: "/tmp/a" } },
      { name: "weekly", cron: "0 6 * * 1", input: { folder: "/tmp/w" }, catchUp: "none" },
    ])
    const again = await list()
    expect(again.find((s) => s.id === "tidy.nightly")).toEqual(nightly)
    await daemon.stop("SIGTERM")
  })

  it("refuses to start when a declared schedule's input does not match the definition's schema, naming class and schedule", async () => {
    const daemon = await start([{ name: "broken", cron: "0 3 * * *", input: { folder: 42 } }], false)
    const code = await daemon.exited
    expect(code).not.toBe(0)
    expect(daemon.output()).toMatch(/Task definition Tidy \(id "tidy"\) is invalid: schedule "broken" has invalid input/)
    expect(daemon.output()).toMatch(/folder/)
  })

  it("refuses to start when a declared schedule's cron is invalid or a name repeats", async () => {
    const daemon = await start([{ name: "a", cron: "61 * * * *" }, { name: "a", cron: "* * * * *", input: { folder: "x" } }], false)
    expect(await daemon.exited).not.toBe(0)
    expect(daemon.output()).toMatch(/schedule "a": invalid cron: "61 \* \* \* \*" is not a cron expression/)
    expect(daemon.output()).toMatch(/schedule "a" is declared twice/)
  })
})
