/**
 * The foreground daemon's flags, declared once: name, kind, default and help
 * text. From this table come the daemon's own parser options and the Options
 * section of `tasklane daemon --help` (main.ts), the flags of `tasklane
 * daemon start` and the argument list it passes to the daemon it spawns
 * (cli/CommandsDaemon.ts).
 *
 * Plain data and pure functions over it, no Effect: main.ts parses with
 * `node:util`'s parseArgs, the CLI builds effect/cli flags from the rows.
 * Values are checked where they are used (main.ts: positive numbers, the
 * isolation mode, HOST:PORT), so both entry points reject the same input.
 */
import * as Path from "node:path"

/** How a flag's value is read. `count` and `seconds` are positive numbers (the CLI reads a count as an integer). */
export type Kind = "string" | "strings" | "boolean" | "count" | "seconds" | "choice"

/** One daemon flag. */
export interface Row {
  /** Without the leading `--`. */
  readonly name: string
  readonly kind: Kind
  /** The value's placeholder in the help (`DIR`, `N`). */
  readonly metavar?: string
  /** The accepted values of a `choice`. */
  readonly choices?: ReadonlyArray<string>
  /** The value the daemon uses when the flag is absent and nothing else decides it. */
  readonly default?: number
  /** A path: `daemon start` makes it absolute, so the daemon it spawns reads the same file. */
  readonly path?: boolean
  /** `tasklane daemon --help`: the lines after the flag, as printed. */
  readonly help: ReadonlyArray<string>
  /** `tasklane daemon start --help`'s one line; absent: `daemon start` does not take it (its global `--data-dir` decides). */
  readonly summary?: string
}

/** The table, in `--help` order. */
export const rows = [
  {
    name: "data-dir",
    kind: "string",
    metavar: "DIR",
    help: ["data directory (default: $TASKLANE_HOME, else", "$XDG_DATA_HOME/tasklane, else ~/.local/share/tasklane)"],
  },
  {
    name: "store",
    kind: "string",
    metavar: "URL",
    help: [
      "the event store: a postgres:// or postgresql:// URL (every",
      "daemon on one database is a node of one cluster; default: the",
      "config's `store`, else LevelDB in <data dir>/store)",
    ],
    summary: "the event store: a postgres:// URL (default: the config's store, else LevelDB in the data dir)",
  },
  {
    name: "node-id",
    kind: "string",
    metavar: "ID",
    help: ["this daemon's name in a cluster (PostgreSQL; default: host name-pid)"],
    summary: "this daemon's name in a cluster (PostgreSQL; default: host name-pid)",
  },
  {
    name: "lease",
    kind: "seconds",
    metavar: "S",
    default: 10,
    help: ["a cluster node silent this long has its work taken over (default 10)"],
    summary: "a cluster node silent this long has its work taken over",
  },
  {
    name: "config",
    kind: "string",
    metavar: "FILE",
    help: ["tasklane.config.ts to load (default: ./tasklane.config.ts if present)"],
    summary: "tasklane.config.ts to load",
  },
  {
    name: "tasks",
    kind: "strings",
    metavar: "DIR",
    path: true,
    help: ["also load every task module in DIR (repeatable)"],
    summary: "also load every task module in this folder (repeatable)",
  },
  {
    name: "concurrency",
    kind: "count",
    metavar: "N",
    help: ["iterations running at once (default: config, else 8)"],
    summary: "iterations running at once",
  },
  {
    name: "isolation",
    kind: "choice",
    metavar: "MODE",
    choices: ["worker", "inline"],
    help: [
      "where task code runs unless a definition says otherwise:",
      "worker (a thread pool: memory limit, killed at its timeout;",
      "the default) or inline (the daemon's own loop: fastest)",
    ],
    summary: "where task code runs unless a definition says otherwise: worker threads (default) or the daemon's own loop",
  },
  {
    name: "worker-memory",
    kind: "count",
    metavar: "MB",
    help: ["heap limit of each worker thread (default: config, else 512)"],
    summary: "heap limit in MB of each worker thread (default 512)",
  },
  {
    name: "no-examples",
    kind: "boolean",
    help: ["do not load the built-in example tasks"],
    summary: "do not load the built-in example tasks",
  },
  {
    name: "abort-grace",
    kind: "seconds",
    metavar: "S",
    help: ["seconds a running task gets to answer an abort", "(default: the config's abortGracePeriod, else 10)"],
    summary: "seconds a running task gets to answer an abort",
  },
  {
    name: "shutdown-grace",
    kind: "seconds",
    metavar: "S",
    default: 10,
    help: ["seconds running iterations get to finish on SIGTERM (default 10)"],
    summary: "seconds running iterations get to finish on stop",
  },
  {
    name: "http",
    kind: "string",
    metavar: "HOST:PORT",
    help: [
      "also serve the web UI and RPC over WebSocket on HOST:PORT",
      "(PORT alone: 127.0.0.1:PORT; 0: a free port); prints the URL",
      "with its access token (kept in <data dir>/web-token)",
    ],
    summary: "also serve the web UI and RPC over WebSocket on HOST:PORT (PORT alone: 127.0.0.1; 0: a free port)",
  },
  {
    name: "http-ui",
    kind: "string",
    metavar: "DIR",
    path: true,
    help: ["the built UI to serve (default: apps/desktop/out/renderer)"],
    summary: "the built web UI to serve with --http",
  },
  {
    name: "metrics",
    kind: "string",
    metavar: "HOST:PORT",
    help: [
      "also serve Prometheus metrics at http://HOST:PORT/metrics and",
      "nothing else (PORT alone: 127.0.0.1:PORT; 0: a free port).",
      "Like web mode (which serves /metrics too) it requires the",
      "token in <data dir>/web-token: send it as a bearer token",
      "(Prometheus: authorization.credentials_file); the Host",
      "header must name the address given here",
    ],
    summary: "also serve Prometheus metrics at http://HOST:PORT/metrics (bearer token: <data dir>/web-token)",
  },
  {
    name: "otlp-endpoint",
    kind: "string",
    metavar: "URL",
    help: [
      "push traces, logs and metrics over OTLP/HTTP to URL/v1/traces,",
      "URL/v1/logs and URL/v1/metrics (default: $OTEL_EXPORTER_OTLP_ENDPOINT;",
      "off when neither is set). One span per task with a child span",
      "per iteration; spans task code creates with Effect.withSpan",
      "nest under their iteration. Also read: OTEL_SERVICE_NAME",
      "(default tasklane), OTEL_EXPORTER_OTLP_PROTOCOL (http/json,",
      "the default, or http/protobuf), OTEL_BSP_SCHEDULE_DELAY (ms",
      "between span/log sends, 5000), OTEL_METRIC_EXPORT_INTERVAL",
      "(ms between metric sends, 60000), OTEL_EXPORTER_OTLP_HEADERS,",
      "OTEL_RESOURCE_ATTRIBUTES",
    ],
    summary: "push traces, logs and metrics over OTLP/HTTP to URL/v1/... (default: $OTEL_EXPORTER_OTLP_ENDPOINT)",
  },
  {
    name: "accept-store-damage",
    kind: "boolean",
    help: [
      "start even though the event store is damaged: keep a copy",
      "of it beside it, cut its log after the last intact event,",
      "rebuild the task summaries, and report what was lost",
    ],
    summary: "start even though the event store is damaged (a copy is kept, the store repaired, the loss reported)",
  },
] as const satisfies ReadonlyArray<Row>

/** A flag's name. */
export type Name = (typeof rows)[number]["name"]

/** The row of a flag by name. */
export const row = (name: Name): Row => rows.find((candidate) => candidate.name === name)!

/** The flags `tasklane daemon start` takes and passes through. */
export const startRows: ReadonlyArray<Row> = rows.filter((candidate: Row) => candidate.summary !== undefined)

type ParseArgsOption<R extends Row> = R["kind"] extends "boolean" ? { readonly type: "boolean" }
  : R["kind"] extends "strings" ? { readonly type: "string"; readonly multiple: true }
  : { readonly type: "string" }

/** `node:util` parseArgs options for the table, with `-h, --help`. */
export type ParseArgsOptions =
  & { readonly [R in (typeof rows)[number] as R["name"]]: ParseArgsOption<R> }
  & { readonly help: { readonly type: "boolean"; readonly short: "h" } }

/** The options to give `node:util`'s parseArgs. */
export const parseArgsOptions: ParseArgsOptions = Object.fromEntries([
  ...rows.map((flag: Row) => [
    flag.name,
    flag.kind === "boolean" ? { type: "boolean" } : flag.kind === "strings" ? { type: "string", multiple: true } : { type: "string" },
  ]),
  ["help", { type: "boolean", short: "h" }],
]) as ParseArgsOptions

const column = 21

const helpEntry = (synopsis: string, lines: ReadonlyArray<string>): ReadonlyArray<string> =>
  lines.map((line, index) => `  ${(index === 0 ? synopsis : "").padEnd(column)} ${line}`)

/** The Options section of `tasklane daemon --help`: one entry per row, then `-h, --help`. */
export const optionsHelp = (): string =>
  [
    ...rows.flatMap((flag: Row) => helpEntry(`--${flag.name}${flag.metavar === undefined ? "" : ` ${flag.metavar}`}`, flag.help)),
    ...helpEntry("-h, --help", ["show this help"]),
  ].join("\n")

/** A parsed value of a flag: absent, a switch, a value, or a repeated flag's values. */
export type Value = undefined | boolean | string | number | ReadonlyArray<string>

/**
 * The daemon's command-line arguments for `daemon start`'s parsed values
 * (keyed by flag name), in table order; paths made absolute from `cwd`.
 */
export const startArgs = (values: Readonly<Record<string, Value>>, cwd: string = process.cwd()): Array<string> =>
  startRows.flatMap((flag) => {
    const value = values[flag.name]
    const text = (item: string | number) => (flag.path === true ? Path.resolve(cwd, String(item)) : String(item))
    if (value === undefined || value === false) return []
    if (value === true) return [`--${flag.name}`]
    if (typeof value === "string" || typeof value === "number") return [`--${flag.name}`, text(value)]
    return value.flatMap((item) => [`--${flag.name}`, text(item)])
  })
