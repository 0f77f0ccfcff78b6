/**
 * `tasklane daemon start|stop|status`: a background daemon for servers
 * without a service manager. `start` spawns `tasklane daemon` detached, its
 * output appended to `<data dir>/daemon.log`, and waits until it serves;
 * `stop` sends SIGTERM to the pid in `<data dir>/daemon.pid` and waits for a
 * graceful exit, but only while that pid is a running daemon
 * (`DataDir.runningDaemon`): a pid file left by a daemon that died is removed
 * instead, its pid never signalled; `status` asks the running daemon for its
 * Info (its pid, the store's health; the web UI's URL from
 * `<data dir>/web-url` when it serves one, `--http`), and when none answers
 * says so, naming a stale pid file if one was left.
 * (`tasklane daemon [options]`, the foreground daemon, is dispatched by the
 * `tasklane` bin before this command tree; see `src/main.ts`.)
 */
import { Effect, Option, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { StoreHealth } from "@tasklane/core"
import * as Client from "../Client.ts"
import * as DataDir from "../DataDir.ts"
import { dataDir, socketPath, withClient } from "./Connect.ts"
import * as Output from "./Output.ts"
import { opt } from "./Output.ts"

/** The background daemon did not start or stop as asked. */
export class DaemonControlError extends Schema.TaggedError<DaemonControlError>()("DaemonControlError", { reason: Schema.String }) {
  override get message() {
    return this.reason
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const start = Command.make("start", {
  config: Flag.String("config").pipe(Flag.optional, Flag.withDescription("tasklane.config.ts to load")),
  concurrency: Flag.Int("concurrency").pipe(Flag.optional, Flag.withDescription("iterations running at once")),
  noExamples: Flag.Boolean("no-examples").pipe(Flag.withDefault(false), Flag.withDescription("do not load the built-in example tasks")),
  isolation: Flag.Literals("isolation", ["worker", "inline"]).pipe(
    Flag.optional,
    Flag.withDescription("where task code runs unless a definition says otherwise: worker threads (default) or the daemon's own loop"),
  ),
  workerMemory: Flag.Int("worker-memory").pipe(Flag.optional, Flag.withDescription("heap limit in MB of each worker thread (default 512)")),
  tasks: Flag.String("tasks").pipe(Flag.atLeast(0), Flag.withDescription("also load every task module in this folder (repeatable)")),
  abortGrace: Flag.Finite("abort-grace").pipe(Flag.optional, Flag.withDescription("seconds a running task gets to answer an abort")),
  shutdownGrace: Flag.Finite("shutdown-grace").pipe(Flag.optional, Flag.withDescription("seconds running iterations get to finish on stop")),
  http: Flag.String("http").pipe(
    Flag.optional,
    Flag.withDescription("also serve the web UI and RPC over WebSocket on HOST:PORT (PORT alone: 127.0.0.1; 0: a free port)"),
  ),
  httpUi: Flag.String("http-ui").pipe(Flag.optional, Flag.withDescription("the built web UI to serve with --http")),
  metrics: Flag.String("metrics").pipe(
    Flag.optional,
    Flag.withDescription("also serve Prometheus metrics at http://HOST:PORT/metrics (bearer token: <data dir>/web-token)"),
  ),
  otlpEndpoint: Flag.String("otlp-endpoint").pipe(
    Flag.optional,
    Flag.withDescription("push traces, logs and metrics over OTLP/HTTP to URL/v1/... (default: $OTEL_EXPORTER_OTLP_ENDPOINT)"),
  ),
  acceptStoreDamage: Flag.Boolean("accept-store-damage").pipe(
    Flag.withDefault(false),
    Flag.withDescription("start even though the event store is damaged (a copy is kept, the store repaired, the loss reported)"),
  ),
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
    const config = opt(options.config)
    const concurrency = opt(options.concurrency)
    const isolation = opt(options.isolation)
    const workerMemory = opt(options.workerMemory)
    const abortGrace = opt(options.abortGrace)
    const shutdownGrace = opt(options.shutdownGrace)
    const http = opt(options.http)
    const httpUi = opt(options.httpUi)
    const metrics = opt(options.metrics)
    const otlpEndpoint = opt(options.otlpEndpoint)
    const args = [
      ...process.execArgv,
      process.argv[1]!,
      "daemon",
      "--data-dir",
      paths.directory,
      ...(config === undefined ? [] : ["--config", config]),
      ...(concurrency === undefined ? [] : ["--concurrency", String(concurrency)]),
      ...(options.noExamples ? ["--no-examples"] : []),
      ...(isolation === undefined ? [] : ["--isolation", isolation]),
      ...(workerMemory === undefined ? [] : ["--worker-memory", String(workerMemory)]),
      ...options.tasks.flatMap((dir) => ["--tasks", Path.resolve(dir)]),
      ...(abortGrace === undefined ? [] : ["--abort-grace", String(abortGrace)]),
      ...(shutdownGrace === undefined ? [] : ["--shutdown-grace", String(shutdownGrace)]),
      ...(http === undefined ? [] : ["--http", http]),
      ...(httpUi === undefined ? [] : ["--http-ui", Path.resolve(httpUi)]),
      ...(metrics === undefined ? [] : ["--metrics", metrics]),
      ...(otlpEndpoint === undefined ? [] : ["--otlp-endpoint", otlpEndpoint]),
      ...(options.acceptStoreDamage ? ["--accept-store-damage"] : []),
    ]
    // Left behind by a daemon that was killed: not this one's URL.
    Fs.rmSync(paths.webUrl, { force: true })
    const log = Fs.openSync(paths.log, "a")
    const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", log, log], env: process.env })
    Fs.closeSync(log)
    let exitCode: number | string | undefined
    child.on("exit", (code, signal) => (exitCode = code ?? signal ?? -1))
    child.unref()
    const deadline = Date.now() + options.timeout * 1000
    for (;;) {
      if (exitCode !== undefined) {
        return yield* new DaemonControlError({ reason: `the daemon exited (${exitCode}) before serving; see ${paths.log}` })
      }
      const probe = yield* Effect.exit(Client.ensureReachable({ socketPath: socket, connectTimeout: 500 }))
      // With --http it serves once the web server wrote its URL too.
      if (probe._tag === "Success" && (http === undefined || Option.isSome(yield* DataDir.readWebUrl(paths)))) break
      if (Date.now() > deadline) {
        return yield* new DaemonControlError({ reason: `the daemon did not serve within ${options.timeout} s; see ${paths.log}` })
      }
      yield* Effect.sleep("50 millis")
    }
    const webUrl = Option.getOrUndefined(yield* DataDir.readWebUrl(paths))
    yield* Output.print({ started: true, pid: child.pid, dataDir: paths.directory, log: paths.log, webUrl }, (r) =>
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
    while (alive(pid)) {
      if (Date.now() > deadline) {
        return yield* new DaemonControlError({ reason: `the daemon (pid ${pid}) did not stop within ${timeout} s` })
      }
      yield* Effect.sleep("50 millis")
    }
    yield* Output.print({ stopped: true, pid, dataDir: paths.directory }, (r) => Output.line(`stopped daemon (pid ${r.pid})`))
  })).pipe(Command.withDescription("Stop the background daemon gracefully (SIGTERM, then wait)"))

/** The store's health as status lines: ok, degraded or failed with the error, and any damage found. */
const storeLines = (health: StoreHealth.StoreHealth | undefined): ReadonlyArray<string> => {
  if (health === undefined) return []
  const since = health.since === undefined ? "" : ` since ${Output.time(health.since)}`
  const state = health.status === "ok"
    ? Output.style.green("ok")
    : `${Output.style.red(health.status.toUpperCase())}${since}: ${health.error ?? "unknown error"}`
  return [`store        ${state}`, ...health.damage.map((damage) => `  ${Output.style.yellow("damage")} ${damage}`)]
}

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
    yield* Output.print(webUrl === undefined ? info : { ...info, webUrl }, (i) =>
      Output.line([
        `tasklane daemon ${i.version} (pid ${i.pid}), up since ${Output.time(i.startedAt)}`,
        `data dir     ${i.dataDir}`,
        `concurrency  ${i.concurrency}; ${i.running} running, ${i.queued} queued`,
        `tasks        ${Object.entries(i.counts).map(([s, n]) => `${s} ${n}`).join(", ") || "none"}`,
        ...storeLines(i.store),
        ...(i.retention === undefined ? [] : [
          `store size   ${Output.bytes(i.retention.sizeOnDisk)}; oldest retained position ${i.retention.oldestRetained}` +
          (i.retention.prunedThrough === 0 ? "" : ` (pruned through ${i.retention.prunedThrough})`),
        ]),
        ...(webUrl === undefined ? [] : [`web UI       ${webUrl}`]),
      ].join("\n")))
  })).pipe(Command.withDescription("Show whether the daemon runs, and what it is doing (exit 3 when it does not)"))

/** `tasklane daemon`: start|stop|status here; `tasklane daemon [options]` runs it in the foreground. */
export const daemon = Command.make("daemon").pipe(
  Command.withSubcommands([start, stop, status]),
  Command.withDescription(
    "Manage the daemon. `tasklane daemon [options]` runs it in the foreground (see `tasklane daemon --help`; `--http HOST:PORT` adds the web UI)",
  ),
)
