/**
 * How any launcher finds and starts a Tasklane daemon: where the data
 * directory is and what lives in it, whether the pid in `daemon.pid` is
 * alive, whether anything answers on `daemon.sock`, and how to start a
 * detached daemon whose output is appended to `daemon.log` and wait until it
 * serves. Used by the CLI (`tasklane daemon start|stop|status`, through
 * DataDir), the desktop main process (DaemonLink) and `pnpm start`
 * (apps/desktop/bin/start.mjs).
 *
 * Node built-ins only, no Effect, and no state: the desktop main process
 * bundles it, and start.mjs runs under plain Node without a TypeScript
 * loader, so it imports this module's build, `dist/launcher.mjs` (made by
 * build.mjs). Effect callers wrap what they use (DataDir). Its timers are
 * plain `setTimeout`s for the same reason; nothing here is driven by a
 * TestClock.
 *
 * Lifecycle of a start: `spawnDetached` (own session, `unref`, output
 * appended to the log) hands back a `Spawned`; `waitUntilServing` dials the
 * socket until it answers (and, if asked, until `ready()` holds), the child
 * exited, or the timeout passed. Callers word the outcome: each launcher
 * keeps its own messages.
 */
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"

/** Everything the daemon keeps in its data directory. */
export interface Paths {
  readonly directory: string
  readonly socket: string
  readonly pidFile: string
  /** The LevelDB directory. */
  readonly store: string
  readonly log: string
  /** The web mode's access token (`--http`), 0600. */
  readonly webToken: string
  /** The web UI's URL while web mode serves, 0600; removed when it stops. */
  readonly webUrl: string
}

/** Where to look for the data directory; `env` and `home` default to the process's. */
export interface ResolveInput {
  readonly dataDir?: string | undefined
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  readonly home?: string | undefined
}

/** The absolute data directory from `--data-dir`, `$TASKLANE_HOME`, `$XDG_DATA_HOME` or the home directory. */
export const resolveDataDir = (input: ResolveInput = {}): string => {
  const env = input.env ?? process.env
  const home = input.home ?? Os.homedir()
  const expand = (path: string) => (path === "~" || path.startsWith("~/") ? Path.join(home, path.slice(1)) : path)
  if (input.dataDir) return Path.resolve(expand(input.dataDir))
  if (env.TASKLANE_HOME) return Path.resolve(expand(env.TASKLANE_HOME))
  // XDG: an empty or relative $XDG_DATA_HOME is invalid and ignored.
  const xdg = env.XDG_DATA_HOME
  if (xdg && Path.isAbsolute(xdg)) return Path.join(xdg, "tasklane")
  return Path.join(home, ".local", "share", "tasklane")
}

/** The files inside a data directory. */
export const paths = (directory: string): Paths => ({
  directory,
  socket: Path.join(directory, "daemon.sock"),
  pidFile: Path.join(directory, "daemon.pid"),
  store: Path.join(directory, "store"),
  log: Path.join(directory, "daemon.log"),
  webToken: Path.join(directory, "web-token"),
  webUrl: Path.join(directory, "web-url"),
})

/** The `code` of a Node system error, if it has one. */
export const errnoCode = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined

/**
 * Create the directory (mode 0700) or tighten an existing one to 0700: it
 * holds the socket, the store and the web token. Throws what `node:fs` throws.
 */
export const ensureDirectory = (directory: string): Paths => {
  Fs.mkdirSync(directory, { recursive: true, mode: 0o700 })
  const stat = Fs.statSync(directory)
  if (!stat.isDirectory()) throw new Error("exists and is not a directory")
  if ((stat.mode & 0o777) !== 0o700) Fs.chmodSync(directory, 0o700)
  return paths(directory)
}

/** Whether a process with this pid exists (ours or, EPERM, someone else's). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (cause) {
    return errnoCode(cause) === "EPERM"
  }
}

/**
 * The pid in a pid file if it names a live process; undefined when the file
 * is missing, holds no pid, or names a dead process. Other read errors
 * (EACCES, EISDIR) are thrown: they are not "no daemon".
 */
export const readPid = (pidFile: string): number | undefined => {
  let text: string
  try {
    text = Fs.readFileSync(pidFile, "utf8")
  } catch (cause) {
    if (errnoCode(cause) === "ENOENT") return undefined
    throw cause
  }
  const pid = Number(text.trim())
  return Number.isSafeInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined
}

/** The URL in `web-url`, if a daemon in web mode wrote one. */
export const readWebUrl = (paths: Paths): string | undefined => {
  try {
    return Fs.readFileSync(paths.webUrl, "utf8").trim() || undefined
  } catch {
    return undefined
  }
}

/** Why a connection attempt failed: the errno code and a sentence for people. */
export interface DialFailure {
  readonly code: string
  readonly reason: string
}

/** A readable reason for a failed connect to the daemon's socket. */
export const describeDialError = (error: NodeJS.ErrnoException): DialFailure => {
  const code = error.code ?? "UNKNOWN"
  switch (code) {
    case "ENOENT":
      return { code, reason: "no socket file (the daemon is not running)" }
    case "ECONNREFUSED":
      return { code, reason: "nothing listens on the socket (stale socket file; the daemon is not running)" }
    case "EACCES":
    case "EPERM":
      return { code, reason: "permission denied (is the daemon running as another user?)" }
    case "ENOTSOCK":
      return { code, reason: "the path is not a socket" }
    default:
      return { code, reason: error.message }
  }
}

/** Whether a dial failure means "no daemon here" (no socket, or a stale one) rather than trouble reaching one. */
export const notServing = (failure: DialFailure): boolean => failure.code === "ENOENT" || failure.code === "ECONNREFUSED"

/** Dial the socket once: the connected socket (the caller owns it), or why not (ETIMEDOUT after `timeoutMs`). */
export const dial = (path: string, timeoutMs: number): Promise<Net.Socket | DialFailure> =>
  new Promise((resolve) => {
    const socket = Net.createConnection({ path })
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ code: "ETIMEDOUT", reason: `no answer within ${timeoutMs} ms` })
    }, timeoutMs)
    socket.once("connect", () => {
      clearTimeout(timer)
      socket.removeAllListeners("error")
      resolve(socket)
    })
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(describeDialError(error))
    })
  })

/** Whether anything answers on the socket within `timeoutMs` (the connection is closed at once). */
export const answers = async (path: string, timeoutMs: number): Promise<boolean> => {
  const result = await dial(path, timeoutMs)
  if (!(result instanceof Net.Socket)) return false
  result.destroy()
  return true
}

/** How to run the `tasklane` entry point: `command ...args daemon [flags]`. */
export interface DaemonCommand {
  /** The executable: `process.execPath` (Node, or Electron run as Node). */
  readonly command: string
  /** Arguments before `daemon`, normally `[<@tasklane/daemon>/bin/tasklane.mjs]`. */
  readonly args: ReadonlyArray<string>
  /** The daemon's environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv | undefined
}

/**
 * The daemon command for this process and a `tasklane` bin: Node runs the bin
 * directly; Electron runs it as Node (`ELECTRON_RUN_AS_NODE=1`), since its
 * `execPath` is Electron.
 */
export const daemonCommand = (bin: string, env: NodeJS.ProcessEnv = process.env): DaemonCommand => ({
  command: process.execPath,
  args: [bin],
  env: process.versions.electron === undefined ? env : { ...env, ELECTRON_RUN_AS_NODE: "1" },
})

/** How a spawned daemon ended before serving: its exit code or signal, or why it could not be spawned. */
export type Exit =
  | { readonly _tag: "Exited"; readonly status: number | string }
  | { readonly _tag: "SpawnFailed"; readonly reason: string }

/** "exited with 1", "exited with SIGKILL", "could not be started: …". */
export const describeExit = (exit: Exit): string =>
  exit._tag === "Exited" ? `exited with ${exit.status}` : `could not be started: ${exit.reason}`

/** A daemon started by `spawnDetached`. */
export interface Spawned {
  readonly pid: number | undefined
  /** How it ended, once it has; undefined while it runs. */
  readonly exit: () => Exit | undefined
}

/** What `spawnDetached` needs. */
export interface SpawnOptions {
  readonly command: DaemonCommand
  /** The daemon's flags, after `daemon` (`--data-dir DIR` among them). */
  readonly flags: ReadonlyArray<string>
  /** The file its stdout and stderr are appended to (`<data dir>/daemon.log`). */
  readonly log: string
  /** Its working directory (default: this process's). */
  readonly cwd?: string | undefined
}

/**
 * Start `tasklane daemon <flags>` detached: its own session, so it outlives
 * this process and its terminal; stdin closed, output appended to the log;
 * `unref`ed, so this process may exit first.
 */
export const spawnDetached = (options: SpawnOptions): Spawned => {
  const log = Fs.openSync(options.log, "a")
  let exit: Exit | undefined
  try {
    const child = spawn(options.command.command, [...options.command.args, "daemon", ...options.flags], {
      detached: true,
      stdio: ["ignore", log, log],
      env: options.command.env ?? process.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    })
    child.on("error", (error) => (exit ??= { _tag: "SpawnFailed", reason: error.message }))
    child.on("exit", (code, signal) => (exit ??= { _tag: "Exited", status: code ?? signal ?? -1 }))
    child.unref()
    return { pid: child.pid, exit: () => exit }
  } finally {
    Fs.closeSync(log)
  }
}

/** How waiting for a started daemon ended. */
export type WaitResult =
  | { readonly _tag: "Serving"; readonly socket: Net.Socket }
  | { readonly _tag: "Exited"; readonly exit: Exit }
  | { readonly _tag: "TimedOut" }

/** What `waitUntilServing` needs. */
export interface WaitOptions {
  readonly socket: string
  readonly daemon: Spawned
  readonly timeoutMs: number
  /**
   * How long to keep dialling after the daemon exited (default 0: give up at
   * once). A daemon that lost a start race to another one exits; the winner
   * serves soon after.
   */
  readonly exitGraceMs?: number | undefined
  /** Serving also needs this (`daemon start --http` waits for `web-url`). */
  readonly ready?: (() => boolean) | undefined
  /** Pause between attempts (default 100 ms). */
  readonly intervalMs?: number | undefined
  /** Bound of each connect (default 1000 ms). */
  readonly dialTimeoutMs?: number | undefined
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Dial until the started daemon serves (the connected socket, the caller's to keep or close), exits, or times out. */
export const waitUntilServing = async (options: WaitOptions): Promise<WaitResult> => {
  const deadline = Date.now() + options.timeoutMs
  const exitGraceMs = options.exitGraceMs ?? 0
  let exitedAt: number | undefined
  for (;;) {
    const exit = options.daemon.exit()
    if (exit !== undefined) {
      exitedAt ??= Date.now()
      if (Date.now() - exitedAt >= exitGraceMs) return { _tag: "Exited", exit }
    }
    const result = await dial(options.socket, options.dialTimeoutMs ?? 1_000)
    if (result instanceof Net.Socket) {
      if (options.ready === undefined || options.ready()) return { _tag: "Serving", socket: result }
      result.destroy()
    }
    if (Date.now() > deadline) return { _tag: "TimedOut" }
    await sleep(options.intervalMs ?? 100)
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
