/**
 * DataDir on the real file system, in temp dirs: where the directory is,
 * its 0700 mode, the pid file, the stale-socket check and the web token.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Scope } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as DataDir from "../src/DataDir.ts"
import { leaveStaleSocket, makeTempDir, startServerAt } from "./TransportFixture.ts"

describe("DataDir.resolveDirectory", () => {
  const home = "/home/ada"
  it("prefers --data-dir, then $TASKLANE_HOME, then $XDG_DATA_HOME/tasklane, then ~/.local/share/tasklane", () => {
    const env = { TASKLANE_HOME: "/srv/tl", XDG_DATA_HOME: "/xdg" }
    expect(DataDir.resolveDirectory({ dataDir: "/flag", env, home })).toBe("/flag")
    expect(DataDir.resolveDirectory({ env, home })).toBe("/srv/tl")
    expect(DataDir.resolveDirectory({ env: { XDG_DATA_HOME: "/xdg" }, home })).toBe("/xdg/tasklane")
    expect(DataDir.resolveDirectory({ env: {}, home })).toBe("/home/ada/.local/share/tasklane")
  })

  it("ignores empty values and a relative $XDG_DATA_HOME, expands ~ and resolves relative paths", () => {
    expect(DataDir.resolveDirectory({ dataDir: "", env: { TASKLANE_HOME: "", XDG_DATA_HOME: "rel" }, home }))
      .toBe("/home/ada/.local/share/tasklane")
    expect(DataDir.resolveDirectory({ dataDir: "~/tl", env: {}, home })).toBe("/home/ada/tl")
    expect(DataDir.resolveDirectory({ dataDir: "data", env: {}, home })).toBe(Path.resolve("data"))
  })

  it("names the socket, pid file, store and log inside the directory", () => {
    expect(DataDir.paths("/d")).toEqual({
      directory: "/d",
      socket: "/d/daemon.sock",
      pidFile: "/d/daemon.pid",
      store: "/d/store",
      log: "/d/daemon.log",
      webToken: "/d/web-token",
      webUrl: "/d/web-url",
    })
  })
})

describe("DataDir.ensure", () => {
  it.live("creates missing directories with mode 0700", () =>
    Effect.gen(function* () {
      const directory = Path.join(yield* makeTempDir, "a", "tasklane")
      const paths = yield* DataDir.ensure(directory)
      expect(paths.socket).toBe(Path.join(directory, "daemon.sock"))
      expect(Fs.statSync(directory).mode & 0o777).toBe(0o700)
    }))

  it.live("tightens an existing directory with looser bits to 0700", () =>
    Effect.gen(function* () {
      const directory = yield* makeTempDir
      Fs.chmodSync(directory, 0o755)
      yield* DataDir.ensure(directory)
      expect(Fs.statSync(directory).mode & 0o777).toBe(0o700)
    }))

  it.live("fails with DataDirError when the path is a file", () =>
    Effect.gen(function* () {
      const file = Path.join(yield* makeTempDir, "file")
      Fs.writeFileSync(file, "")
      const error = yield* Effect.flip(DataDir.ensure(file))
      expect(error).toBeInstanceOf(DataDir.DataDirError)
      expect(error.message).toContain(file)
    }))
})

describe("DataDir pid file", () => {
  it.live("writePid records our pid (0600), readPid sees it alive, and it is removed with the scope", () =>
    Effect.gen(function* () {
      const paths = yield* DataDir.ensure(yield* makeTempDir)
      const scope = yield* Scope.make()
      yield* Scope.provide(DataDir.writePid(paths), scope)
      expect(Fs.readFileSync(paths.pidFile, "utf8").trim()).toBe(String(process.pid))
      expect(Fs.statSync(paths.pidFile).mode & 0o777).toBe(0o600)
      expect(yield* DataDir.readPid(paths)).toEqual(Option.some(process.pid))
      yield* Scope.close(scope, Exit.void)
      expect(Fs.existsSync(paths.pidFile)).toBe(false)
      expect(yield* DataDir.readPid(paths)).toEqual(Option.none())
    }))

  it.live("readPid ignores a dead process and a garbage file", () =>
    Effect.gen(function* () {
      const paths = yield* DataDir.ensure(yield* makeTempDir)
      const dead = ChildProcess.spawnSync(process.execPath, ["-e", ""]).pid
      Fs.writeFileSync(paths.pidFile, `${dead}\n`)
      expect(yield* DataDir.readPid(paths)).toEqual(Option.none())
      Fs.writeFileSync(paths.pidFile, "not a pid")
      expect(yield* DataDir.readPid(paths)).toEqual(Option.none())
    }))
})

describe("DataDir after a daemon died", () => {
  it.live("runningDaemon trusts a live pid only while the socket answers (or /proc says it is a daemon)", () =>
    Effect.gen(function* () {
      const directory = yield* makeTempDir
      const paths = yield* DataDir.ensure(directory)
      // Our own pid: alive, but this test process is no daemon and nothing listens yet.
      Fs.writeFileSync(paths.pidFile, `${process.pid}\n`)
      expect(yield* DataDir.runningDaemon(paths)).toEqual(Option.none())
      expect(yield* DataDir.stalePid(paths)).toEqual(Option.some(process.pid))
      yield* startServerAt(directory)
      expect(yield* DataDir.runningDaemon(paths)).toEqual(Option.some(process.pid))
      expect(yield* DataDir.stalePid(paths)).toEqual(Option.none())
    }).pipe(Effect.scoped))

  it.live("removeStale removes web-url and a pid file that is not ours, and keeps ours", () =>
    Effect.gen(function* () {
      const paths = yield* DataDir.ensure(yield* makeTempDir)
      Fs.writeFileSync(paths.webUrl, "http://127.0.0.1:1/?token=stale\n")
      Fs.writeFileSync(paths.pidFile, "1\n")
      yield* DataDir.removeStale(paths)
      expect(Fs.existsSync(paths.webUrl)).toBe(false)
      expect(Fs.existsSync(paths.pidFile)).toBe(false)
      Fs.writeFileSync(paths.pidFile, `${process.pid}\n`)
      yield* DataDir.removeStale(paths)
      expect(Fs.readFileSync(paths.pidFile, "utf8")).toBe(`${process.pid}\n`)
    }))
})

describe("DataDir.removeStaleSocket", () => {
  it.live("removes a socket file nothing listens on", () =>
    Effect.gen(function* () {
      const paths = yield* DataDir.ensure(yield* makeTempDir)
      leaveStaleSocket(paths.socket)
      yield* DataDir.removeStaleSocket(paths.socket)
      expect(Fs.existsSync(paths.socket)).toBe(false)
      yield* DataDir.removeStaleSocket(paths.socket) // nothing there: nothing to do
    }))

  it.live("fails with DaemonAlreadyRunning naming the directory and pid when a daemon answers", () =>
    Effect.gen(function* () {
      const directory = yield* makeTempDir
      const { paths } = yield* startServerAt(directory)
      yield* DataDir.writePid(paths)
      const error = yield* Effect.flip(DataDir.removeStaleSocket(paths.socket))
      expect(error).toBeInstanceOf(DataDir.DaemonAlreadyRunning)
      expect(error).toMatchObject({ directory, pid: process.pid })
      expect(error.message).toContain(directory)
      expect(error.message).toContain(`pid ${process.pid}`)
      expect(Fs.statSync(paths.socket).isSocket()).toBe(true)
    }))

  it.live("leaves a file that is not a socket alone and says so", () =>
    Effect.gen(function* () {
      const paths = yield* DataDir.ensure(yield* makeTempDir)
      Fs.writeFileSync(paths.socket, "precious")
      const error = yield* Effect.flip(DataDir.removeStaleSocket(paths.socket))
      expect(error).toBeInstanceOf(DataDir.DataDirError)
      expect(error.message).toContain("not a socket")
      expect(Fs.readFileSync(paths.socket, "utf8")).toBe("precious")
    }))
})

describe("DaemonAlreadyRunning", () => {
  it("names the directory and the pid, and how to stop it", () => {
    const error = new DataDir.DaemonAlreadyRunning({ directory: "/home/ada/.local/share/tasklane", pid: 4242 })
    expect(error.message).toContain("/home/ada/.local/share/tasklane")
    expect(error.message).toContain("pid 4242")
    expect(error.message).toContain("tasklane daemon stop")
    expect(new DataDir.DaemonAlreadyRunning({ directory: "/d" }).message).toContain("pid unknown")
  })
})

describe("DataDir web token", () => {
  it.live("is created once (64 hex digits, 0600) and read back; garbage is replaced, looser modes are tightened", () =>
    Effect.gen(function* () {
      const paths = yield* DataDir.ensure(yield* makeTempDir)
      const token = yield* DataDir.webToken(paths)
      expect(token).toMatch(/^[0-9a-f]{64}$/)
      expect(Fs.statSync(paths.webToken).mode & 0o777).toBe(0o600)
      Fs.chmodSync(paths.webToken, 0o644)
      expect(yield* DataDir.webToken(paths)).toBe(token)
      expect(Fs.statSync(paths.webToken).mode & 0o777).toBe(0o600)
      Fs.writeFileSync(paths.webToken, "not a token")
      const replaced = yield* DataDir.webToken(paths)
      expect(replaced).toMatch(/^[0-9a-f]{64}$/)
      expect(replaced).not.toBe(token)
    }))
})
