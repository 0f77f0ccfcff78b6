/**
 * `tasklane replay-test <history file | task id>`: replay as a regression
 * check for task code. The current definitions (from `--config`, default
 * ./tasklane.config.ts when present, plus the built-in examples unless
 * `--no-examples`) and the config's services layer are loaded here, in the
 * CLI process, as the daemon would load them; the history comes from an
 * exported file or, for a task id, from the daemon. Every recorded iteration
 * is run again and compared (semantics in `ReplayTest.ts`).
 *
 * Exit codes: 0 every replayed iteration matches, 1 a divergence, 2 bad usage
 * (unreadable file, unknown definition, config that does not load), 3 no
 * daemon answers for a task id.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Fs from "node:fs"
import { examples } from "../examples/index.ts"
import * as Registry from "../Registry.ts"
import * as ReplayTest from "../ReplayTest.ts"
import * as TaskLoader from "../TaskLoader.ts"
import { fetchEnvelopes, readHistoryFile, scan } from "./CommandsHistory.ts"
import * as Output from "./Output.ts"
import { opt, style, UsageError } from "./Output.ts"

/** Some replayed iterations answered differently from the recording. */
export class ReplayDiverged extends Schema.TaggedError<ReplayDiverged>()("ReplayDiverged", {
  taskId: Schema.String,
  divergences: Schema.Number,
  replayed: Schema.Number,
}) {
  override get message() {
    return `${this.divergences} of ${this.replayed} replayed iterations of ${this.taskId} diverged from the recording`
  }
}

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** A history file when `source` is a file (or looks like a path), else a task id asked of the daemon. */
const loadHistory = (source: string) =>
  Effect.gen(function*() {
    const isFile = Fs.existsSync(source) || /[\\/]|\.json$/i.test(source)
    const envelopes = isFile ? yield* readHistoryFile(source) : yield* fetchEnvelopes(source)
    const history = yield* scan(envelopes).pipe(
      Effect.mapError((e) => new UsageError({ reason: `${source} is not a valid history: ${e.message}` })),
    )
    if (history.states.length === 0) return yield* new UsageError({ reason: `${source}: the history has no events` })
    return history
  })

/** The current definitions and the config's services. */
const registry = (configPath: string | undefined, withExamples: boolean) =>
  Effect.gen(function*() {
    const loaded = yield* TaskLoader.load({ configPath, cwd: process.cwd() })
    const implementations = [...(withExamples ? examples : []), ...loaded.implementations]
    // Built in the command's scope: scoped services stay open while the iterations run.
    const context = yield* Layer.build(Registry.layer(implementations, loaded.config?.layer) as Layer.Layer<Registry.Registry, unknown>)
    return { registry: Context.get(context, Registry.Registry), configPath: loaded.configPath }
  }).pipe(Effect.mapError((e) => new UsageError({ reason: reason(e) })))

const answer = (a: ReplayTest.Answer | null) => (a === null ? "-" : a.kind)

const verdict = (r: ReplayTest.IterationReport) =>
  r.match === null ? style.dim(`skipped (${r.skipped})`) : r.match ? style.green("✓") : style.red("✗")

const human = (report: ReplayTest.Report, verbose: boolean) =>
  Effect.gen(function*() {
    yield* Output.table(
      ["ITERATION", "RECORDED", "REPLAYED", "RESULT"],
      report.iterations.map((r) => [
        r.attempt > 1 ? `${r.iteration} (attempt ${r.attempt})` : String(r.iteration),
        answer(r.recorded),
        answer(r.replayed),
        verdict(r),
      ]),
    )
    if (verbose) {
      for (const r of report.iterations.filter((r) => r.logs.length > 0)) {
        yield* Output.line(style.bold(`\niteration ${r.iteration} logs:`))
        for (const log of r.logs) yield* Output.line(`  ${log.level} ${log.message}${log.data === undefined ? "" : ` ${JSON.stringify(log.data)}`}`)
      }
    }
    for (const d of report.divergences) {
      yield* Output.line(style.bold(`\niteration ${d.iteration}${d.attempt > 1 ? ` (attempt ${d.attempt})` : ""}: - recorded, + replayed`))
      for (const text of d.diff) {
        yield* Output.line(
          text.startsWith("- ") ? style.red(`  ${text}`) : text.startsWith("+ ") ? style.green(`  ${text}`) : style.cyan(`  ${text}`),
        )
      }
    }
    const replayed = report.iterations.filter((r) => r.match !== null).length
    const skipped = report.iterations.length - replayed
    const summary = report.divergences.length === 0
      ? style.green(`${replayed} of ${replayed} replayed iterations match`)
      : style.red(`${report.divergences.length} of ${replayed} replayed iterations diverged`)
    yield* Output.line(`\n${summary}${skipped > 0 ? style.dim(` (${skipped} skipped)`) : ""}`)
  })

/** The stable `--json` document (no captured logs). */
const document = (report: ReplayTest.Report) => ({
  taskId: report.taskId,
  definitionId: report.definitionId,
  iterations: report.iterations.map(({ logs: _, ...r }) => r),
  divergences: report.divergences,
})

/** `tasklane replay-test`: run the current task code against a recorded history. */
export const replayTest = Command.make("replay-test", {
  source: Argument.String("history").pipe(Argument.withDescription("an exported history file, or a task id (asked of the daemon)")),
  config: Flag.String("config").pipe(
    Flag.optional,
    Flag.withDescription("tasklane.config.ts giving the definitions and services (default: ./tasklane.config.ts if present)"),
  ),
  noExamples: Flag.Boolean("no-examples").pipe(Flag.withDefault(false), Flag.withDescription("do not load the built-in example tasks")),
  timeout: Flag.Finite("timeout").pipe(
    Flag.optional,
    Flag.withDescription("seconds each iteration may run (default: the definition's timeout)"),
  ),
}, (options) =>
  Effect.scoped(Effect.gen(function*() {
    const timeout = opt(options.timeout)
    if (timeout !== undefined && !(timeout > 0)) return yield* new UsageError({ reason: "--timeout must be a positive number of seconds" })
    const history = yield* loadHistory(options.source)
    const definitionId = history.states.at(-1)!.context.definitionId
    const { registry: definitions, configPath } = yield* registry(opt(options.config), !options.noExamples)
    const entry = definitions.get(definitionId)
    if (entry === undefined) {
      const where = [configPath, options.noExamples ? undefined : "the built-in examples"].filter((w) => w !== undefined)
      const reason = where.length === 0
        ? `no task definition "${definitionId}" is loaded (no --config, no ./tasklane.config.ts, and --no-examples)`
        : `no task definition "${definitionId}" in ${where.join(" or ")}`
      return yield* new UsageError({ reason })
    }
    const report = yield* ReplayTest.run(entry.definition, history, { timeoutSeconds: timeout })
    if (yield* Output.Json) yield* Output.json(document(report))
    else yield* human(report, yield* Output.Verbose)
    if (report.iterations.some((r) => r.replayed?.kind === "timeout")) {
      // A run() that never settles may hold the event loop open: leave once the report is out.
      setTimeout(() => process.exit(), 500).unref()
    }
    if (report.divergences.length > 0) {
      const replayed = report.iterations.filter((r) => r.match !== null).length
      return yield* new ReplayDiverged({ taskId: report.taskId, divergences: report.divergences.length, replayed })
    }
  }))).pipe(
    Command.withDescription(
      "Run the current task code again for every recorded iteration and compare its answers with the recording (exit 1 on a divergence)",
    ),
  )
