/**
 * The schedules' records: what happens to a recurring schedule (created,
 * updated by its definition, paused, resumed, fired, triggered by hand,
 * removed), as Schema classes in one tagged union, the words people read
 * them in ({@link kind}, {@link settingsText}, {@link firedOutcome}: the CLI
 * and the UI say the same), and the pure fold of records into the current
 * schedules ({@link apply}, {@link fold}).
 *
 * The records are stored in the event store's schedule log
 * (`EventStore.appendSchedule` / `readSchedules`), a small log of their own
 * beside the task log: gapless sequence numbers from 1, encoded with
 * {@link ScheduleEvent} at append and decoded at read. They are never
 * pruned: a removed schedule's records stay, so its history stays readable.
 *
 * Pure: no I/O, no clock (every record carries its own `at`).
 */
import { Schema } from "effect"
import * as Schedule from "./Schedule.ts"

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

/** Every schedule record. */
export const ScheduleEvent = Schema.Union([ScheduleCreated, ScheduleUpdated, SchedulePaused, ScheduleResumed, ScheduleFired, ScheduleTriggered, ScheduleRemoved])
export type ScheduleEvent = typeof ScheduleEvent.Type

/** A record's kind as people read it: created, updated, paused, resumed, fired, triggered or removed. */
export const kind = (record: ScheduleEvent): string => record._tag.replace(/^Schedule/, "").toLowerCase()

/** A created or updated record's settings in words: `cron … (zone); overlap …; catch-up …; input {…}`. */
export const settingsText = (record: ScheduleCreated | ScheduleUpdated): string =>
  `cron ${record.cron} (${record.tz ?? "UTC"}); overlap ${record.overlap}; catch-up ${record.catchUp}; input ${JSON.stringify(record.input)}`

/** What a fired record did instead of starting a task, in words (`queued`, `skipped (overlap)`, `refused: …`); undefined if it started one. */
export const firedOutcome = (
  record: ScheduleFired,
): { readonly outcome: "queued" | "skipped" | "refused"; readonly text: string } | undefined =>
  record.queued === true
    ? { outcome: "queued", text: "queued" }
    : record.skipped !== undefined
    ? { outcome: "skipped", text: `skipped (${record.skipped})` }
    : record.error !== undefined
    ? { outcome: "refused", text: `refused: ${record.error}` }
    : undefined

/** A schedule's state from its records (the client view without `nextDue`). */
export type ScheduleState = Omit<Schedule.ScheduleInfo, "nextDue">

/** Applies one record to the schedules by id (pure; a record for an unknown or removed schedule changes nothing). */
export const apply = (schedules: ReadonlyMap<string, ScheduleState>, record: ScheduleEvent): ReadonlyMap<string, ScheduleState> => {
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
export const fold = (records: Iterable<ScheduleEvent>): ReadonlyMap<string, ScheduleState> => {
  let schedules: ReadonlyMap<string, ScheduleState> = new Map()
  for (const record of records) schedules = apply(schedules, record)
  return schedules
}
