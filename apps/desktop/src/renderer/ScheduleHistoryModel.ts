/**
 * The schedule history panel's model (pure): a schedule's records, as
 * `ScheduleHistory` answers them (oldest first), turned into rows newest
 * first in the words of `tasklane schedule history`, and how many of them to
 * show: the newest {@link shownAtFirst} until the user asks for all.
 */
import { ScheduleEvent } from "@tasklane/core/client"

/** What a fired record did with its slot (the firings list's `data-outcome` words). */
export type Outcome = "fired" | "skipped" | "queued" | "refused"

/** One record as a row of the panel. */
export interface Row {
  /** The record's position in the schedule's history (stable while the history grows). */
  readonly key: number
  readonly at: number
  /** created, updated, paused, resumed, fired, triggered or removed. */
  readonly kind: string
  /** A fired record's slot. */
  readonly slot?: number
  /** The task a fired or triggered record started. */
  readonly taskId?: string
  readonly outcome?: Outcome
  /** The rest in words: settings, `skipped (overlap)`, `queued`, `refused: …`, `by hand`. */
  readonly details: string
}

/** How many rows the panel shows before "show all". */
export const shownAtFirst = 50

const outcomeOf = (r: ScheduleEvent.ScheduleFired): { readonly outcome: Outcome; readonly details: string } => {
  const told = ScheduleEvent.firedOutcome(r)
  return told === undefined ? { outcome: "fired", details: "" } : { outcome: told.outcome, details: told.text }
}

const rowOf = (r: ScheduleEvent.ScheduleEvent, key: number): Row => {
  const base = { key, at: r.at, kind: ScheduleEvent.kind(r) }
  switch (r._tag) {
    case "ScheduleCreated":
      return {
        ...base,
        details: `${r.definitionId}${r.name === undefined ? "" : ` "${r.name}"`}; ${ScheduleEvent.settingsText(r)}${
          r.source === "definition" ? " (declared by the definition)" : ""
        }`,
      }
    case "ScheduleUpdated":
      return { ...base, details: ScheduleEvent.settingsText(r) }
    case "ScheduleFired":
      return { ...base, slot: r.slot, ...(r.taskId === undefined ? {} : { taskId: r.taskId }), ...outcomeOf(r) }
    case "ScheduleTriggered":
      return { ...base, taskId: r.taskId, details: "by hand" }
    default:
      return { ...base, details: "" }
  }
}

/** The records (oldest first) as rows, newest first. */
export const rows = (records: ReadonlyArray<ScheduleEvent.ScheduleEvent>): ReadonlyArray<Row> => records.map(rowOf).reverse()

/** The rows to render: the newest {@link shownAtFirst}, or all of them. */
export const shown = (all: ReadonlyArray<Row>, showAll: boolean): ReadonlyArray<Row> => (showAll ? all : all.slice(0, shownAtFirst))
