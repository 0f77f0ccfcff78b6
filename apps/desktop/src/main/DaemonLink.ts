/**
 * One window's link to the daemon: the main-process end of the renderer's
 * `DesktopBridge` tunnel. Electron-free (plain `node:net` and
 * `node:child_process`), so it is tested against a real daemon in plain Node.
 *
 * Lifecycle of a link:
 *   1. `connect()` dials `<dataDir>/daemon.sock`. If nothing answers
 *      (ENOENT: no socket; ECONNREFUSED: a stale one) it retries with backoff
 *      while a daemon may be on its way (its pid file names a live process, or
 *      this link was connected before, so the daemon is probably restarting),
 *      for up to `retryWindowMs`; then it starts a daemon itself, detached
 *      (its own session, output appended to `<dataDir>/daemon.log`, `unref`),
 *      so tasks outlive the window, and waits for the socket up to
 *      `startTimeoutMs`. A failure rejects with a readable message, with the
 *      tail of the daemon's log when the daemon it started did not come up.
 *      A `connect()` while connecting returns the same promise; one while
 *      connected replaces the connection (as the browser bridge does).
 *   2. Connected: the daemon's bytes are split into NDJSON lines, one frame
 *      each to `onFrame`. `send(frame)` checks the renderer's frame with
 *      `FrameCheck` and writes it with a newline, or answers it at once with
 *      an error frame (see FrameCheck); a frame sent while not connected is
 *      answered the same way, so no request waits forever.
 *   3. The socket closes (daemon stopped or crashed): `onClose(reason)` is
 *      called once; the renderer reconnects by calling `connect()` again.
 *   4. `close()` ends the connection without `onClose`; the daemon keeps running.
 */
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as FrameCheck from "./FrameCheck.ts"

/** How to run the daemon's `tasklane` entry point. */
export interface DaemonCommand {
  /** The executable: `process.execPath` (Node, or Electron run as Node). */
  readonly command: string
  /** Arguments before `daemon --data-dir DIR`, normally `[<@tasklane/daemon>/bin/tasklane.mjs]`. */
  readonly args: ReadonlyArray<string>
  /** Extra arguments after `daemon --data-dir DIR` (tests pass shorter grace periods). */
  readonly extraArgs?: ReadonlyArray<string> | undefined
  /** The daemon's environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv | undefined
}

/** What a link needs. */
export interface Options {
  readonly dataDir: string
  readonly daemon: DaemonCommand
  readonly onFrame: (frame: string) => void
  readonly onClose: (reason: string) => void
  /** How long to keep retrying a daemon that may be (re)starting before starting one (default 3000 ms). */
  readonly retryWindowMs?: number | undefined
  /** How long a daemon this link started may take to serve (default 20000 ms). */
  readonly startTimeoutMs?: number | undefined
  /** Largest line accepted from the daemon (default 64 MiB, as the CLI's client). */
  readonly maxLineBytes?: number | undefined
}

/** The main-process end of one window's tunnel. */
export interface DaemonLink {
  readonly connect: () => Promise<void>
  readonly send: (frame: string) => void
  readonly close: () => void
  readonly isConnected: () => boolean
}

/**
 * The daemon command for this process: Node runs the bin directly; Electron
 * runs it as Node (`ELECTRON_RUN_AS_NODE=1`), since its `execPath` is Electron.
 */
export const daemonCommand = (bin: string, env: NodeJS.ProcessEnv = process.env): DaemonCommand => ({
  command: process.execPath,
  args: [bin],
  env: process.versions.electron === undefined ? env : { ...env, ELECTRON_RUN_AS_NODE: "1" },
})

/**
 * The daemon's data directory: `$TASKLANE_HOME`, else `$XDG_DATA_HOME/tasklane`,
 * else `~/.local/share/tasklane`. Mirrors the daemon's `DataDir.resolveDirectory`
 * (a test checks they agree) without bundling the daemon into the main process.
 */
export const resolveDataDir = (env: NodeJS.ProcessEnv = process.env, home: string = Os.homedir()): string => {
  const expand = (path: string) => (path === "~" || path.startsWith("~/") ? Path.join(home, path.slice(1)) : path)
  if (env.TASKLANE_HOME) return Path.resolve(expand(env.TASKLANE_HOME))
  const xdg = env.XDG_DATA_HOME
  if (xdg && Path.isAbsolute(xdg)) return Path.join(xdg, "tasklane")
  return Path.join(home, ".local", "share", "tasklane")
}

/** `@tasklane/daemon`'s `bin/tasklane.mjs` as this package resolves it (`$TASKLANE_DAEMON_BIN` overrides). */
export const defaultDaemonBin = (env: NodeJS.ProcessEnv = process.env): string => {
  if (env.TASKLANE_DAEMON_BIN) return Path.resolve(env.TASKLANE_DAEMON_BIN)
  // The package's main entry is src/index.ts; the bin sits next to src.
  const entry = createRequire(import.meta.url).resolve("@tasklane/daemon")
  return Path.join(Path.dirname(Path.dirname(entry)), "bin", "tasklane.mjs")
}

const errnoCode = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (cause) {
    return errnoCode(cause) === "EPERM"
  }
}

/** The pid in `<dataDir>/daemon.pid` if it names a live process. */
export const livePid = (dataDir: string): number | undefined => {
  try {
    const pid = Number(Fs.readFileSync(Path.join(dataDir, "daemon.pid"), "utf8").trim())
    return Number.isSafeInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

/** The last `lines` lines of a file, or a note that it cannot be read. */
export const logTail = (file: string, lines = 20): string => {
  try {
    const text = Fs.readFileSync(file, "utf8").trimEnd()
    return text === "" ? "(the log is empty)" : text.split("\n").slice(-lines).join("\n")
  } catch (cause) {
    return `(cannot read ${file}: ${cause instanceof Error ? cause.message : String(cause)})`
  }
}

/** Dial the socket once: the connected socket, or the errno code of the failure. */
const dial = (path: string, timeoutMs: number): Promise<Net.Socket | { readonly code: string; readonly message: string }> =>
  new Promise((resolve) => {
    const socket = Net.createConnection({ path })
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ code: "ETIMEDOUT", message: `no answer within ${timeoutMs} ms` })
    }, timeoutMs)
    socket.once("connect", () => {
      clearTimeout(timer)
      socket.removeAllListeners("error")
      resolve(socket)
    })
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ code: error.code ?? "UNKNOWN", message: error.message })
    })
  })

const notServing = (code: string) => code === "ENOENT" || code === "ECONNREFUSED"

/** Start a detached daemon for `dataDir`; resolves with a probe of whether it exited early. */
const startDaemon = (dataDir: string, command: DaemonCommand, logFile: string) => {
  Fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const log = Fs.openSync(logFile, "a")
  let exit: string | undefined
  try {
    const child = spawn(command.command, [...command.args, "daemon", "--data-dir", dataDir, ...(command.extraArgs ?? [])], {
      detached: true,
      stdio: ["ignore", log, log],
      // The data directory, not wherever the app was launched: a stray
      // ./tasklane.config.ts there must not be loaded by surprise.
      cwd: dataDir,
      env: command.env ?? process.env,
    })
    child.on("error", (error) => (exit = `could not be started: ${error.message}`))
    child.on("exit", (code, signal) => (exit = `exited with ${code ?? signal}`))
    child.unref()
  } finally {
    Fs.closeSync(log)
  }
  return { exited: () => exit }
}

/** Create the link; nothing happens until `connect()`. */
export const make = (options: Options): DaemonLink => {
  const socketPath = Path.join(options.dataDir, "daemon.sock")
  const logFile = Path.join(options.dataDir, "daemon.log")
  const retryWindowMs = options.retryWindowMs ?? 3_000
  const startTimeoutMs = options.startTimeoutMs ?? 20_000
  const maxLineBytes = options.maxLineBytes ?? 64 * 1024 * 1024

  let socket: Net.Socket | undefined
  let connecting: Promise<void> | undefined
  let everConnected = false

  const attach = (conn: Net.Socket) => {
    let pending: Array<Buffer> = []
    let pendingBytes = 0
    let closed = false
    const finish = (reason: string) => {
      if (closed) return
      closed = true
      conn.destroy()
      if (socket !== conn) return // replaced or closed by us: nobody to tell
      socket = undefined
      options.onClose(reason)
    }
    conn.on("data", (chunk: Buffer) => {
      let start = 0
      let index = chunk.indexOf(0x0a, start)
      while (index !== -1) {
        const piece = chunk.subarray(start, index)
        const line = (pendingBytes === 0 ? piece : Buffer.concat([...pending, piece])).toString("utf8").replace(/\r$/, "")
        pending = []
        pendingBytes = 0
        if (line !== "" && socket === conn) options.onFrame(line)
        start = index + 1
        index = chunk.indexOf(0x0a, start)
      }
      if (start < chunk.length) {
        pending.push(Buffer.from(chunk.subarray(start)))
        pendingBytes += chunk.length - start
        if (pendingBytes > maxLineBytes) finish(`the daemon sent a message larger than ${maxLineBytes} bytes`)
      }
    })
    conn.on("error", (error) => finish(`connection to the daemon failed: ${error.message}`))
    conn.on("close", () => finish("the daemon closed the connection (it stopped or restarted)"))
    socket = conn
    everConnected = true
  }

  const establish = async (): Promise<void> => {
    const retryUntil = Date.now() + retryWindowMs
    let delay = 50
    for (;;) {
      const result = await dial(socketPath, 2_000)
      if (result instanceof Net.Socket) return attach(result)
      if (!notServing(result.code)) {
        throw new Error(`cannot reach the Tasklane daemon at ${socketPath}: ${result.message}`)
      }
      const mayBeComing = everConnected || livePid(options.dataDir) !== undefined
      if (!mayBeComing || Date.now() >= retryUntil) break
      await sleep(delay)
      delay = Math.min(delay * 2, 500)
    }
    const started = startDaemon(options.dataDir, options.daemon, logFile)
    const deadline = Date.now() + startTimeoutMs
    let exitedAt: number | undefined
    for (;;) {
      const result = await dial(socketPath, 1_000)
      if (result instanceof Net.Socket) return attach(result)
      const exit = started.exited()
      // Our daemon may have lost a start race to another one: give that one a moment.
      if (exit !== undefined) exitedAt ??= Date.now()
      const why = exit !== undefined && Date.now() - exitedAt! > 2_000
        ? `the daemon it started ${exit}`
        : Date.now() > deadline
        ? `the daemon it started did not serve within ${startTimeoutMs} ms`
        : undefined
      if (why !== undefined) {
        throw new Error(`cannot start the Tasklane daemon for ${options.dataDir}: ${why}. Last lines of ${logFile}:\n${logTail(logFile)}`)
      }
      await sleep(100)
    }
  }

  const dropSocket = () => {
    const conn = socket
    socket = undefined
    conn?.destroy()
  }

  return {
    connect: () => {
      if (connecting) return connecting
      dropSocket()
      connecting = establish().finally(() => (connecting = undefined))
      return connecting
    },
    send: (frame) => {
      const verdict = FrameCheck.check(frame)
      if (verdict._tag === "Reject") {
        if (verdict.reply !== undefined) options.onFrame(verdict.reply)
        return
      }
      if (socket === undefined) {
        if (verdict.requestId !== undefined) options.onFrame(FrameCheck.dieFrame(verdict.requestId, "not connected to the daemon"))
        return
      }
      socket.write(`${verdict.line}\n`)
    },
    close: dropSocket,
    isConnected: () => socket !== undefined,
  }
}
