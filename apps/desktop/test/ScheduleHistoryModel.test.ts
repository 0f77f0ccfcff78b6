/**
 * The schedule history panel's model: every kind of record comes out as a
 * row newest first, in the words of `tasklane schedule history` (settings,
 * slot and task, skipped / queued / refused, by hand), and a long history
 * shows its newest 50 until all are asked for.
 */
import { ScheduleEvent } from "@tasklane/core/client"
import { describe, expect, it } from "vitest"
import * as ScheduleHistoryModel from "../src/renderer/ScheduleHistoryModel.ts"

const id = "s0000000001"
const settings = { cron: "0 3 * * *", input: { a: 1 }, overlap: "skip", catchUp: "one" } as const

describe("ScheduleHistoryModel", () => {
  it("turns every kind of record into a row, newest first, in the CLI's words", () => {
    const records: ReadonlyArray<ScheduleEvent.ScheduleEvent> = [
      new ScheduleEvent.ScheduleCreated({ id, at: 1, definitionId: "quick", name: "nightly", ...settings, source: "definition" }),
      new ScheduleEvent.ScheduleUpdated({ id, at: 2, ...settings, tz: "Europe/Berlin" }),
      new ScheduleEvent.ScheduleFired({ id, at: 3, slot: 30, taskId: "t1" }),
      new ScheduleEvent.ScheduleFired({ id, at: 4, slot: 40, skipped: "overlap" }),
      new ScheduleEvent.ScheduleFired({ id, at: 5, slot: 50, queued: true }),
      new ScheduleEvent.ScheduleFired({ id, at: 6, slot: 60, error: "no such definition" }),
      new ScheduleEvent.SchedulePaused({ id, at: 7 }),
      new ScheduleEvent.ScheduleTriggered({ id, at: 8, taskId: "t2" }),
      new ScheduleEvent.ScheduleResumed({ id, at: 9 }),
      new ScheduleEvent.ScheduleRemoved({ id, at: 10 }),
    ]
    expect(ScheduleHistoryModel.rows(records)).toEqual([
      { key: 9, at: 10, kind: "removed", details: "" },
      { key: 8, at: 9, kind: "resumed", details: "" },
      { key: 7, at: 8, kind: "triggered", taskId: "t2", details: "by hand" },
      { key: 6, at: 7, kind: "paused", details: "" },
      { key: 5, at: 6, kind: "fired", slot: 60, outcome: "refused", details: "refused: no such definition" },
      { key: 4, at: 5, kind: "fired", slot: 50, outcome: "queued", details: "queued" },
      { key: 3, at: 4, kind: "fired", slot: 40, outcome: "skipped", details: "skipped (overlap)" },
      { key: 2, at: 3, kind: "fired", slot: 30, taskId: "t1", outcome: "fired", details: "" },
      { key: 1, at: 2, kind: "updated", details: 'cron 0 3 * * * (Europe/Berlin); overlap skip; catch-up one; input {"a":1}' },
      {
        key: 0,
        at: 1,
        kind: "created",
        details: 'quick "nightly"; cron 0 3 * * * (UTC); overlap skip; catch-up one; input {"a":1} (declared by the definition)',
      },
    ])
  })

  it("shows the newest 50 of a long history until all are asked for", () => {
    const records = Array.from({ length: 120 }, (_, i) => new ScheduleEvent.ScheduleFired({ id, at: i, slot: i, taskId: `t${i}` }))
    const rows = ScheduleHistoryModel.rows(records)
    const first = ScheduleHistoryModel.shown(rows, false)
    expect(first).toHaveLength(ScheduleHistoryModel.shownAtFirst)
    expect(first[0]!.taskId).toBe("t119")
    expect(first.at(-1)!.taskId).toBe("t70")
    expect(ScheduleHistoryModel.shown(rows, true)).toHaveLength(120)
  })
})
