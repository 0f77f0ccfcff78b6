/**
 * The schedule log file of earlier versions, `<data dir>/schedules.jsonl`,
 * and its one-time import into the event store's schedule log (where
 * schedules live now: `EventStore.appendSchedule`, records in
 * `ScheduleEvent`). Edge module: file I/O at layer start only.
 *
 * The file held one Schema-encoded `ScheduleEvent` per line. {@link read}
 * reads it as that version did: a torn last line (a crash mid-write) is
 * left out; any other line that does not decode is {@link ScheduleLogDamaged}
 * (the daemon does not start, and nothing is imported).
 *
 * {@link importFile}, at every start: no file, nothing to do. If the store
 * holds no schedule record yet, every record of the file is appended in one
 * append (atomic), then the file is renamed `schedules.jsonl.imported` (kept
 * for the operator, never read again). If the store already holds schedule
 * records (a crash between the append and the rename, or a file copied back
 * by hand), the file is only renamed, with a warning: importing it again
 * would repeat its records.
 */
import * as Fs from "node:fs"
import { type EventStore, ScheduleEvent, TaskRpc } from "@tasklane/core"
import { Effect, Schema } from "effect"

/** A line of the schedule log file that is not a record (not the torn last line). */
export class ScheduleLogDamaged extends Schema.TaggedError<ScheduleLogDamaged>()("ScheduleLogDamaged", {
  file: Schema.String,
  line: Schema.Number,
  reason: Schema.String,
}) {
  override get message() {
    return `the schedule log ${this.file} is damaged at line ${this.line}: ${this.reason} (move the file away to start without its schedules)`
  }
}

const decode = Schema.decodeUnknownSync(Schema.fromJsonString(ScheduleEvent.ScheduleEvent))

/** The records of the file's text, in order; a torn last line is left out. Throws ScheduleLogDamaged. */
const parse = (file: string, text: string): ReadonlyArray<ScheduleEvent.ScheduleEvent> => {
  const complete = text.endsWith("\n") || text === "" ? text : text.slice(0, text.lastIndexOf("\n") + 1)
  return complete.split("\n").filter((line) => line !== "").map((line, index) => {
    try {
      return decode(line)
    } catch (e) {
      throw new ScheduleLogDamaged({ file, line: index + 1, reason: e instanceof Error ? e.message.split("\n")[0]! : String(e) })
    }
  })
}

/** The suffix the file gets once imported. */
export const importedSuffix = ".imported"

const daemonError = (what: string) => (e: unknown) =>
  new TaskRpc.DaemonError({ reason: `${what}: ${e instanceof Error ? e.message : String(e)}` })

/**
 * Imports `file` into the store's schedule log once (see the module header),
 * given the records the store holds; answers the records the store holds afterwards.
 */
export const importFile = (
  file: string,
  store: EventStore.EventStore["Service"],
  stored: ReadonlyArray<ScheduleEvent.ScheduleEvent>,
): Effect.Effect<ReadonlyArray<ScheduleEvent.ScheduleEvent>, ScheduleLogDamaged | TaskRpc.DaemonError> =>
  Effect.gen(function*() {
    if (!Fs.existsSync(file)) return stored
    const rename = Effect.try({ try: () => Fs.renameSync(file, file + importedSuffix), catch: daemonError(`cannot rename ${file}`) })
    if (stored.length > 0) {
      yield* rename
      yield* Effect.logWarning(
        `schedules: ${file} is from an earlier version, but the event store already holds schedules; it was not imported (again) and is renamed to ${file}${importedSuffix}`,
      )
      return stored
    }
    const text = yield* Effect.try({ try: () => Fs.readFileSync(file, "utf8"), catch: daemonError(`cannot read ${file}`) })
    const records = yield* Effect.try({
      try: () => parse(file, text),
      catch: (e) => (e instanceof ScheduleLogDamaged ? e : daemonError(`cannot read ${file}`)(e)),
    })
    yield* store.appendSchedule(records).pipe(Effect.mapError(daemonError(`cannot import ${file}`)))
    yield* rename
    yield* Effect.logInfo(`schedules: imported ${records.length} record(s) from ${file} into the event store; the file is renamed to ${file}${importedSuffix}`)
    return records
  })
