/**
 * `tasklane trigger <definitionId> --input-lines FILE`: one task per line of
 * a JSON Lines file (`-`: stdin), sent with TriggerMany in chunks of at most
 * {@link chunkSize} lines (and at most a request's bytes). Blank lines are
 * skipped; a line that is not JSON, nests too deep or is too large is refused
 * here, the daemon refuses the rest line by line (input schema,
 * onBeforeTrigger, ...), and nothing is stored for a refused line.
 *
 * Output: a progress line on a TTY, then a summary (how many triggered, how
 * many refused, and each refused line's number and reason); `--json` prints
 * one JSON Lines record per input line instead. Exit 2 if any line was
 * refused. If a request fails as a whole (the daemon went away), the lines
 * of that chunk are reported as unconfirmed and the later ones as not sent.
 */
import { TaskRpc } from "@tasklane/core"
import { Effect, Schema } from "effect"
import * as Fs from "node:fs"
import type { TaskClient } from "../Client.ts"
import { maxInputBytes } from "./Connect.ts"
import * as Output from "./Output.ts"
import { Json, UsageError } from "./Output.ts"

/** Lines per TriggerMany request. */
export const chunkSize = 1_000


/** Some lines were refused; the summary above says which and why. */
export class LinesRefused extends Schema.TaggedError<LinesRefused>()("LinesRefused", {
  refused: Schema.Number,
  lines: Schema.Number,
}) {
  override get message() {
    return `${this.refused} of ${this.lines} line(s) refused; nothing was stored for them`
  }
}

/** What the options give every line's trigger. */
export interface Common {
  readonly definitionId: string
  readonly name?: string | undefined
  readonly delaySeconds?: number | undefined
  /** Each line's key is `<idempotencyKey>:<line number>`, so running the same file again triggers nothing twice. */
  readonly idempotencyKey?: string | undefined
}

interface Line {
  readonly line: number
  readonly input: unknown
  readonly bytes: number
}

type Result =
  | { readonly line: number; readonly taskId: string; readonly version: number; readonly existing: boolean }
  | { readonly line: number; readonly refused: { readonly _tag: string; readonly reason: string; readonly issues?: ReadonlyArray<TaskRpc.InputIssue> } }

const reasonOf = (error: TaskRpc.TriggerError | UsageError): string =>
  error instanceof TaskRpc.InvalidInput
    ? `invalid input: ${error.issues.map((issue) => `${TaskRpc.renderPath(issue.path)}: ${issue.message}`).join("; ")}`
    : error.message

const refusedResult = (line: number, error: TaskRpc.TriggerError | UsageError): Result => ({
  line,
  refused: { _tag: error._tag, reason: reasonOf(error), ...(error instanceof TaskRpc.InvalidInput ? { issues: error.issues } : {}) },
})

const readText = (file: string) =>
  Effect.try({
    try: () => Fs.readFileSync(file === "-" ? 0 : file, "utf8"),
    catch: (e) => new UsageError({ reason: `cannot read --input-lines ${file} (${e instanceof Error ? e.message : String(e)})` }),
  })

/** The file's lines: parsed inputs to send, and lines refused before sending. */
const parse = (text: string) => {
  const lines: Array<Line> = []
  const refused: Array<Result> = []
  text.split("\n").forEach((raw, i) => {
    const line = i + 1
    const source = raw.endsWith("\r") ? raw.slice(0, -1) : raw
    if (source.trim() === "") return
    const bytes = Buffer.byteLength(source)
    if (bytes > maxInputBytes) {
      const reason = `the line is ${bytes} bytes; a line may be at most ${maxInputBytes} bytes (pass large data by reference)`
      return void refused.push(refusedResult(line, new UsageError({ reason })))
    }
    let input: unknown
    try {
      input = JSON.parse(source)
    } catch (e) {
      return void refused.push(refusedResult(line, new UsageError({ reason: `not valid JSON (${e instanceof Error ? e.message : String(e)})` })))
    }
    if (TaskRpc.nestsDeeperThan(input, TaskRpc.maxInputDepth)) {
      const message = `the input is nested deeper than ${TaskRpc.maxInputDepth} levels`
      return void refused.push(refusedResult(line, new TaskRpc.InvalidInput({ definitionId: "", issues: [{ path: [], message }] })))
    }
    lines.push({ line, input, bytes })
  })
  return { lines, refused, total: lines.length + refused.length }
}

/** Consecutive lines, at most {@link chunkSize} and {@link maxInputBytes} of input per chunk. */
const chunks = (lines: ReadonlyArray<Line>): Array<Array<Line>> => {
  const out: Array<Array<Line>> = []
  let current: Array<Line> = []
  let bytes = 0
  for (const line of lines) {
    if (current.length === chunkSize || (current.length > 0 && bytes + line.bytes > maxInputBytes)) {
      out.push(current)
      current = []
      bytes = 0
    }
    current.push(line)
    bytes += line.bytes
  }
  if (current.length > 0) out.push(current)
  return out
}

const toRequest = (common: Common, line: Line): TaskRpc.TriggerRequest => ({
  definitionId: common.definitionId,
  input: line.input,
  ...(common.name === undefined ? {} : { name: common.name }),
  ...(common.delaySeconds === undefined ? {} : { delaySeconds: common.delaySeconds }),
  ...(common.idempotencyKey === undefined ? {} : { idempotencyKey: `${common.idempotencyKey}:${line.line}` }),
})

const refusedLine = (result: Result): string => ("refused" in result ? `line ${result.line}: ${result.refused.reason}` : "")

/** Reads `file`, triggers a task per line through `client`, prints the results; fails with LinesRefused if any line was refused. */
export const triggerLines = (client: TaskClient, file: string, common: Common) =>
  Effect.gen(function*() {
    const asJson = yield* Json
    const live = !asJson && process.stdout.isTTY === true
    const { lines, refused, total } = parse(yield* readText(file))
    // Nothing to send would also check nothing (not even the definition id): say so instead of "0 of 0 triggered".
    if (total === 0) return yield* new UsageError({ reason: `--input-lines ${file} has no input lines` })
    const results: Array<Result> = [...refused]
    const batches = chunks(lines)
    let sent = 0
    for (const [b, batch] of batches.entries()) {
      const answer = yield* Effect.exit(client.TriggerMany({ triggers: batch.map((line) => toRequest(common, line)) }))
      if (answer._tag === "Failure") {
        const rest = batches.slice(b + 1).flat()
        if (live) process.stdout.write("\r\u001b[2K")
        yield* report(results, total, asJson)
        yield* Effect.sync(() =>
          process.stderr.write(
            `tasklane: the request for lines ${batch[0]!.line}-${batch.at(-1)!.line} failed: they may or may not have been triggered` +
              (rest.length === 0 ? "\n" : `; lines ${rest[0]!.line}-${rest.at(-1)!.line} were not sent\n`),
          )
        )
        return yield* answer
      }
      answer.value.forEach((outcome, i) => {
        const line = batch[i]!.line
        results.push(
          outcome._tag === "Triggered"
            ? { line, taskId: outcome.taskId, version: outcome.version, existing: outcome.existing }
            : refusedResult(line, outcome.error),
        )
      })
      sent += batch.length
      if (live) process.stdout.write(`\r\u001b[2Ksent ${sent}/${lines.length} lines`)
    }
    if (live) process.stdout.write("\r\u001b[2K")
    const refusedCount = yield* report(results, total, asJson)
    if (refusedCount > 0) return yield* new LinesRefused({ refused: refusedCount, lines: total })
  })

/** Prints the results (JSON Lines in line order, or a summary with every refused line); returns how many were refused. */
const report = (results: Array<Result>, total: number, asJson: boolean) =>
  Effect.gen(function*() {
    results.sort((a, b) => a.line - b.line)
    const refused = results.filter((r) => "refused" in r)
    if (asJson) {
      for (const result of results) yield* Output.json(result)
      return refused.length
    }
    const triggered = results.length - refused.length
    const existing = results.filter((r) => "existing" in r && r.existing).length
    yield* Output.line(
      `${triggered} of ${total} line(s) triggered${existing > 0 ? ` (${existing} already existed by idempotency key)` : ""}, ${refused.length} refused`,
    )
    for (const result of refused) yield* Output.line(refusedLine(result))
    return refused.length
  })
