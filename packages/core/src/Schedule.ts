/**
 * Recurring schedules: what a schedule is (its Schema, shared by the daemon
 * and every client) and, purely, which of its slots are due at a given time.
 *
 * Pure core: no clock, no I/O. Cron expressions and time zones are parsed by
 * `effect/Cron` (5 fields, or 6 with seconds first); a zone's wall-clock
 * times are what a schedule in that zone follows. At a DST change a wall
 * time that does not exist (02:30 on the last Sunday of March in Berlin)
 * is shifted forward by the gap (it fires at 03:30 local); a wall time that
 * happens twice (02:30 on the last Sunday of October) fires once, at its
 * first occurrence (effect's default `onDstOverlap: "earlier"`).
 *
 * Slots and catch-up: a schedule's cursor is its last fired slot (else its
 * creation time), or the time its cron or zone changed if that is later;
 * the slots after the cursor and at or before `now` are the missed ones. `catchUp` decides which of them fire:
 * - `all`: every one, oldest first (at most {@link maxCatchUpSlots} per call;
 *   the rest on the next call, since the cursor advances),
 * - `one`: only the latest,
 * - `none`: only the latest, and only if it is at most `graceMillis` old
 *   (a running daemon wakes a little after each slot; a daemon that was down
 *   for longer skips what it missed).
 *
 * Overlap: a slot that comes due while the task of the schedule's previous
 * firing is unfinished is, by `overlap`, skipped (`skip`), fired alongside
 * (`allow`), or held (`queue`): at most one slot per schedule is held, and
 * it fires as soon as that task finishes; slots that come due while one is
 * held are skipped. {@link onSlotDue} and {@link releaseQueued} decide this.
 */
import { Cron, DateTime, Result, Schema } from "effect"
import { Status } from "./TaskMachine.ts"

/** What a slot does while the schedule's previous task has not finished: `skip` it, `allow` it to run alongside, or `queue` it (see the module header). */
export const Overlap = Schema.Literals(["skip", "allow", "queue"])
export type Overlap = typeof Overlap.Type

/** Which missed slots fire (see the module header). */
export const CatchUp = Schema.Literals(["none", "one", "all"])
export type CatchUp = typeof CatchUp.Type

/** Most slots one {@link dueSlots} call returns for `catchUp: "all"`. */
export const maxCatchUpSlots = 1000

/** Default age (ms) under which the latest slot still fires with `catchUp: "none"`. */
export const defaultGraceMillis = 60_000

/**
 * One handling of a schedule, as `ScheduleList` reports it: a slot that
 * `fired` (its task and that task's current status), was `skipped` by
 * overlap, `queued` (held by `overlap: "queue"`) or `refused` (the trigger
 * failed: `error`), or a `manual` trigger-now (no slot).
 */
export class Firing extends Schema.Class<Firing>("ScheduleFiring")({
  at: Schema.Number,
  outcome: Schema.Literals(["fired", "skipped", "queued", "refused", "manual"]),
  slot: Schema.optional(Schema.Number),
  taskId: Schema.optional(Schema.String),
  /** The task's status when listed (absent: no task, or the task was deleted). */
  status: Schema.optional(Status),
  error: Schema.optional(Schema.String),
}) {}

/** How many next runs and latest firings `ScheduleList` reports per schedule. */
export const listedNextRuns = 3
export const listedFirings = 5

/** A schedule as stored and as clients see it. */
export class ScheduleInfo extends Schema.Class<ScheduleInfo>("ScheduleInfo")({
  id: Schema.String,
  definitionId: Schema.String,
  name: Schema.optional(Schema.String),
  cron: Schema.String,
  /** IANA zone (or offset) whose wall-clock times the cron follows; absent: UTC. */
  tz: Schema.optional(Schema.String),
  input: Schema.Unknown,
  overlap: Overlap,
  catchUp: CatchUp,
  paused: Schema.Boolean,
  createdAt: Schema.Number,
  /** The latest slot (ms) that fired or was skipped by overlap. */
  lastFiredSlot: Schema.optional(Schema.Number),
  /** The task the latest firing triggered. */
  lastTaskId: Schema.optional(Schema.String),
  /** A slot (ms) held by `overlap: "queue"` until the last task finishes. */
  queuedSlot: Schema.optional(Schema.Number),
  /** Added by a user (`schedule add`) or declared by its definition's `schedules`; the daemon always sets it. */
  source: Schema.optional(Schema.Literals(["user", "definition"])),
  /** When its cron or zone last changed (a declared schedule's definition changed it): no slot before this fires. */
  rescheduledAt: Schema.optional(Schema.Number),
  /** When the next slot is due (ms; absent while paused). */
  nextDue: Schema.optional(Schema.Number),
  /** The next slots (ms, up to {@link listedNextRuns}; `ScheduleList` only, absent while paused). */
  nextRuns: Schema.optional(Schema.Array(Schema.Number)),
  /** The latest firings, newest first (up to {@link listedFirings}; `ScheduleList` only). */
  recentFirings: Schema.optional(Schema.Array(Firing)),
}) {}

/** No schedule with this id. */
export class UnknownSchedule extends Schema.TaggedError<UnknownSchedule>()("UnknownSchedule", {
  scheduleId: Schema.String,
}) {
  override get message() {
    return `no schedule with id "${this.scheduleId}"`
  }
}

/** Why a cron expression or time zone was refused: the field (`cron` or `tz`) and a readable reason. */
export interface CronProblem {
  readonly field: "cron" | "tz"
  readonly reason: string
}

/** Parses a cron expression in a zone (UTC when absent); a bad zone or expression is a {@link CronProblem}. */
export const parseCron = (cron: string, tz?: string): Result.Result<Cron.Cron, CronProblem> => {
  if (tz !== undefined && DateTime.zoneFromString(tz)._tag === "None") {
    return Result.fail({ field: "tz", reason: `"${tz}" is not a time zone (use an IANA name like Europe/Berlin, or an offset like +02:00)` })
  }
  const parsed = Cron.parse(cron, tz ?? "UTC")
  return Result.isFailure(parsed)
    ? Result.fail({
      field: "cron",
      reason: `"${cron}" is not a cron expression (${parsed.failure.message}); use 5 fields (minute hour day month weekday) or 6 with seconds first`,
    })
    : Result.succeed(parsed.success)
}

/** What {@link dueSlots} needs of a schedule. */
export interface SlotState {
  readonly cron: Cron.Cron
  readonly catchUp: CatchUp
  readonly createdAt: number
  readonly lastFiredSlot?: number | undefined
  readonly rescheduledAt?: number | undefined
}

/** The slots to fire now (ms, oldest first) and when the next slot after `now` is due. */
export interface Due {
  readonly slots: ReadonlyArray<number>
  readonly nextDue: number
}

/** The slots of `schedule` due at `now` by its catch-up mode, and the next slot after `now`. */
export const dueSlots = (schedule: SlotState, now: number, graceMillis: number = defaultGraceMillis): Due => {
  const cursor = Math.max(schedule.lastFiredSlot ?? schedule.createdAt, schedule.rescheduledAt ?? Number.NEGATIVE_INFINITY)
  const nextDue = Cron.next(schedule.cron, now).getTime()
  // `prev` is strict, so ask from just after `now` to include a slot at `now` itself.
  const latest = Cron.prev(schedule.cron, now + 1).getTime()
  if (latest <= cursor) return { slots: [], nextDue }
  switch (schedule.catchUp) {
    case "none":
      return { slots: now - latest <= graceMillis ? [latest] : [], nextDue }
    case "one":
      return { slots: [latest], nextDue }
    case "all": {
      const slots: Array<number> = []
      for (let slot = Cron.next(schedule.cron, cursor).getTime(); slot <= now && slots.length < maxCatchUpSlots;) {
        slots.push(slot)
        slot = Cron.next(schedule.cron, slot).getTime()
      }
      return { slots, nextDue: slots.length === maxCatchUpSlots ? now : nextDue }
    }
  }
}

/** The idempotency key of a schedule's firing at `slot`: the same slot never triggers twice. */
export const idempotencyKey = (scheduleId: string, slot: number): string => `schedule:${scheduleId}:${new Date(slot).toISOString()}`

/** What to do with a slot that came due: trigger it, record it as skipped, or hold it until the last task finishes. */
export type SlotDecision = "fire" | "skip" | "queue"

/**
 * The decision for a due slot, given the schedule's overlap mode, whether the
 * task of its last firing is still unfinished, and whether a slot is already
 * held: a busy schedule skips (`skip`), fires anyway (`allow`), or holds the
 * slot (`queue`) unless one is held already, in which case it skips. (A held
 * slot is released, by {@link releaseQueued}, before newer slots are decided.)
 */
export const onSlotDue = (overlap: Overlap, busy: boolean, queued: boolean): SlotDecision => {
  if (overlap === "queue" && queued) return "skip"
  if (!busy || overlap === "allow") return "fire"
  return overlap === "queue" ? "queue" : "skip"
}

/** The held slot to fire now: the queued slot once the last task has finished (else nothing). */
export const releaseQueued = (queuedSlot: number | undefined, busy: boolean): number | undefined => busy ? undefined : queuedSlot

/** The first `count` slots of `cron` after `now` (ms, ascending). */
export const nextSlots = (cron: Cron.Cron, now: number, count: number): ReadonlyArray<number> => {
  const slots: Array<number> = []
  for (let at = now; slots.length < count;) {
    at = Cron.next(cron, at).getTime()
    slots.push(at)
  }
  return slots
}
