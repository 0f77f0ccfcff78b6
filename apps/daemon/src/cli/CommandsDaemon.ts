/**
 * `tasklane daemon start|stop|status`: a background daemon for servers
 * without a service manager. `start` spawns `tasklane daemon` detached, its
 * output appended to `<data dir>/daemon.log`, and waits until it serves
 * (Launcher); its flags are the foreground daemon's (DaemonFlags), passed
 * through, paths made absolute;
 * `stop` sends SIGTERM to the pid in `<data dir>/daemon.pid` and waits for a
 * graceful exit, but only while that pid is a running daemon
 * (`DataDir.runningDaemon`): a pid file left by a daemon that died is removed
 * instead, its pid never signalled; `status` asks the running daemon for its
 * Info (its pid, which store it runs on and its health, the cluster's nodes
 * when it is a node of one; the web UI's URL from `<data dir>/web-url` when
 * it serves one, `--http`; the text is StatusText's), and when none answers
 * says so, naming a stale pid file if one was left.
 * (`tasklane daemon [options]`, the foreground daemon, is dispatched by the
 * `tasklane` bin before this command tree; see `src/main.ts`.)
 */
import { Effect, Option, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import * as Fs from "node:fs"
import * as Client from "../Client.ts"
import * as DaemonFlags from "../DaemonFlags.ts"
import * as DataDir from "../DataDir.ts"
import * as Launcher from "../Launcher.ts"
import { dataDir, socketPath, withClient } from "./Connect.ts"
import * as Output from "./Output.ts"
import * as StatusText from "./StatusText.ts"

/** The background daemon did not start or stop as asked. */
export class DaemonControlError extends Schema.TaggedError<DaemonControlError>()("DaemonControlError", { reason: Schema.String }) {
  override get message() {
    return this.reason
  }
}

/** An effect/cli flag for a row of the daemon's flag table; `daemon start` passes it through. */
const startFlag = (row: DaemonFlags.Row): Flag.Flag<unknown> => {
  const described = <A>(flag: Flag.Flag<A>) => Flag.withDescription(flag, row.summary ?? "")
  switch (row.kind) {
    case "string":
      return described(Flag.String(row.name).pipe(Flag.optional))
    case "strings":
      return described(Flag.String(row.name).pipe(Flag.atLeast(0)))
    case "boolean":
      return described(Flag.Boolean(row.name).pipe(Flag.withDefault(false)))
    case "count":
      return described(Flag.Int(row.name).pipe(Flag.optional))
    case "seconds":
      return described(Flag.Finite(row.name).pipe(Flag.optional))
    case "choice":
      return described(Flag.Literals(row.name, row.choices ?? []).pipe(Flag.optional))
  }
}

/** A parsed flag's value as the flag table's argument builder takes it: an absent optional flag is undefined. */
const flagValue = (value: unknown): DaemonFlags.Value =>
  Option.isOption(value) ? Option.getOrUndefined(value as Option.Option<DaemonFlags.Value>) : value as DaemonFlags.Value

const start = Command.make("start", {
  daemon: Object.fromEntries(DaemonFlags.startRows.map((row) => [row.name, startFlag(row)])),
  timeout: Flag.Finite("timeout").pipe(Flag.withDefault(20), Flag.withDescription("seconds to wait until it serves")),
}, (options) =>
  Effect.gen(function*() {
    const paths = DataDir.paths(yield* dataDir)
    const socket = yield* socketPath
    const running = yield* Effect.exit(Client.ensureReachable({ socketPath: socket }))
    if (running._tag === "Success") {
      const pid = Option.getOrUndefined(yield* DataDir.readPid(paths))
      return yield* Output.print({ started: false, pid, dataDir: paths.directory }, () =>
        Output.line(`a daemon is already running for ${paths.directory}${pid === undefined ? "" : ` (pid ${pid})`}`))
    }
    yield* DataDir.ensure(paths.directory)
    const values = Object.fromEntries(Object.entries(options.daemon).map(([name, value]) => [name, flagValue(value)]))
    // With --http it serves once the web server wrote its URL too.
    const web = values["http"] !== undefined
    // Left behind by a daemon that was killed: not this one's URL.
    Fs.rmSync(paths.webUrl, { force: true })
    const daemon = Launcher.spawnDetached({
      // This very `tasklane` (its bin, under this Node and its flags).
      command: { command: process.execPath, args: [...process.execArgv, process.argv[1]!] },
      flags: ["--data-dir", paths.directory, ...DaemonFlags.startArgs(values)],
      log: paths.log,
    })
    const outcome = yield* Effect.promise(() =>
      Launcher.waitUntilServing({
        socket,
        daemon,
        timeoutMs: options.timeout * 1000,
        ready: () => !web || Launcher.readWebUrl(paths) !== undefined,
        intervalMs: 50,
        dialTimeoutMs: 500,
      })
    )
    if (outcome._tag === "Exited") {
      const exit = outcome.exit._tag === "Exited" ? `exited (${outcome.exit.status})` : Launcher.describeExit(outcome.exit)
      return yield* new DaemonControlError({ reason: `the daemon ${exit} before serving; see ${paths.log}` })
    }
    if (outcome._tag === "TimedOut") {
      return yield* new DaemonControlError({ reason: `the daemon did not serve within ${options.timeout} s; see ${paths.log}` })
    }
    outcome.socket.destroy()
    const webUrl = Launcher.readWebUrl(paths)
    yield* Output.print({ started: true, pid: daemon.pid, dataDir: paths.directory, log: paths.log, webUrl }, (r) =>
      Output.line(`started daemon (pid ${r.pid}) for ${r.dataDir}; log ${r.log}${r.webUrl === undefined ? "" : `\nweb UI: ${r.webUrl}`}`))
  })).pipe(Command.withDescription("Start the daemon in the background (log in <data dir>/daemon.log)"))

const stop = Command.make("stop", {
  timeout: Flag.Finite("timeout").pipe(Flag.withDefault(60), Flag.withDescription("seconds to wait for a graceful exit")),
}, ({ timeout }) =>
  Effect.gen(function*() {
    const paths = DataDir.paths(yield* dataDir)
    const pid = Option.getOrUndefined(yield* DataDir.runningDaemon(paths))
    if (pid === undefined) {
      // Never signal the pid of a daemon that died: it may belong to another program now.
      const stale = Option.getOrUndefined(yield* DataDir.stalePid(paths))
      if (stale !== undefined) yield* Effect.sync(() => Fs.rmSync(paths.pidFile, { force: true }))
      return yield* Output.print({ stopped: false, dataDir: paths.directory, ...(stale === undefined ? {} : { stalePid: stale }) }, () =>
        Output.line(
          `no daemon is running for ${paths.directory}` +
            (stale === undefined ? "" : ` (removed daemon.pid left by pid ${stale}, which is not a running daemon)`),
        ))
    }
    yield* Effect.sync(() => process.kill(pid, "SIGTERM"))
    const deadline = Date.now() + timeout * 1000
    while (Launcher.isAlive(pid)) {
      if (Date.now() > deadline) {
        return yield* new DaemonControlError({ reason: `the daemon (pid ${pid}) did not stop within ${timeout} s` })
      }
      yield* Effect.sleep("50 millis")
    }
    yield* Output.print({ stopped: true, pid, dataDir: paths.directory }, (r) => Output.line(`stopped daemon (pid ${r.pid})`))
  })).pipe(Command.withDescription("Stop the background daemon gracefully (SIGTERM, then wait)"))

const status = Command.make("status", {}, () =>
  Effect.gen(function*() {
    const paths = DataDir.paths(yield* dataDir)
    const info = yield* withClient((client) => client.Info()).pipe(
      // Say why when a daemon that died left its pid behind.
      Effect.catchTag("DaemonUnreachable", (unreachable) =>
        Effect.flatMap(DataDir.stalePid(paths), (stale) =>
          Effect.fail(
            Option.isNone(stale) ? unreachable : new Client.DaemonUnreachable({
              socketPath: unreachable.socketPath,
              reason: `${unreachable.reason}; daemon.pid names pid ${stale.value}, which is not a running daemon (it crashed or was killed)`,
            }),
          ))),
    )
    const webUrl = Option.getOrUndefined(yield* DataDir.readWebUrl(paths))
    yield* Output.print(webUrl === undefined ? info : { ...info, webUrl }, () => Output.line(StatusText.statusText(info, webUrl)))
  })).pipe(Command.withDescription("Show whether the daemon runs, and what it is doing (exit 3 when it does not)"))

/** `tasklane daemon`: start|stop|status here; `tasklane daemon [options]` runs it in the foreground. */
export const daemon = Command.make("daemon").pipe(
  Command.withSubcommands([start, stop, status]),
  Command.withDescription(
    "Manage the daemon. `tasklane daemon [options]` runs it in the foreground (see `tasklane daemon --help`; `--http HOST:PORT` adds the web UI)",
  ),
)
