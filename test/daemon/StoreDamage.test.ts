/**
 * A damaged store at startup, with the real daemon: after its LevelDB
 * write-ahead log was cut short (the finished task's last events gone), the
 * daemon refuses to start (exit 65) and says what was lost and what to do;
 * it keeps refusing; with `--accept-store-damage` it starts, and
 * `tasklane daemon status` lists the damage and the repair.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { tasklane } from "../support/CliProcess.ts"
import { type DaemonProcess, fixtureConfig, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, waitFor } from "../support/TaskPolling.ts"

const dataDir = tempDataDir()
const daemons: Array<DaemonProcess> = []

afterAll(async () => {
  for (const daemon of daemons) await daemon.stop("SIGKILL")
  for (const name of Fs.readdirSync(dataDir)) if (name.startsWith("store.damaged-")) Fs.rmSync(Path.join(dataDir, name), { recursive: true })
  removeDataDir(dataDir)
})

const args = ["--config", fixtureConfig, "--no-examples", "--abort-grace", "1", "--shutdown-grace", "2"]

describe("a damaged store at startup", () => {
  let taskId = ""

  it("is set up: a task finished, the daemon stopped, the write-ahead log cut short", async () => {
    const daemon = await startDaemon({ dataDir })
    daemons.push(daemon)
    const c = await connectTo(daemon)
    for (let i = 0; i < 5; i++) await c.call((client) => client.Trigger({ definitionId: "quick", input: { i } }))
    taskId = (await c.call((client) => client.Trigger({ definitionId: "quick", input: { last: true } }))).context.taskId
    await waitFor(c, taskId, "done", { settled: true })
    await c.close()
    expect(await daemon.stop("SIGTERM")).toBe(0)
    const store = Path.join(dataDir, "store")
    const [log] = Fs.readdirSync(store).filter((name) => name.endsWith(".log"))
    const size = Fs.statSync(Path.join(store, log!)).size
    Fs.truncateSync(Path.join(store, log!), Math.floor(size * 0.8))
  })

  it("refuses to start (exit 65), saying what was lost and how to go on, and keeps refusing", async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const daemon = await startDaemon({ dataDir, args, waitReady: false })
      daemons.push(daemon)
      expect(await daemon.exited).toBe(65)
      const output = daemon.output()
      expect(output).toMatch(/tasklane daemon: the event store in .*store is damaged/)
      expect(output).toMatch(/events \d+\.\.\d+ were committed but are missing: LevelDB's write-ahead log was cut or lost/)
      expect(output).toMatch(/Restore the directory from a backup, or accept the damage: start the daemon with --accept-store-damage/)
    }
  })

  it("starts with --accept-store-damage and reports the damage and the repair in daemon status", async () => {
    const daemon = await startDaemon({ dataDir, args: [...args, "--accept-store-damage"] })
    daemons.push(daemon)
    expect(daemon.output()).toMatch(/accepted damage in .*store:\n  - events \d+\.\.\d+ were committed but are missing/)
    const json = await tasklane(dataDir, ["daemon", "status", "--json"])
    const store = JSON.parse(json.stdout).store
    expect(store.status).toBe("ok")
    expect(store.damage.join("\n")).toMatch(/were committed but are missing/)
    expect(store.damage.join("\n")).toMatch(/repaired: a copy of the damaged store is in .*store\.damaged-.*every task summary was rebuilt/)
    const human = await tasklane(dataDir, ["daemon", "status"], { NO_COLOR: "1" })
    expect(human.stdout).toMatch(/store +ok\n +damage events \d+\.\.\d+ were committed but are missing/)
    expect(Fs.readdirSync(dataDir).some((name) => name.startsWith("store.damaged-"))).toBe(true)
  })
})
