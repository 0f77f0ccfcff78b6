/**
 * DaemonLink against the real daemon (`apps/daemon/bin/tasklane.mjs`) on
 * temporary data directories: it starts a detached daemon when none runs,
 * round-trips RPC frames, answers bad frames without bothering the daemon,
 * reports a daemon going away and reconnects to the next one.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import * as DaemonLink from "../src/main/DaemonLink.ts"
import { bin, removeDataDir, startDaemon, tempDataDir } from "../../../test/support/DaemonProcess.ts"

const dirs: Array<string> = []
const pids: Array<number> = []
const newDir = () => {
  const dir = tempDataDir()
  dirs.push(dir)
  return dir
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const waitFor = async <A>(what: string, probe: () => A | undefined, timeoutMs = 15_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** The daemon's pid file (written just after it starts serving, so wait for it). */
const readPid = (dir: string) =>
  waitFor("the pid file", () => {
    try {
      return Number(Fs.readFileSync(Path.join(dir, "daemon.pid"), "utf8").trim())
    } catch {
      return undefined
    }
  })

const stopDaemon = async (pid: number) => {
  process.kill(pid, "SIGTERM")
  await waitFor(`daemon ${pid} to exit`, () => (alive(pid) ? undefined : true), 20_000)
}

/** A link whose frames and close reasons are recorded. */
const makeLink = (dataDir: string, overrides: Partial<DaemonLink.Options> = {}) => {
  const frames: Array<any> = []
  const closes: Array<string> = []
  const link = DaemonLink.make({
    dataDir,
    daemon: { ...DaemonLink.daemonCommand(bin), extraArgs: ["--shutdown-grace", "1"] },
    onFrame: (frame) => frames.push(JSON.parse(frame)),
    onClose: (reason) => closes.push(reason),
    ...overrides,
  })
  const reply = (requestId: string) => waitFor(`a reply to ${requestId}`, () => frames.find((frame) => frame.requestId === requestId))
  return { link, frames, closes, reply }
}

const infoFrame = (id: string) => JSON.stringify({ _tag: "Request", id, tag: "Info", payload: null, headers: [] })

afterAll(async () => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL")
  for (const dir of dirs) removeDataDir(dir)
})

describe("DaemonLink with a real daemon", () => {
  const dataDir = newDir()

  it("starts a detached daemon when none runs, which keeps running after the link closes", async () => {
    const { link } = makeLink(dataDir)
    await link.connect()
    expect(link.isConnected()).toBe(true)
    const pid = await readPid(dataDir)
    pids.push(pid)
    expect(pid).not.toBe(process.pid)
    // Detached: the daemon leads its own process group (Linux: field 5 of /proc/<pid>/stat).
    if (Fs.existsSync(`/proc/${pid}/stat`)) {
      const fields = Fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
      expect(Number(fields[2])).toBe(pid)
    }
    expect(Fs.readFileSync(Path.join(dataDir, "daemon.log"), "utf8")).toContain(" serving ")
    link.close()
    expect(link.isConnected()).toBe(false)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(alive(pid)).toBe(true)
    // A second link (another window, or the next launch) uses the same daemon.
    const second = makeLink(dataDir)
    await second.link.connect()
    expect(await readPid(dataDir)).toBe(pid)
    second.link.close()
  })

  it("round-trips an Info request frame", async () => {
    const { link, frames, reply } = makeLink(dataDir)
    await link.connect()
    link.send(infoFrame("1"))
    const frame = await reply("1")
    expect(frame._tag).toBe("Exit")
    expect(frame.exit._tag).toBe("Success")
    expect(frame.exit.value.dataDir).toBe(dataDir)
    expect(frame.exit.value.pid).toBe(await readPid(dataDir))
    // Non-request messages pass through too: a Ping gets the daemon's Pong.
    link.send(JSON.stringify({ _tag: "Ping" }))
    await waitFor("a Pong", () => frames.find((frame) => frame._tag === "Pong"))
    link.close()
  })

  it("answers bad frames itself and the daemon stays fine", async () => {
    const { link, frames, reply } = makeLink(dataDir)
    await link.connect()
    link.send(JSON.stringify({ _tag: "Request", id: "2", tag: "DropEverything", payload: {}, headers: [] }))
    link.send(JSON.stringify({ _tag: "Request", id: "3", tag: "GetTask", payload: { taskId: 42 }, headers: [] }))
    link.send("{ not json")
    const unknown = await reply("2")
    expect(unknown.exit).toMatchObject({ _tag: "Failure", cause: [{ _tag: "Die" }] })
    expect(unknown.exit.cause[0].defect).toContain("Unknown request tag: DropEverything")
    const badPayload = await reply("3")
    expect(badPayload.exit.cause[0].defect).toContain("invalid payload for GetTask")
    const defect = await waitFor("a Defect frame", () => frames.find((frame) => frame._tag === "Defect"))
    expect(defect.defect).toContain("not JSON")
    // The connection and the daemon are unaffected.
    expect(link.isConnected()).toBe(true)
    link.send(infoFrame("4"))
    expect((await reply("4")).exit._tag).toBe("Success")
    link.close()
  })

  it("answers a request sent while not connected instead of leaving it waiting", async () => {
    const { link, reply } = makeLink(dataDir)
    link.send(infoFrame("5"))
    expect((await reply("5")).exit.cause[0].defect).toContain("not connected to the daemon")
  })

  it("tells the renderer when the daemon stops, and connects to the restarted daemon", async () => {
    const { link, closes, reply } = makeLink(dataDir, { retryWindowMs: 15_000 })
    await link.connect()
    await stopDaemon(await readPid(dataDir))
    await waitFor("onClose", () => closes[0])
    expect(closes).toHaveLength(1)
    expect(closes[0]).toContain("the daemon closed the connection")
    expect(link.isConnected()).toBe(false)
    // The renderer reconnects while the daemon is restarting: the link waits for it instead of starting its own.
    const connecting = link.connect()
    await new Promise((resolve) => setTimeout(resolve, 300))
    const restarted = await startDaemon({ dataDir })
    try {
      await connecting
      link.send(infoFrame("6"))
      expect((await reply("6")).exit.value.pid).toBe(restarted.child.pid)
      link.close()
    } finally {
      await restarted.stop()
    }
  })

  it("says why when the daemon it starts does not come up, with the log's tail", async () => {
    const dir = newDir()
    const broken = Path.join(dir, "broken.mjs")
    Fs.writeFileSync(broken, 'console.error("boom: this daemon cannot start"); process.exit(1)\n')
    const { link } = makeLink(dir, { daemon: { command: process.execPath, args: [broken] } })
    const error = await link.connect().then(() => undefined, (cause: Error) => cause)
    expect(error?.message).toMatch(/cannot start the Tasklane daemon for .*: the daemon it started exited with 1/)
    expect(error?.message).toContain("boom: this daemon cannot start")
  })
})

describe("DaemonLink paths", () => {
  it("finds the daemon's bin through the @tasklane/daemon dependency", () => {
    expect(DaemonLink.defaultDaemonBin({})).toBe(bin)
    expect(Fs.existsSync(DaemonLink.defaultDaemonBin({}))).toBe(true)
  })
})
