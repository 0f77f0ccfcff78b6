/**
 * How the CLI talks to its user: the global flags every command shares
 * (`--data-dir`, `--socket`, `--json`, `--verbose`), colours (only on a TTY,
 * never with NO_COLOR), tables and JSON documents on stdout, and the one
 * place that turns a failure into one sentence on stderr and an exit code:
 * 0 ok, 1 a waited task ended badly (or the command failed otherwise),
 * 2 bad usage or invalid input, 3 daemon unreachable.
 */
import { TaskMachine, TaskRpc } from "@tasklane/core"
import { Cause, Effect, Exit, Option, Schema } from "effect"
import { CliError, Flag, GlobalFlag } from "effect/cli"

/** `--json`: one stable JSON document on stdout (JSON Lines for follow modes). */
export const Json = GlobalFlag.Setting("json")({
  flag: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print JSON (JSON Lines when following)")),
})

/** `--verbose`: errors with their full cause. */
export const Verbose = GlobalFlag.Setting("verbose")({
  flag: Flag.Boolean("verbose").pipe(Flag.withDefault(false), Flag.withDescription("print errors with their full cause")),
})

/** `--data-dir`: the daemon's data directory. */
export const DataDirFlag = GlobalFlag.Setting("data-dir")({
  flag: Flag.String("data-dir").pipe(
    Flag.optional,
    Flag.withDescription("data directory (default: $TASKLANE_HOME, else $XDG_DATA_HOME/tasklane, else ~/.local/share/tasklane)"),
  ),
})

/** `--socket`: the daemon's socket, when not `<data dir>/daemon.sock`. */
export const SocketFlag = GlobalFlag.Setting("socket")({
  flag: Flag.String("socket").pipe(Flag.optional, Flag.withDescription("daemon socket (default: <data dir>/daemon.sock)")),
})

/** Every global flag, in help order. */
export const globalFlags = [DataDirFlag, SocketFlag, Json, Verbose] as const

/** Bad usage the parser cannot see (unparsable JSON input, an event number out of range). */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { reason: Schema.String }) {
  override get message() {
    return this.reason
  }
}

/** A task followed with `--wait` ended in error, aborted or maxIterations. */
export class TaskEndedBadly extends Schema.TaggedError<TaskEndedBadly>()("TaskEndedBadly", {
  taskId: Schema.String,
  status: Schema.String,
  detail: Schema.optional(Schema.String),
}) {
  override get message() {
    return `task ${this.taskId} ended ${this.status}${this.detail === undefined ? "" : `: ${this.detail}`}`
  }
}

/** Exit codes. */
export const ExitCode = { ok: 0, taskFailed: 1, usage: 2, unreachable: 3 } as const

const usageTags = new Set(["UsageError", "InvalidInput", "InvalidRequest", "UnknownDefinition", "UnknownTask", "NotAllowed", "TriggerRefused", "InitRefused", "LinesRefused", "UnknownSchedule"])

/** The exit code for a failure. */
export const exitCodeOf = (error: unknown): number => {
  if (CliError.isCliError(error)) return ExitCode.usage
  const tag = (error as { _tag?: unknown } | null)?._tag
  if (tag === "DaemonUnreachable") return ExitCode.unreachable
  if (typeof tag === "string" && usageTags.has(tag)) return ExitCode.usage
  return ExitCode.taskFailed
}

/** One sentence for a failure; InvalidInput lists every field path and message on lines of its own. */
export const describe = (error: unknown): string => {
  if (error instanceof TaskRpc.InvalidInput) {
    const fields = error.issues.map((issue) => `  ${TaskRpc.renderPath(issue.path)}: ${issue.message}`)
    return [`invalid input for task definition "${error.definitionId}":`, ...fields].join("\n")
  }
  if (error instanceof Error) return error.message
  return String(error)
}

/** True when stdout is a terminal and NO_COLOR is unset (https://no-color.org). */
export const colours = (): boolean => process.stdout.isTTY === true && !process.env.NO_COLOR

const paint = (code: string) => (text: string): string => (colours() ? `\u001b[${code}m${text}\u001b[0m` : text)

/** Text styles; plain text when colours are off. */
export const style = { bold: paint("1"), dim: paint("2"), red: paint("31"), green: paint("32"), yellow: paint("33"), cyan: paint("36") }

/** A task status, coloured by how it went: done green, any other final status red, the rest yellow. */
export const status = (s: string): string =>
  s === "done" ? style.green(s) : TaskMachine.isFinal(s as TaskMachine.Status) ? style.red(s) : style.yellow(s)

/** Writes a line to stdout. */
export const line = (text: string): Effect.Effect<void> => Effect.sync(() => void process.stdout.write(`${text}\n`))

/** Writes one JSON document (or one JSON Lines record) to stdout. */
export const json = (value: unknown): Effect.Effect<void> => line(JSON.stringify(value))

/** `--json` prints `value` as JSON; otherwise `human` renders it. */
export const print = <A>(value: A, human: (value: A) => Effect.Effect<void>) =>
  Effect.flatMap(Json, (asJson) => (asJson ? json(value) : human(value)))

const width = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "").length

/** The lines of a left-aligned table with a header row (nothing but the header when empty). */
export const tableLines = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): ReadonlyArray<string> => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => width(row[i] ?? ""))))
  const render = (row: ReadonlyArray<string>) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - width(cell)))).join("  ").trimEnd()
  return [style.bold(render(header)), ...rows.map(render)]
}

/** A left-aligned table with a header row (nothing but the header when empty). */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): Effect.Effect<void> =>
  Effect.suspend(() => line(tableLines(header, rows).join("\n")))

/** Bytes as a short figure (`1.2 MB`, decimal units); `-` when unknown. */
export const bytes = (n: number | undefined): string => {
  if (n === undefined) return "-"
  const units = ["B", "KB", "MB", "GB", "TB"]
  let value = n
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit += 1
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}

/** A timestamp (ms) as ISO 8601. */
export const time = (ms: number | undefined): string => (ms === undefined ? "-" : new Date(ms).toISOString())

/**
 * Runs a command program and returns the process exit code, printing a
 * failure as one sentence on stderr (the full cause with `--verbose`).
 * Parse errors were already printed by effect/cli with the command's help.
 */
export const runExit = <E>(program: Effect.Effect<void, E>, argv: ReadonlyArray<string>): Effect.Effect<number> =>
  Effect.map(Effect.exit(program), (exit) => {
    if (Exit.isSuccess(exit)) return ExitCode.ok
    if (Cause.hasInterruptsOnly(exit.cause)) return 130
    const error = Cause.squash(exit.cause)
    if (!CliError.isCliError(error)) {
      process.stderr.write(`tasklane: ${describe(error)}\n`)
      if (argv.includes("--verbose")) process.stderr.write(`${Cause.pretty(exit.cause)}\n`)
    }
    return exitCodeOf(error)
  })

/** The value of an optional flag, or undefined. */
export const opt = <A>(option: Option.Option<A>): A | undefined => Option.getOrUndefined(option)
