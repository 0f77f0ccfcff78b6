/**
 * The schedules' own append-only log: `<data dir>/schedules.jsonl`, one
 * Schema-encoded record per line (created, updated by its definition, paused,
 * resumed, fired, triggered by hand, removed), each written and fdatasync'd before the caller goes on.
 * Reading it back folds the records into the current schedules (pure:
 * {@link fold}).
 *
 * Why not the event store: its append folds every event through the task
 * machine and its streams are task ids with task projections, so a schedule
 * stream would need a second event union, a second fold and projection code
 * in the LevelDB layer (being changed by others at the same time). Schedules
 * are few and change rarely; a small log of their own keeps the same
 * properties that matter here (append-only, durable before acknowledged,
 * history kept, survives restarts). The firing itself is exactly-once per
 * slot through the event store: each firing is a trigger with the slot's
 * idempotency key, so a record lost in a crash only makes the slot look due
 * again, and triggering it again finds the task already stored.
 *
 * A torn last line (a crash mid-write) is cut off at open; any other line
 * that does not decode fails the open with {@link ScheduleLogDamaged}.
 */
import * as Fs from "node:fs"
import { Schedule } from "@tasklane/core"
import { Schema } from "effect"

/** A schedule was added. */
export class ScheduleCreated extends Schema.TaggedClass<ScheduleCreated>()("ScheduleCreated", {
  id: Schema.String,
  at: Schema.Number,
  definitionId: Schema.String,
  name: Schema.optional(Schema.String),
  cron: Schema.String,
  tz: Schema.optional(Schema.String),
  input: Schema.Unknown,
  overlap: Schedule.Overlap,
  catchUp: Schedule.CatchUp,
  /** Declared by its definition (absent: added by a user). */
  source: Schema.optional(Schema.Literal("definition")),
}) {}

/**
 * A declared schedule's definition changed what it declares (at a daemon start): its new settings. Its paused
 * state, cursor and held slot stay; a changed cron or zone sets `rescheduledAt`, so no slot from before fires.
 */
export class ScheduleUpdated extends Schema.TaggedClass<ScheduleUpdated>()("ScheduleUpdated", {
  id: Schema.String,
  at: Schema.Number,
  cron: Schema.String,
  tz: Schema.optional(Schema.String),
  input: Schema.Unknown,
  overlap: Schedule.Overlap,
  catchUp: Schedule.CatchUp,
}) {}

/** A schedule was paused (no slot fires while paused; missed ones follow `catchUp` on resume). */
export class SchedulePaused extends Schema.TaggedClass<SchedulePaused>()("SchedulePaused", { id: Schema.String, at: Schema.Number }) {}

/** A paused schedule was resumed. */
export class ScheduleResumed extends Schema.TaggedClass<ScheduleResumed>()("ScheduleResumed", { id: Schema.String, at: Schema.Number }) {}

/**
 * A slot was handled: it triggered `taskId`, or was skipped (`overlap`), refused (`error`) or held (`queued`,
 * `overlap: "queue"`); either way it is the new cursor. A held slot is handled again when it is released (a
 * second record for the same slot, with its task or error), which ends the hold.
 */
export class ScheduleFired extends Schema.TaggedClass<ScheduleFired>()("ScheduleFired", {
  id: Schema.String,
  at: Schema.Number,
  slot: Schema.Number,
  taskId: Schema.optional(Schema.String),
  skipped: Schema.optional(Schema.Literal("overlap")),
  error: Schema.optional(Schema.String),
  queued: Schema.optional(Schema.Literal(true)),
}) {}

/** A schedule was triggered by hand (`schedule trigger-now`): its slots are unchanged. */
export class ScheduleTriggered extends Schema.TaggedClass<ScheduleTriggered>()("ScheduleTriggered", {
  id: Schema.String,
  at: Schema.Number,
  taskId: Schema.String,
}) {}

/** A schedule was removed. */
export class ScheduleRemoved extends Schema.TaggedClass<ScheduleRemoved>()("ScheduleRemoved", { id: Schema.String, at: Schema.Number }) {}

/** Every record of the log. */
export const ScheduleRecord = Schema.Union([ScheduleCreated, ScheduleUpdated, SchedulePaused, ScheduleResumed, ScheduleFired, ScheduleTriggered, ScheduleRemoved])
export type ScheduleRecord = typeof ScheduleRecord.Type

/** A line of the schedule log that is not a record (not the torn last line). */
export class ScheduleLogDamaged extends Schema.TaggedError<ScheduleLogDamaged>()("ScheduleLogDamaged", {
  file: Schema.String,
  line: Schema.Number,
  reason: Schema.String,
}) {
  override get message() {
    return `the schedule log ${this.file} is damaged at line ${this.line}: ${this.reason} (move the file away to start without schedules)`
  }
}

/** A schedule's state from its records (the client view without `nextDue`). */
export type ScheduleState = Omit<Schedule.ScheduleInfo, "nextDue">

/** Applies one record to the schedules by id (pure; a record for an unknown or removed schedule changes nothing). */
export const apply = (schedules: ReadonlyMap<string, ScheduleState>, record: ScheduleRecord): ReadonlyMap<string, ScheduleState> => {
  const next = new Map(schedules)
  const current = schedules.get(record.id)
  switch (record._tag) {
    case "ScheduleCreated": {
      const { _tag, at, ...fields } = record
      next.set(record.id, { ...fields, paused: false, createdAt: at })
      return next
    }
    case "ScheduleRemoved":
      next.delete(record.id)
      return next
    default:
      if (current === undefined) return schedules
  }
  switch (record._tag) {
    case "ScheduleUpdated": {
      const { _tag, at, id, ...settings } = record
      const { tz, ...rest } = current
      const rescheduled = settings.cron !== current.cron || settings.tz !== current.tz
      next.set(record.id, { ...rest, ...settings, ...(rescheduled ? { rescheduledAt: at } : {}) })
      break
    }
    case "SchedulePaused":
      next.set(record.id, { ...current, paused: true })
      break
    case "ScheduleResumed":
      next.set(record.id, { ...current, paused: false })
      break
    case "ScheduleFired": {
      const { queuedSlot, ...rest } = current
      // A held slot stays held until a record of that slot without `queued` (its release) arrives.
      const held = record.queued === true ? record.slot : queuedSlot === record.slot ? undefined : queuedSlot
      next.set(record.id, {
        ...rest,
        lastFiredSlot: Math.max(record.slot, current.lastFiredSlot ?? 0),
        ...(record.taskId === undefined ? {} : { lastTaskId: record.taskId }),
        ...(held === undefined ? {} : { queuedSlot: held }),
      })
      break
    }
    case "ScheduleTriggered":
      next.set(record.id, { ...current, lastTaskId: record.taskId })
      break
  }
  return next
}

/** The schedules after every record, in order. */
export const fold = (records: Iterable<ScheduleRecord>): ReadonlyMap<string, ScheduleState> => {
  let schedules: ReadonlyMap<string, ScheduleState> = new Map()
  for (const record of records) schedules = apply(schedules, record)
  return schedules
}

const decode = Schema.decodeUnknownSync(Schema.fromJsonString(ScheduleRecord))
const encode = Schema.encodeSync(Schema.fromJsonString(ScheduleRecord))

/** An open schedule log: its records at open, and a durable append. */
export interface Opened {
  readonly records: ReadonlyArray<ScheduleRecord>
  /** Writes one record and syncs it (synchronous: schedules change rarely). */
  readonly append: (record: ScheduleRecord) => void
  readonly close: () => void
}

/** Opens (creating if missing) the log at `file`: reads every record, cuts a torn last line. Throws ScheduleLogDamaged. */
export const open = (file: string): Opened => {
  const text = Fs.existsSync(file) ? Fs.readFileSync(file, "utf8") : ""
  const complete = text.endsWith("\n") || text === "" ? text : text.slice(0, text.lastIndexOf("\n") + 1)
  if (complete.length !== text.length) Fs.truncateSync(file, Buffer.byteLength(complete))
  const records = complete.split("\n").filter((line) => line !== "").map((line, index) => {
    try {
      return decode(line)
    } catch (e) {
      throw new ScheduleLogDamaged({ file, line: index + 1, reason: e instanceof Error ? e.message.split("\n")[0]! : String(e) })
    }
  })
  const fd = Fs.openSync(file, "a", 0o600)
  return {
    records,
    append: (record) => {
      Fs.writeSync(fd, `${encode(record)}\n`)
      Fs.fdatasyncSync(fd)
    },
    close: () => Fs.closeSync(fd),
  }
}
