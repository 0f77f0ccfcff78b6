/**
 * One window's link to the daemon: the main-process end of the renderer's
 * `DesktopBridge` tunnel. Electron-free (`node:net` and the daemon package's
 * Launcher and LineFraming, which use Node built-ins only), so it is tested
 * against a real daemon in plain Node.
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
 *   2. Connected: the daemon's bytes are split into NDJSON lines (LineFraming,
 *      the daemon's own splitter), one frame each to `onFrame`. `send(frame)`
 *      checks the renderer's frame with `FrameCheck` and writes it with a
 *      newline, or answers it at once with an error frame (see FrameCheck);
 *      a frame sent while not connected is answered the same way, so no
 *      request waits forever.
 *   3. The socket closes (daemon stopped or crashed): `onClose(reason)` is
 *      called once; the renderer reconnects by calling `connect()` again.
 *   4. `close()` ends the connection without `onClose`; the daemon keeps running.
 */
import * as Launcher from "@tasklane/daemon/launcher"
import * as LineFraming from "@tasklane/daemon/line-framing"
import { createRequire } from "node:module"
import * as Net from "node:net"
import * as Path from "node:path"
import * as FrameCheck from "./FrameCheck.ts"

/** How to run the daemon's `tasklane` entry point, and extra flags for it. */
export interface DaemonCommand extends Launcher.DaemonCommand {
  /** Extra arguments after `daemon --data-dir DIR` (tests pass shorter grace periods). */
  readonly extraArgs?: ReadonlyArray<string> | undefined
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

/** The daemon command for this process (Electron runs the bin as Node); see `Launcher.daemonCommand`. */
export const daemonCommand = Launcher.daemonCommand

/** `@tasklane/daemon`'s `bin/tasklane.mjs` as this package resolves it (`$TASKLANE_DAEMON_BIN` overrides). */
export const defaultDaemonBin = (env: NodeJS.ProcessEnv = process.env): string => {
  if (env.TASKLANE_DAEMON_BIN) return Path.resolve(env.TASKLANE_DAEMON_BIN)
  // The package's main entry is src/index.ts; the bin sits next to src.
  const entry = createRequire(import.meta.url).resolve("@tasklane/daemon")
  return Path.join(Path.dirname(Path.dirname(entry)), "bin", "tasklane.mjs")
}

/** The pid in `<dataDir>/daemon.pid` if it names a live process (an unreadable file counts as none). */
const livePid = (dataDir: string): number | undefined => {
  try {
    return Launcher.readPid(Launcher.paths(dataDir).pidFile)
  } catch {
    return undefined
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Create the link; nothing happens until `connect()`. */
export const make = (options: Options): DaemonLink => {
  const { socket: socketPath, log: logFile } = Launcher.paths(options.dataDir)
  const retryWindowMs = options.retryWindowMs ?? 3_000
  const startTimeoutMs = options.startTimeoutMs ?? 20_000
  const maxLineBytes = options.maxLineBytes ?? 64 * 1024 * 1024

  let socket: Net.Socket | undefined
  let connecting: Promise<void> | undefined
  let everConnected = false

  const attach = (conn: Net.Socket) => {
    let closed = false
    const finish = (reason: string) => {
      if (closed) return
      closed = true
      conn.destroy()
      if (socket !== conn) return // replaced or closed by us: nobody to tell
      socket = undefined
      options.onClose(reason)
    }
    const lines = LineFraming.make({
      maxLineBytes,
      tooLong: () => new Error(`the daemon sent a message larger than ${maxLineBytes} bytes`),
    })
    conn.on("data", (chunk: Buffer) => {
      let complete: Array<Buffer>
      try {
        complete = lines.push(chunk)
      } catch (cause) {
        return finish((cause as Error).message)
      }
      for (const line of complete) if (socket === conn) options.onFrame(line.toString("utf8"))
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
      const result = await Launcher.dial(socketPath, 2_000)
      if (result instanceof Net.Socket) return attach(result)
      if (!Launcher.notServing(result)) {
        throw new Error(`cannot reach the Tasklane daemon at ${socketPath}: ${result.reason}`)
      }
      const mayBeComing = everConnected || livePid(options.dataDir) !== undefined
      if (!mayBeComing || Date.now() >= retryUntil) break
      await sleep(delay)
      delay = Math.min(delay * 2, 500)
    }
    Launcher.ensureDirectory(options.dataDir)
    const started = Launcher.spawnDetached({
      command: options.daemon,
      flags: ["--data-dir", options.dataDir, ...(options.daemon.extraArgs ?? [])],
      log: logFile,
      // The data directory, not wherever the app was launched: a stray
      // ./tasklane.config.ts there must not be loaded by surprise.
      cwd: options.dataDir,
    })
    // Our daemon may have lost a start race to another one: give that one a moment.
    const outcome = await Launcher.waitUntilServing({ socket: socketPath, daemon: started, timeoutMs: startTimeoutMs, exitGraceMs: 2_000 })
    if (outcome._tag === "Serving") return attach(outcome.socket)
    const why = outcome._tag === "Exited"
      ? `the daemon it started ${Launcher.describeExit(outcome.exit)}`
      : `the daemon it started did not serve within ${startTimeoutMs} ms`
    throw new Error(`cannot start the Tasklane daemon for ${options.dataDir}: ${why}. Last lines of ${logFile}:\n${Launcher.logTail(logFile)}`)
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
