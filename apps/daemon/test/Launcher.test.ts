/**
 * Launcher on the real file system and real processes, in temp dirs: the
 * live pid in a pid file, dialling a socket, and starting a detached process
 * (a small Node script standing in for the daemon) that appends to its log,
 * then waiting until it serves, exits or times out.
 */
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import * as Launcher from "../src/Launcher.ts"
import { leaveStaleSocket } from "./TransportFixture.ts"

const dirs: Array<string> = []
const pids: Array<number> = []
const tempDir = () => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tl-launch-"))
  dirs.push(dir)
  return dir
}

afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
  for (const dir of dirs) Fs.rmSync(dir, { recursive: true, force: true })
})

/** A stand-in `tasklane` bin: `node <script> daemon --data-dir DIR …` runs `body` with `dir` bound. */
const fakeBin = (dir: string, body: string): Launcher.DaemonCommand => {
  const script = Path.join(dir, "fake-daemon.mjs")
  Fs.writeFileSync(
    script,
    `import * as Net from "node:net"\nimport * as Path from "node:path"\nconst dir = process.argv[process.argv.indexOf("--data-dir") + 1]\n${body}\n`,
  )
  return { command: process.execPath, args: [script] }
}

const serveAfter = (ms: number) =>
  `console.log("starting", process.argv.slice(2).join(" "))
setTimeout(() => Net.createServer((c) => c.end()).listen(Path.join(dir, "daemon.sock"), () => console.log("serving")), ${ms})`

const start = (dir: string, command: Launcher.DaemonCommand, flags: ReadonlyArray<string> = []) => {
  const files = Launcher.ensureDirectory(dir)
  const spawned = Launcher.spawnDetached({ command, flags: ["--data-dir", dir, ...flags], log: files.log, cwd: dir })
  if (spawned.pid !== undefined) pids.push(spawned.pid)
  return { files, spawned }
}

describe("Launcher.readPid", () => {
  it("gives the pid only when the file names a live process", () => {
    const dir = tempDir()
    const pidFile = Launcher.paths(dir).pidFile
    expect(Launcher.readPid(pidFile)).toBeUndefined()
    Fs.writeFileSync(pidFile, "not a pid\n")
    expect(Launcher.readPid(pidFile)).toBeUndefined()
    Fs.writeFileSync(pidFile, `${process.pid}\n`)
    expect(Launcher.readPid(pidFile)).toBe(process.pid)
    // Past Linux's pid_max: no such process.
    Fs.writeFileSync(pidFile, "4194305\n")
    expect(Launcher.readPid(pidFile)).toBeUndefined()
  })

  it("throws when the file cannot be read for another reason than its absence", () => {
    const dir = tempDir()
    const pidFile = Launcher.paths(dir).pidFile
    Fs.mkdirSync(pidFile)
    expect(() => Launcher.readPid(pidFile)).toThrow(/EISDIR/)
  })
})

describe("Launcher.dial", () => {
  it("connects to a listening socket, tells no socket from a stale one", async () => {
    const dir = tempDir()
    const socket = Path.join(dir, "daemon.sock")
    const missing = await Launcher.dial(socket, 1_000)
    expect(missing).toMatchObject({ code: "ENOENT", reason: "no socket file (the daemon is not running)" })
    expect(Launcher.notServing(missing as Launcher.DialFailure)).toBe(true)
    expect(await Launcher.answers(socket, 1_000)).toBe(false)

    const server = Net.createServer((conn) => conn.end())
    await new Promise<void>((resolve) => server.listen(socket, resolve))
    const connected = await Launcher.dial(socket, 1_000)
    expect(connected).toBeInstanceOf(Net.Socket)
    ;(connected as Net.Socket).destroy()
    expect(await Launcher.answers(socket, 1_000)).toBe(true)
    await new Promise<void>((resolve) => server.close(() => resolve()))

    // A socket file nobody listens on (left by a daemon that died).
    leaveStaleSocket(socket)
    const refused = await Launcher.dial(socket, 1_000)
    expect(refused).toMatchObject({ code: "ECONNREFUSED" })
    expect(Launcher.notServing(refused as Launcher.DialFailure)).toBe(true)
  })
})

describe("Launcher.spawnDetached and waitUntilServing", () => {
  it("starts a detached process that appends to the log, and waits until it serves", async () => {
    const dir = tempDir()
    Fs.writeFileSync(Path.join(dir, "daemon.log"), "an earlier run\n")
    const { files, spawned } = start(dir, fakeBin(dir, serveAfter(300)), ["--shutdown-grace", "1"])
    const outcome = await Launcher.waitUntilServing({ socket: files.socket, daemon: spawned, timeoutMs: 10_000 })
    expect(outcome._tag).toBe("Serving")
    if (outcome._tag === "Serving") outcome.socket.destroy()
    expect(spawned.exit()).toBeUndefined()
    // Its own session: it leads its process group (Linux: field 5 of /proc/<pid>/stat).
    if (Fs.existsSync(`/proc/${spawned.pid}/stat`)) {
      const fields = Fs.readFileSync(`/proc/${spawned.pid}/stat`, "utf8").split(") ")[1]!.split(" ")
      expect(Number(fields[2])).toBe(spawned.pid)
    }
    const log = Fs.readFileSync(files.log, "utf8")
    expect(log).toContain("an earlier run\n")
    expect(log).toContain(`starting daemon --data-dir ${dir} --shutdown-grace 1`)
    expect(Launcher.logTail(files.log, 1)).toBe("serving")
  })

  it("waits for ready() too", async () => {
    const dir = tempDir()
    const marker = Path.join(dir, "web-url")
    const writeMarker = `setTimeout(() => import("node:fs").then((Fs) => Fs.writeFileSync(${JSON.stringify(marker)}, "x")), 500)`
    const { files, spawned } = start(dir, fakeBin(dir, `${serveAfter(0)}\n${writeMarker}`))
    const outcome = await Launcher.waitUntilServing({
      socket: files.socket,
      daemon: spawned,
      timeoutMs: 10_000,
      ready: () => Launcher.readWebUrl(files) !== undefined,
    })
    expect(outcome._tag).toBe("Serving")
    if (outcome._tag === "Serving") outcome.socket.destroy()
    expect(Fs.existsSync(marker)).toBe(true)
  })

  it("reports a process that exits before serving, with its exit code", async () => {
    const dir = tempDir()
    const { files, spawned } = start(dir, fakeBin(dir, 'console.error("boom"); process.exit(3)'))
    const outcome = await Launcher.waitUntilServing({ socket: files.socket, daemon: spawned, timeoutMs: 10_000 })
    expect(outcome).toEqual({ _tag: "Exited", exit: { _tag: "Exited", status: 3 } })
    expect(Launcher.describeExit({ _tag: "Exited", status: 3 })).toBe("exited with 3")
    expect(Launcher.logTail(files.log)).toBe("boom")
  })

  it("keeps dialling for exitGraceMs after an exit: another daemon may have won the start race", async () => {
    const dir = tempDir()
    const { files, spawned } = start(dir, fakeBin(dir, "process.exit(1)"))
    for (let waited = 0; spawned.exit() === undefined && waited < 10_000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25))
    expect(spawned.exit()).toEqual({ _tag: "Exited", status: 1 })
    // The winner comes up a moment later.
    const winner = Net.createServer((conn) => conn.end())
    setTimeout(() => winner.listen(files.socket), 300)
    try {
      const outcome = await Launcher.waitUntilServing({ socket: files.socket, daemon: spawned, timeoutMs: 10_000, exitGraceMs: 3_000 })
      expect(outcome._tag).toBe("Serving")
      if (outcome._tag === "Serving") outcome.socket.destroy()
    } finally {
      winner.close()
    }
  })

  it("times out on a process that neither serves nor exits", async () => {
    const dir = tempDir()
    const { files, spawned } = start(dir, fakeBin(dir, "setInterval(() => {}, 1000)"))
    const before = Date.now()
    const outcome = await Launcher.waitUntilServing({ socket: files.socket, daemon: spawned, timeoutMs: 500, intervalMs: 50 })
    expect(outcome).toEqual({ _tag: "TimedOut" })
    expect(Date.now() - before).toBeGreaterThanOrEqual(500)
  })

  it("reports a command that cannot be spawned", async () => {
    const dir = tempDir()
    const { files, spawned } = start(dir, { command: Path.join(dir, "no-such-node"), args: [] })
    const outcome = await Launcher.waitUntilServing({ socket: files.socket, daemon: spawned, timeoutMs: 10_000 })
    expect(outcome._tag).toBe("Exited")
    if (outcome._tag === "Exited") expect(Launcher.describeExit(outcome.exit)).toMatch(/^could not be started: .*ENOENT/)
  })
})

describe("Launcher.daemonCommand", () => {
  it("runs the bin with this Node and the given environment", () => {
    expect(Launcher.daemonCommand("/x/tasklane.mjs", { A: "1" })).toEqual({ command: process.execPath, args: ["/x/tasklane.mjs"], env: { A: "1" } })
  })
})
