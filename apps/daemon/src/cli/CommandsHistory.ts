/**
 * The commands over a task's recorded events: `history` (a readable
 * timeline), `replay` (state and context after event N, folded client-side
 * by the shared `Replay` fold, from the daemon or from an exported file) and
 * `export` (a self-contained history file that `replay --file` and the
 * desktop open without a daemon).
 *
 * The history file format is `HistoryFile` in @tasklane/core.
 */
import { HistoryFile, Ids, Replay, TaskEvent, TaskRpc } from "@tasklane/core"
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Fs from "node:fs"
import { withClient } from "./Connect.ts"
import * as Output from "./Output.ts"
import { opt, style, UsageError } from "./Output.ts"

/** A task's envelopes from the daemon, as stored (plain JSON, decoded where used). */
export const fetchEnvelopes = (taskId: string) =>
  withClient((client) => client.History({ taskId: Ids.TaskId.make(taskId) })).pipe(Effect.map(TaskRpc.parseHistory))

/** Reads an exported history file (or a recorded fixture with an `events` array). */
export const readHistoryFile = (file: string) =>
  Effect.try({
    try: () => JSON.parse(Fs.readFileSync(file, "utf8")) as unknown,
    catch: (e) => new UsageError({ reason: `cannot read history file ${file} (${e instanceof Error ? e.message : String(e)})` }),
  }).pipe(
    Effect.flatMap((doc) => {
      const events = HistoryFile.envelopesOf(doc)
      return events !== undefined
        ? Effect.succeed(events)
        : Effect.fail(new UsageError({ reason: `${file} is not a Tasklane history file (no "events" array)` }))
    }),
  )

/** Decodes envelopes and folds every intermediate state (a decode or replay error fails). */
export const scan = (envelopes: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const events = yield* Effect.try({
      try: () => envelopes.map(TaskEvent.fromEnvelope),
      catch: (e) => e as TaskEvent.EventDecodeError,
    })
    const states = Replay.scan(events)
    if (states instanceof Replay.ReplayError) return yield* Effect.fail(states)
    return { events, states }
  })

const taskIdArgument = Argument.String("taskId").pipe(Argument.withDescription("the task's id"))

/** Events that end an iteration (its duration is shown on them). */
const ended: ReadonlySet<string> = new Set([...TaskEvent.outcomeTypes, "IterationInterrupted"])

/** `tasklane history`: time, event, iteration and iteration duration of every event. */
export const history = Command.make("history", { taskId: taskIdArgument }, ({ taskId }) =>
  Effect.gen(function*() {
    const envelopes = yield* fetchEnvelopes(taskId)
    const { events, states } = yield* scan(envelopes)
    let startedAt: number | undefined
    const rows = events.map((event, i) => {
      let duration: number | undefined
      if (event.event._tag === "IterationStarted") startedAt = event.at
      else if (ended.has(event.event._tag) && startedAt !== undefined) {
        duration = event.at - startedAt
        startedAt = undefined
      }
      return {
        version: event.version,
        at: event.at,
        time: new Date(event.at).toISOString(),
        event: event.event._tag,
        iteration: states[i]!.context.iteration,
        status: states[i]!.status,
        ...(duration === undefined ? {} : { durationMs: duration }),
      }
    })
    yield* Output.print(rows, (rs) =>
      Output.table(
        ["#", "TIME", "EVENT", "ITERATION", "DURATION", "STATUS"],
        rs.map((r) => [
          String(r.version),
          style.dim(r.time),
          r.event,
          String(r.iteration),
          r.durationMs === undefined ? "" : `${r.durationMs} ms`,
          Output.status(r.status),
        ]),
      ))
  })).pipe(Command.withDescription("Print a task's timeline: time, event, iteration, iteration duration"))

/** `tasklane replay`: the state after event N, folded here by the shared replay fold. */
export const replay = Command.make("replay", {
  taskId: taskIdArgument.pipe(Argument.optional),
  at: Flag.Int("at").pipe(Flag.optional, Flag.withDescription("after this many events (1-based; default: all)")),
  file: Flag.String("file").pipe(Flag.optional, Flag.withDescription("replay an exported history file instead (no daemon needed)")),
}, (options) =>
  Effect.gen(function*() {
    const taskId = opt(options.taskId)
    const file = opt(options.file)
    if ((taskId === undefined) === (file === undefined)) {
      return yield* new UsageError({ reason: "give a task id or --file FILE (one of them)" })
    }
    const envelopes = file !== undefined ? yield* readHistoryFile(file) : yield* fetchEnvelopes(taskId!)
    const { states } = yield* scan(envelopes)
    const at = opt(options.at) ?? states.length
    if (states.length === 0) return yield* new UsageError({ reason: "the history has no events" })
    if (at < 1 || at > states.length) {
      return yield* new UsageError({ reason: `--at must be between 1 and ${states.length} (the number of events)` })
    }
    const state = states[at - 1]!
    yield* Output.print(state, (s) =>
      Output.line(
        `${style.bold("after event")} ${at} of ${states.length}: ${Output.status(s.status)}\n${JSON.stringify(s.context, null, 2)}`,
      ))
  })).pipe(Command.withDescription("Show a task's machine state and context after event N, folded client-side"))

/** `tasklane export`: a self-contained history file. */
export const exportHistory = Command.make("export", {
  taskId: taskIdArgument,
  output: Flag.String("output").pipe(Flag.withAlias("o"), Flag.optional, Flag.withDescription("write to this file (default: stdout)")),
}, ({ taskId, output }) =>
  Effect.gen(function*() {
    const envelopes = yield* fetchEnvelopes(taskId)
    const { states } = yield* scan(envelopes)
    const doc: HistoryFile.HistoryFile = {
      format: HistoryFile.format,
      formatVersion: 1,
      taskId,
      definitionId: states.at(-1)?.context.definitionId ?? "",
      exportedAt: new Date().toISOString(),
      events: envelopes,
    }
    const text = `${JSON.stringify(doc, null, 2)}\n`
    const file = opt(output)
    if (file === undefined) return yield* Effect.sync(() => void process.stdout.write(text))
    yield* Effect.try({
      try: () => Fs.writeFileSync(file, text),
      catch: (e) => new UsageError({ reason: `cannot write ${file} (${e instanceof Error ? e.message : String(e)})` }),
    })
    yield* Output.print({ file, taskId, events: envelopes.length }, (r) => Output.line(`wrote ${r.events} events of ${r.taskId} to ${r.file}`))
  })).pipe(Command.withDescription("Export a task's history as a self-contained JSON file (readable by replay --file)"))
