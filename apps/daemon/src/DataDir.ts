/**
 * The daemon's data directory: where it is, what lives in it, and the pid
 * and socket files that tell one daemon per directory apart from the next.
 *
 * Lifecycle, as the daemon's main uses it:
 *   1. `resolveDirectory` (pure): `--data-dir`, else `$TASKLANE_HOME`, else
 *      `$XDG_DATA_HOME/tasklane`, else `~/.local/share/tasklane`.
 *   2. `ensure`: create the directory with mode 0700, or tighten an existing
 *      one to 0700 (it holds the socket, the store and later the web token).
 *   3. `runningDaemon` gives a friendlier message first than the store's
 *      lock would; then open the store: with LevelDB, its lock is the real
 *      one-daemon-per-directory mutex (a PostgreSQL store's advisory lock
 *      guards its database instead, and the pid file this directory). Holding it, `removeStale` removes
 *      what a daemon that died (kill -9, a crash) left: its `web-url`.
 *   4. `writePid` (scoped): our pid in `daemon.pid` (replacing a stale one),
 *      removed at shutdown.
 *   5. `Server.layer` calls `removeStaleSocket` and listens on `daemon.sock`.
 *   6. With `--http`, `WebServer.layer` reads (or first creates) `web-token`
 *      with `webToken` and, while it serves, keeps its URL in `web-url`
 *      (`writeWebUrl`, scoped).
 *
 * A pid in `daemon.pid` alone proves nothing after a crash: the process is
 * gone, or its pid now belongs to another program. `runningDaemon` trusts
 * it only while the socket answers, or, where `/proc` tells, the process is
 * a Tasklane daemon; `daemon stop` signals nothing else.
 *
 * Node-specific on purpose (pids, unix sockets, POSIX modes), so it uses
 * `node:fs` directly rather than Effect's FileSystem service. What every
 * launcher needs (where the directory is, its file names, creating it, the
 * live pid in `daemon.pid`) lives in the dependency-light Launcher module,
 * shared with the desktop app and `pnpm start`; this module wraps it in
 * Effect and adds what only the daemon and the CLI do.
 */
import { Effect, Option, Schema, Scope } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { probeSocket } from "./internal/Probe.ts"
import * as Launcher from "./Launcher.ts"

/** The data directory could not be created, tightened, read or written. */
export class DataDirError extends Schema.TaggedError<DataDirError>()("DataDirError", {
  directory: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `data directory ${this.directory}: ${this.reason}`
  }
}

/** Another daemon already serves this data directory. */
export class DaemonAlreadyRunning extends Schema.TaggedError<DaemonAlreadyRunning>()("DaemonAlreadyRunning", {
  directory: Schema.String,
  pid: Schema.optional(Schema.Number),
}) {
  override get message() {
    const who = this.pid === undefined ? "pid unknown" : `pid ${this.pid}`
    return `a Tasklane daemon is already running for ${this.directory} (${who}); ` +
      "stop it with `tasklane daemon stop` or use another --data-dir"
  }
}

/** Everything the daemon keeps in its data directory. */
export type Paths = Launcher.Paths

/** Where to look for the data directory; `env` and `home` default to the process's. */
export type ResolveInput = Launcher.ResolveInput

/** The absolute data directory from `--data-dir`, `$TASKLANE_HOME`, `$XDG_DATA_HOME` or the home directory. */
export const resolveDirectory: (input?: ResolveInput) => string = Launcher.resolveDataDir

/** The files inside a data directory. */
export const paths: (directory: string) => Paths = Launcher.paths

const fsError = (directory: string, what: string) => (cause: unknown) =>
  new DataDirError({ directory, reason: `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })

const errnoCode = Launcher.errnoCode

/** Write `content` to `file` atomically with mode 0600 (a temporary file renamed over it). */
const writePrivate = async (file: string, content: string) => {
  const temporary = `${file}.${process.pid}.tmp`
  await Fs.writeFile(temporary, content, { mode: 0o600 })
  await Fs.rename(temporary, file)
}

/** Create the directory (mode 0700) or tighten an existing one to 0700; returns its paths. */
export const ensure = (directory: string): Effect.Effect<Paths, DataDirError> =>
  Effect.try({ try: () => Launcher.ensureDirectory(directory), catch: fsError(directory, "cannot prepare") })

/** The pid of a live daemon from `daemon.pid`; none if the file is missing, garbage or names a dead process. */
export const readPid = (paths: Paths): Effect.Effect<Option.Option<number>, DataDirError> =>
  Effect.try({
    try: () => Option.fromUndefinedOr(Launcher.readPid(paths.pidFile)),
    catch: fsError(paths.directory, "cannot read the pid file"),
  })

/** Write our pid to `daemon.pid` (atomically, mode 0600); the file is removed when the scope closes, if still ours. */
export const writePid = (paths: Paths): Effect.Effect<void, DataDirError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => writePrivate(paths.pidFile, `${process.pid}\n`),
      catch: fsError(paths.directory, "cannot write the pid file"),
    }),
    () =>
      Effect.promise(async () => {
        const content = await Fs.readFile(paths.pidFile, "utf8").catch(() => "")
        if (content.trim() === String(process.pid)) await Fs.rm(paths.pidFile, { force: true })
      }),
  )

/** Whether `pid` runs a Tasklane daemon, as far as `/proc/<pid>/cmdline` tells (undefined where there is no /proc). */
const looksLikeDaemon = async (pid: number): Promise<boolean | undefined> => {
  try {
    const args = (await Fs.readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0")
    return args.some((arg) => /tasklane/.test(arg)) && args.includes("daemon")
  } catch {
    return Fs.access("/proc/self").then(() => false, () => undefined)
  }
}

/**
 * The pid of the daemon serving this directory: `daemon.pid` names a live
 * process and either the socket answers or the process is a Tasklane daemon
 * (a daemon still starting, or too busy to answer at once). None for a file
 * left by a daemon that died, even when its pid was reused by another program.
 */
export const runningDaemon = (paths: Paths): Effect.Effect<Option.Option<number>, DataDirError> =>
  Effect.gen(function* () {
    const pid = yield* readPid(paths)
    if (Option.isNone(pid)) return pid
    const probe = yield* probeSocket(paths.socket, 1_000)
    if (probe._tag === "Answered") return pid
    const daemon = yield* Effect.promise(() => looksLikeDaemon(pid.value))
    return daemon === true || (daemon === undefined && probe._tag === "TimedOut") ? pid : Option.none()
  })

/** Whether `daemon.pid` exists and names no running daemon (left by one that died); its pid then. */
export const stalePid = (paths: Paths): Effect.Effect<Option.Option<number>, DataDirError> =>
  Effect.gen(function* () {
    const text = yield* Effect.promise(() => Fs.readFile(paths.pidFile, "utf8").catch(() => undefined))
    if (text === undefined) return Option.none()
    if (Option.isSome(yield* runningDaemon(paths))) return Option.none()
    const pid = Number(text.trim())
    return Option.some(Number.isSafeInteger(pid) ? pid : 0)
  })

/** Removes what a daemon that died left behind: `web-url` and a stale `daemon.pid`. Call only while holding the store's lock. */
export const removeStale = (paths: Paths): Effect.Effect<void, DataDirError> =>
  Effect.tryPromise({
    try: async () => {
      await Fs.rm(paths.webUrl, { force: true })
      const pid = Number((await Fs.readFile(paths.pidFile, "utf8").catch(() => "")).trim())
      if (pid !== process.pid) await Fs.rm(paths.pidFile, { force: true })
    },
    catch: fsError(paths.directory, "cannot remove files left by a daemon that died"),
  })

/**
 * Remove `daemon.sock` left behind by a daemon that died, so a new one can
 * listen. Only a socket that refuses connections (ECONNREFUSED) is removed:
 * if a daemon answers (or the check times out) this fails with
 * `DaemonAlreadyRunning`; a non-socket file, or a socket we may not connect
 * to, is left alone and reported as a `DataDirError`.
 */
export const removeStaleSocket = (
  socketPath: string,
): Effect.Effect<void, DaemonAlreadyRunning | DataDirError> =>
  Effect.gen(function* () {
    const layout = paths(Path.dirname(socketPath))
    const stat = yield* Effect.tryPromise({
      try: () => Fs.lstat(socketPath).catch((cause) => (errnoCode(cause) === "ENOENT" ? undefined : Promise.reject(cause))),
      catch: fsError(layout.directory, "cannot inspect the socket"),
    })
    if (stat === undefined) return
    if (!stat.isSocket()) {
      return yield* new DataDirError({
        directory: layout.directory,
        reason: `${socketPath} exists and is not a socket; move it away and start again`,
      })
    }
    const probe = yield* probeSocket(socketPath, 1_000)
    if (probe._tag === "Unreachable" && probe.code === "ENOENT") return
    if (probe._tag === "Unreachable" && probe.code !== "ECONNREFUSED") {
      return yield* new DataDirError({ directory: layout.directory, reason: `${socketPath}: ${probe.reason}` })
    }
    if (probe._tag !== "Unreachable") {
      const pid = yield* readPid(layout).pipe(Effect.orElseSucceed(() => Option.none<number>()))
      return yield* new DaemonAlreadyRunning({
        directory: layout.directory,
        ...(Option.isSome(pid) ? { pid: pid.value } : {}),
      })
    }
    yield* Effect.tryPromise({
      try: () => Fs.rm(socketPath, { force: true }),
      catch: fsError(layout.directory, "cannot remove the stale socket"),
    })
  })

const tokenPattern = /^[0-9a-f]{64}$/

/**
 * The web mode's token from `web-token`: created on first use (32 random
 * bytes, hex, mode 0600) and reused on later starts; a file that does not hold
 * a token is replaced, one with wider permissions is tightened to 0600.
 */
export const webToken = (paths: Paths): Effect.Effect<string, DataDirError> =>
  Effect.tryPromise({
    try: async () => {
      const existing = await Fs.readFile(paths.webToken, "utf8").then(
        (content) => content.trim(),
        (cause) => (errnoCode(cause) === "ENOENT" ? undefined : Promise.reject(cause)),
      )
      if (existing !== undefined && tokenPattern.test(existing)) {
        if (((await Fs.stat(paths.webToken)).mode & 0o777) !== 0o600) await Fs.chmod(paths.webToken, 0o600)
        return existing
      }
      const token = Crypto.randomBytes(32).toString("hex")
      await writePrivate(paths.webToken, `${token}\n`)
      return token
    },
    catch: fsError(paths.directory, "cannot read or create the web token"),
  })

/** Write the web UI's URL to `web-url` (mode 0600); the file is removed when the scope closes. */
export const writeWebUrl = (paths: Paths, url: string): Effect.Effect<void, DataDirError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => writePrivate(paths.webUrl, `${url}\n`), catch: fsError(paths.directory, "cannot write the web URL") }),
    () => Effect.promise(() => Fs.rm(paths.webUrl, { force: true })),
  )

/** The URL in `web-url`, if a daemon in web mode wrote one. */
export const readWebUrl = (paths: Paths): Effect.Effect<Option.Option<string>> =>
  Effect.sync(() => Option.fromUndefinedOr(Launcher.readWebUrl(paths)))
