/**
 * The daemon program: parse flags, prepare the data directory, load the task
 * definitions, open the event store, recover, and serve clients on the unix
 * socket (and, with `--http`, the web UI and RPC over WebSocket; with
 * `--metrics`, a Prometheus `/metrics` listener; with `--otlp-endpoint`,
 * OTLP export of traces, logs and metrics) until
 * SIGINT/SIGTERM (then stop gracefully and exit 0).
 *
 * Wiring only: every concept lives in its own module.
 */
import * as Path from "node:path"
import { parseArgs } from "node:util"
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Context, Effect, Exit, Layer, Option, Runtime } from "effect"
import { EventStore } from "@tasklane/core"
import type { TaskDefinition } from "@tasklane/tasks"
import * as Cluster from "./Cluster.ts"
import * as ClusterScheduler from "./ClusterScheduler.ts"
import * as DaemonFlags from "./DaemonFlags.ts"
import * as DataDir from "./DataDir.ts"
import { examples } from "./examples/index.ts"
import * as Hooks from "./Hooks.ts"
import * as HeapGrowth from "./internal/HeapGrowth.ts"
import * as Isolation from "./Isolation.ts"
import * as Metrics from "./Metrics.ts"
import * as MetricsServer from "./MetricsServer.ts"
import * as Registry from "./Registry.ts"
import * as Retention from "./Retention.ts"
import * as RpcHandlers from "./RpcHandlers.ts"
import * as Runner from "./Runner.ts"
import * as Scheduler from "./Scheduler.ts"
import * as Schedules from "./Schedules.ts"
import * as Server from "./Server.ts"
import * as Slots from "./Slots.ts"
import * as StoreChoice from "./StoreChoice.ts"
import * as StoreWatch from "./StoreWatch.ts"
import * as TaskLoader from "./TaskLoader.ts"
import * as Tasks from "./Tasks.ts"
import * as Tracing from "./Tracing.ts"
import * as WebServer from "./WebServer.ts"
import { version } from "./version.ts"

export { version } from "./version.ts"

/** `tasklane daemon --help`; the Options section comes from the flag table (DaemonFlags). */
const usage = `Usage: tasklane daemon [options]

Runs the Tasklane daemon in the foreground: executes tasks, stores every event
in LevelDB under the data directory (or, with --store, in PostgreSQL), serves
clients on <data dir>/daemon.sock.

Options:
${DaemonFlags.optionsHelp()}

Exit codes: 0 stopped by SIGINT/SIGTERM; 1 could not start; 65 the event store
is damaged (the message lists what was found; see --accept-store-damage);
75 the event store could not write and gave up reopening its database, or
a cluster node lost its PostgreSQL database for half a lease (a supervisor
should restart the daemon).

The client commands' --socket, --json and --verbose do not apply here: the
daemon always serves <data dir>/daemon.sock and prints plain lines.
`

/** Daemon options after parsing. */
export interface DaemonOptions {
  readonly dataDir: string
  /** `--store`; undefined: the config's `store`, else LevelDB in the data dir. */
  readonly store: StoreChoice.Choice | undefined
  /** `--node-id` (PostgreSQL): this daemon's name in the cluster; undefined: host name-pid. */
  readonly nodeId: string | undefined
  /** `--lease`, seconds: a cluster node silent this long is taken over. */
  readonly leaseSeconds: number
  readonly configPath: string | undefined
  readonly taskDirs: ReadonlyArray<string>
  readonly concurrency: number | undefined
  readonly isolation: TaskDefinition.Isolation | undefined
  readonly workerMemoryMb: number | undefined
  readonly examples: boolean
  /** `--abort-grace`; undefined: the config's `abortGracePeriod`, else 10. */
  readonly abortGraceSeconds: number | undefined
  readonly shutdownGraceSeconds: number
  /** Web mode (`--http`): where to listen and which UI to serve; off when undefined. */
  readonly web: (WebServer.Address & { readonly uiDir: string }) | undefined
  /** `--metrics`: where the metrics-only listener listens; off when undefined. */
  readonly metrics: WebServer.Address | undefined
  /** `--otlp-endpoint` (or `OTEL_EXPORTER_OTLP_ENDPOINT`): OTLP export; off when undefined. */
  readonly otlp: Tracing.OtlpOptions | undefined
  /** `--accept-store-damage`: open a damaged store anyway (repaired, damage reported). */
  readonly acceptStoreDamage: boolean
}

const positive = (name: string, value: string | undefined, fallback: number | undefined) => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`)
  return n
}

const isolationOf = (value: string | undefined): TaskDefinition.Isolation | undefined => {
  if (value === undefined || value === "inline" || value === "worker") return value
  throw new Error(`--isolation must be worker or inline, got "${value}"`)
}

// --accept-store-damage with PostgreSQL is refused when the store opens (StoreChoice), whether --store or the config chose it.
const storeOf = (value: string | undefined): StoreChoice.Choice | undefined => {
  if (value === undefined) return undefined
  const problem = StoreChoice.problem(value)
  if (problem !== undefined) throw new Error(`--store ${problem}`)
  return StoreChoice.postgres(value)
}

/** `--node-id`: a name other nodes and `daemon status` show, so not empty and one line. */
const nodeIdOf = (value: string | undefined): string | undefined => {
  if (value === undefined) return undefined
  if (value.trim() === "" || /[\r\n]/.test(value)) throw new Error(`--node-id must be a non-empty name on one line, got ${JSON.stringify(value)}`)
  return value
}

/** Worker threads idle this long are terminated (an idle daemon holds none). */
const workerIdleMs = 60_000

const webMode = (http: string | undefined, uiDir: string | undefined): DaemonOptions["web"] => {
  if (http === undefined) {
    if (uiDir !== undefined) throw new Error("--http-ui needs --http HOST:PORT")
    return undefined
  }
  const address = WebServer.parseAddress(http)
  if (address === undefined) throw new Error(`--http must be HOST:PORT or PORT, got "${http}"`)
  return { ...address, uiDir: uiDir === undefined ? WebServer.defaultUiDir : Path.resolve(uiDir) }
}

const metricsAddress = (value: string | undefined): WebServer.Address | undefined => {
  if (value === undefined) return undefined
  const address = WebServer.parseAddress(value)
  if (address === undefined) throw new Error(`--metrics must be HOST:PORT or PORT, got "${value}"`)
  return address
}

/** Parses the daemon's flags (throws a one-line Error on bad usage). */
export const parseOptions = (argv: ReadonlyArray<string>): DaemonOptions | "help" => {
  const { values } = parseArgs({ args: [...argv], options: DaemonFlags.parseArgsOptions, strict: true })
  if (values.help) return "help"
  return {
    dataDir: DataDir.resolveDirectory({ dataDir: values["data-dir"] }),
    store: storeOf(values.store),
    nodeId: nodeIdOf(values["node-id"]),
    leaseSeconds: positive("lease", values.lease, DaemonFlags.row("lease").default)!,
    configPath: values.config,
    taskDirs: values.tasks ?? [],
    concurrency: positive("concurrency", values.concurrency, undefined),
    isolation: isolationOf(values.isolation),
    workerMemoryMb: positive("worker-memory", values["worker-memory"], undefined),
    examples: values["no-examples"] !== true,
    abortGraceSeconds: positive("abort-grace", values["abort-grace"], undefined),
    shutdownGraceSeconds: positive("shutdown-grace", values["shutdown-grace"], DaemonFlags.row("shutdown-grace").default)!,
    web: webMode(values.http, values["http-ui"]),
    metrics: metricsAddress(values.metrics),
    otlp: Tracing.resolveOptions(values["otlp-endpoint"], process.env),
    acceptStoreDamage: values["accept-store-damage"] === true,
  }
}

/** The store to open: `--store` wins over the config's `store`, which must pass the same check; else LevelDB. */
const storeChoice = (options: DaemonOptions, loaded: TaskLoader.Loaded) => {
  if (options.store !== undefined) return Effect.succeed(options.store)
  const configured = loaded.config?.store
  if (configured === undefined) return Effect.succeed(StoreChoice.level)
  const problem = StoreChoice.problem(configured)
  return problem === undefined
    ? Effect.succeed(StoreChoice.postgres(configured))
    : Effect.fail(new TaskLoader.LoadError({ path: loaded.configPath ?? "config", reason: `\`store\` ${problem}` }))
}

/** The whole daemon as one layer: store, registry, scheduler, RPC servers (it provides the store and its location, for the health watch). */
export const daemon = (options: DaemonOptions) =>
  Layer.unwrap(
    Effect.gen(function*() {
      const paths = yield* DataDir.ensure(options.dataDir)
      const running = yield* DataDir.runningDaemon(paths)
      if (Option.isSome(running) && running.value !== process.pid) {
        return yield* new DataDir.DaemonAlreadyRunning({ directory: paths.directory, pid: running.value })
      }
      const loaded = yield* TaskLoader.load({ configPath: options.configPath, taskDirs: options.taskDirs, cwd: process.cwd() })
      const implementations = [...(options.examples ? examples : []), ...loaded.implementations]
      // Flags win over the config, the config over the defaults.
      const concurrency = options.concurrency ?? loaded.config?.concurrency ?? 8
      const abortGraceSeconds = options.abortGraceSeconds ?? loaded.config?.abortGracePeriod ?? 10
      const isolation = Isolation.layer({
        isolation: options.isolation ?? loaded.config?.isolation ?? "worker",
        workerMemoryMb: options.workerMemoryMb ?? loaded.config?.workerMemoryMb ?? 512,
        sources: {
          configPath: loaded.configPath,
          taskDirs: options.taskDirs.map((dir) => Path.resolve(dir)),
          examples: options.examples,
        },
        // Iterations take at most `concurrency` workers; hooks and onBeforeTrigger always find one of the rest.
        maxWorkers: concurrency + 2,
        idleMs: workerIdleMs,
        blockedPath: Path.join(paths.directory, "blocked.json"),
      })
      // Kept only where served (--http, --metrics) or pushed (--otlp-endpoint): otherwise nothing is paid for them.
      const recorder = options.web === undefined && options.metrics === undefined && options.otlp === undefined
        ? undefined
        : Metrics.makeRecorder()
      const choice = yield* storeChoice(options, loaded)
      const location = StoreChoice.describeLocation(choice, paths)
      const store = StoreChoice.layer(choice, {
        paths,
        acceptDamage: options.acceptStoreDamage,
        nodeId: options.nodeId,
        leaseMs: options.leaseSeconds * 1000,
        // Five heartbeats per lease: a node is taken over only after missing several in a row.
        heartbeatMs: options.leaseSeconds * 200,
        ...(recorder === undefined ? {} : { onBatch: recorder.onBatch }),
      }).pipe(Layer.merge(Layer.succeed(StoreWatch.Location)(location)))
      // Once the store is open this process owns the directory: what a daemon that died left is stale.
      const owned = Layer.effectDiscard(Effect.andThen(EventStore.EventStore, DataDir.removeStale(paths))).pipe(Layer.provideMerge(store))
      const core = Tasks.layer.pipe(
        Layer.provideMerge(Slots.layer({ concurrency })),
        Layer.provideMerge(Registry.layer(implementations, loaded.config?.layer)),
        Layer.provideMerge(isolation),
        // Off by default: no layer at all (Isolation finds no Tracing service). Follows the store from before the scheduler starts.
        Layer.provideMerge(options.otlp === undefined || recorder === undefined ? Layer.empty : Tracing.layer(options.otlp, recorder)),
        // Metrics follow the store from before the scheduler starts, so recovery's events count.
        Layer.provideMerge(recorder === undefined ? Metrics.layerOff : Metrics.layer(recorder)),
        Layer.provideMerge(owned),
        // With --otlp-endpoint, every layer above logs to OTLP too.
        Layer.provideMerge(options.otlp === undefined ? Layer.empty : Tracing.loggerLayer(options.otlp)),
      )
      const schedulerOptions = { concurrency, shutdownGraceSeconds: options.shutdownGraceSeconds }
      // Alone, the scheduler queues in memory; a cluster node shares the work through the database.
      const scheduler = Layer.unwrap(
        Effect.map(Cluster.Cluster, ({ membership }) =>
          membership === undefined ? Scheduler.layer(schedulerOptions) : ClusterScheduler.layer(schedulerOptions, membership)),
      )
      const execution = scheduler.pipe(
        Layer.provideMerge(Retention.layer(loaded.config?.retention)),
        Layer.provideMerge(Schedules.layer({ legacyFile: Path.join(paths.directory, "schedules.jsonl") })),
        Layer.provideMerge(Hooks.layer),
        Layer.provideMerge(Runner.layer({ abortGraceSeconds })),
        Layer.provideMerge(core),
      )
      const identity: RpcHandlers.DaemonIdentity = {
        version,
        dataDir: paths.directory,
        startedAt: Date.now(),
        concurrency,
        storeKind: choice._tag === "level" ? "leveldb" : "postgres",
        storeLocation: "url" in location ? location.url : location.directory,
      }
      const unix = Server.layer({ socketPath: paths.socket })
      const web = options.web === undefined ? unix : Layer.mergeAll(unix, WebServer.layer({ ...options.web, paths }))
      const servers = options.metrics === undefined
        ? web
        : Layer.mergeAll(web, MetricsServer.layer({ ...options.metrics, token: yield* DataDir.webToken(paths), tokenFile: paths.webToken }))
      // One handlers instance behind both transports.
      const server = servers.pipe(Layer.provide(RpcHandlers.layer(identity)))
      const announce = Layer.effectDiscard(
        Effect.gen(function*() {
          yield* DataDir.writePid(paths)
          yield* Console.log(`tasklane daemon ${version} (pid ${process.pid}) serving ${paths.socket}`)
          yield* Console.log(`data dir ${paths.directory}; ${implementations.length} task definitions; concurrency ${concurrency}`)
          const { nodeId } = yield* Cluster.Cluster
          if (choice._tag === "postgres") yield* Console.log(`event store: PostgreSQL at ${StoreChoice.redact(choice.url)}; cluster node ${nodeId}`)
          if (options.otlp !== undefined) yield* Console.log(`otlp: sending traces, logs and metrics to ${options.otlp.endpoint} (${options.otlp.protocol})`)
        }),
      )
      return announce.pipe(Layer.provide(server), Layer.provideMerge(execution))
    }),
  )

/**
 * A node that lost its database stops gracefully, but not for longer than
 * this: its clients and connections may wait on a database that is gone,
 * and other nodes are taking its work over anyway.
 */
const exitWithin = (seconds: number) => {
  setTimeout(() => {
    process.stderr.write(`tasklane daemon: lost its database and did not stop within ${seconds} s; exiting with code ${StoreWatch.exitCodes.storeFailed}\n`)
    process.exit(StoreWatch.exitCodes.storeFailed)
  }, seconds * 1000).unref()
}

const program = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const parsed = yield* Effect.try({ try: () => parseOptions(argv), catch: (e) => (e instanceof Error ? e : new Error(String(e))) })
    if (parsed === "help") return yield* Console.log(usage)
    // Serves until interrupted (SIGINT/SIGTERM), or until the store gives up writing.
    return yield* Effect.scoped(
      Effect.flatMap(Layer.build(daemon(parsed)), (context) =>
        StoreWatch.untilStoreFails(
          Context.get(context, EventStore.EventStore),
          Context.get(context, StoreWatch.Location),
          Context.get(context, Cluster.Cluster).lost.pipe(Effect.tap(() => Effect.sync(() => exitWithin(parsed.shutdownGraceSeconds + 5)))),
        )),
    )
  }).pipe(
    Effect.catch((error) =>
      Effect.gen(function*() {
        yield* Console.error(`tasklane daemon: ${error.message}`)
        process.exitCode = StoreWatch.exitCodeOf(error)
      })
    ),
  )

/**
 * Exit codes: SIGINT/SIGTERM interrupt the program and, once everything has
 * stopped gracefully, the daemon exits 0 (Effect's default teardown would
 * report an interruption as 130); other outcomes keep the default codes.
 */
const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

/** Runs the daemon with command-line arguments until it is stopped. */
export const main = (argv: ReadonlyArray<string>): void => {
  HeapGrowth.limit()
  NodeRuntime.runMain(program(argv), { teardown })
}
