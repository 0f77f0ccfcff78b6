/**
 * The daemon program: parse flags, prepare the data directory, load the task
 * definitions, open the event store, recover, and serve clients on the unix
 * socket (and, with `--http`, the web UI and RPC over WebSocket) until
 * SIGINT/SIGTERM (then stop gracefully and exit 0).
 *
 * Wiring only: every concept lives in its own module.
 */
import * as Path from "node:path"
import { parseArgs } from "node:util"
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer, Option, Runtime } from "effect"
import { EventStore } from "@tasklane/core"
import * as DataDir from "./DataDir.ts"
import { examples } from "./examples/index.ts"
import * as Hooks from "./Hooks.ts"
import * as Registry from "./Registry.ts"
import * as RpcHandlers from "./RpcHandlers.ts"
import * as Runner from "./Runner.ts"
import * as Scheduler from "./Scheduler.ts"
import * as Server from "./Server.ts"
import * as TaskLoader from "./TaskLoader.ts"
import * as Tasks from "./Tasks.ts"
import * as WebServer from "./WebServer.ts"
import { version } from "./version.ts"

export { version } from "./version.ts"

const usage = `Usage: tasklane daemon [options]

Runs the Tasklane daemon in the foreground: executes tasks, stores every event
in LevelDB under the data directory, serves clients on <data dir>/daemon.sock.

Options:
  --data-dir DIR        data directory (default: $TASKLANE_HOME, else
                        $XDG_DATA_HOME/tasklane, else ~/.local/share/tasklane)
  --config FILE         tasklane.config.ts to load (default: ./tasklane.config.ts if present)
  --tasks DIR           also load every task module in DIR (repeatable)
  --concurrency N       iterations running at once (default: config, else 8)
  --no-examples         do not load the built-in example tasks
  --abort-grace S       seconds a running task gets to answer an abort
                        (default: the config's abortGracePeriod, else 10)
  --shutdown-grace S    seconds running iterations get to finish on SIGTERM (default 10)
  --http HOST:PORT      also serve the web UI and RPC over WebSocket on HOST:PORT
                        (PORT alone: 127.0.0.1:PORT; 0: a free port); prints the URL
                        with its access token (kept in <data dir>/web-token)
  --http-ui DIR         the built UI to serve (default: apps/desktop/out/renderer)
  -h, --help            show this help

The client commands' --socket, --json and --verbose do not apply here: the
daemon always serves <data dir>/daemon.sock and prints plain lines.
`

/** Daemon options after parsing. */
export interface DaemonOptions {
  readonly dataDir: string
  readonly configPath: string | undefined
  readonly taskDirs: ReadonlyArray<string>
  readonly concurrency: number | undefined
  readonly examples: boolean
  /** `--abort-grace`; undefined: the config's `abortGracePeriod`, else 10. */
  readonly abortGraceSeconds: number | undefined
  readonly shutdownGraceSeconds: number
  /** Web mode (`--http`): where to listen and which UI to serve; off when undefined. */
  readonly web: (WebServer.Address & { readonly uiDir: string }) | undefined
}

const positive = (name: string, value: string | undefined, fallback: number | undefined) => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`)
  return n
}

const webMode = (http: string | undefined, uiDir: string | undefined): DaemonOptions["web"] => {
  if (http === undefined) {
    if (uiDir !== undefined) throw new Error("--http-ui needs --http HOST:PORT")
    return undefined
  }
  const address = WebServer.parseAddress(http)
  if (address === undefined) throw new Error(`--http must be HOST:PORT or PORT, got "${http}"`)
  return { ...address, uiDir: uiDir === undefined ? WebServer.defaultUiDir : Path.resolve(uiDir) }
}

/** Parses the daemon's flags (throws a one-line Error on bad usage). */
export const parseOptions = (argv: ReadonlyArray<string>): DaemonOptions | "help" => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      "data-dir": { type: "string" },
      config: { type: "string" },
      tasks: { type: "string", multiple: true },
      concurrency: { type: "string" },
      "no-examples": { type: "boolean" },
      "abort-grace": { type: "string" },
      "shutdown-grace": { type: "string" },
      http: { type: "string" },
      "http-ui": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  })
  if (values.help) return "help"
  return {
    dataDir: DataDir.resolveDirectory({ dataDir: values["data-dir"] }),
    configPath: values.config,
    taskDirs: values.tasks ?? [],
    concurrency: positive("concurrency", values.concurrency, undefined),
    examples: values["no-examples"] !== true,
    abortGraceSeconds: positive("abort-grace", values["abort-grace"], undefined),
    shutdownGraceSeconds: positive("shutdown-grace", values["shutdown-grace"], 10)!,
    web: webMode(values.http, values["http-ui"]),
  }
}

/** The whole daemon as one layer: store, registry, scheduler, RPC servers. */
export const daemon = (options: DaemonOptions) =>
  Layer.unwrap(
    Effect.gen(function*() {
      const paths = yield* DataDir.ensure(options.dataDir)
      const running = yield* DataDir.readPid(paths)
      if (Option.isSome(running) && running.value !== process.pid) {
        return yield* new DataDir.DaemonAlreadyRunning({ directory: paths.directory, pid: running.value })
      }
      const loaded = yield* TaskLoader.load({ configPath: options.configPath, taskDirs: options.taskDirs, cwd: process.cwd() })
      const implementations = [...(options.examples ? examples : []), ...loaded.implementations]
      // Flags win over the config, the config over the defaults.
      const concurrency = options.concurrency ?? loaded.config?.concurrency ?? 8
      const abortGraceSeconds = options.abortGraceSeconds ?? loaded.config?.abortGracePeriod ?? 10
      const store = EventStore.layer({ directory: paths.store }).pipe(
        Layer.catchTag("StoreLocked", () =>
          Layer.effect(EventStore.EventStore)(
            Effect.flatMap(DataDir.readPid(paths), (pid) =>
              Effect.fail(new DataDir.DaemonAlreadyRunning({ directory: paths.directory, ...(Option.isSome(pid) ? { pid: pid.value } : {}) }))),
          )),
      )
      const core = Tasks.layer.pipe(Layer.provideMerge(Registry.layer(implementations, loaded.config?.layer)), Layer.provideMerge(store))
      const execution = Scheduler.layer({ concurrency, shutdownGraceSeconds: options.shutdownGraceSeconds }).pipe(
        Layer.provideMerge(Hooks.layer),
        Layer.provideMerge(Runner.layer({ abortGraceSeconds })),
        Layer.provideMerge(core),
      )
      const identity = { version, dataDir: paths.directory, startedAt: Date.now(), concurrency }
      const unix = Server.layer({ socketPath: paths.socket })
      const servers = options.web === undefined ? unix : Layer.mergeAll(unix, WebServer.layer({ ...options.web, paths }))
      // One handlers instance behind both transports.
      const server = servers.pipe(Layer.provide(RpcHandlers.layer(identity)))
      const announce = Layer.effectDiscard(
        Effect.gen(function*() {
          yield* DataDir.writePid(paths)
          yield* Console.log(`tasklane daemon ${version} (pid ${process.pid}) serving ${paths.socket}`)
          yield* Console.log(`data dir ${paths.directory}; ${implementations.length} task definitions; concurrency ${concurrency}`)
        }),
      )
      return announce.pipe(Layer.provide(server), Layer.provide(execution))
    }),
  )

const program = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const parsed = yield* Effect.try({ try: () => parseOptions(argv), catch: (e) => (e instanceof Error ? e : new Error(String(e))) })
    if (parsed === "help") return yield* Console.log(usage)
    return yield* Layer.launch(daemon(parsed))
  }).pipe(
    Effect.catch((error) =>
      Effect.gen(function*() {
        yield* Console.error(`tasklane daemon: ${error.message}`)
        process.exitCode = 1
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
export const main = (argv: ReadonlyArray<string>): void => NodeRuntime.runMain(program(argv), { teardown })
