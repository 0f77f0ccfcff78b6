/**
 * ScheduleEvent: schedule records fold into the current schedules (pure).
 */
import { describe, expect, it } from "vitest"
import * as ScheduleEvent from "../src/ScheduleEvent.ts"

const created = (id: string, at = 1000) =>
  new ScheduleEvent.ScheduleCreated({ id, at, definitionId: "quick", cron: "* * * * *", input: { a: 1 }, overlap: "skip", catchUp: "one" })

describe("ScheduleEvent.fold", () => {
  it("applies created, paused, resumed, fired, triggered and removed in order", () => {
    const schedules = ScheduleEvent.fold([
      created("a"),
      created("b"),
      new ScheduleEvent.SchedulePaused({ id: "a", at: 2000 }),
      new ScheduleEvent.ScheduleFired({ id: "b", at: 3000, slot: 2940, taskId: "t1" }),
      new ScheduleEvent.ScheduleFired({ id: "b", at: 3100, slot: 3000, skipped: "overlap" }),
      new ScheduleEvent.ScheduleTriggered({ id: "b", at: 3200, taskId: "t2" }),
      new ScheduleEvent.ScheduleRemoved({ id: "a", at: 4000 }),
      new ScheduleEvent.ScheduleResumed({ id: "a", at: 5000 }),
    ])
    expect([...schedules.keys()]).toEqual(["b"])
    expect(schedules.get("b")).toEqual({
      id: "b", definitionId: "quick", cron: "* * * * *", input: { a: 1 }, overlap: "skip", catchUp: "one",
      paused: false, createdAt: 1000, lastFiredSlot: 3000, lastTaskId: "t2",
    })
  })
})

describe("ScheduleEvent.fold with overlap queue", () => {
  it("holds a queued slot until a record of that slot (its release) arrives; later skipped slots keep it held", () => {
    const base = [
      created("q"),
      new ScheduleEvent.ScheduleFired({ id: "q", at: 2000, slot: 2000, taskId: "t1" }),
      new ScheduleEvent.ScheduleFired({ id: "q", at: 3000, slot: 3000, queued: true }),
      new ScheduleEvent.ScheduleFired({ id: "q", at: 4000, slot: 4000, skipped: "overlap" }),
    ]
    const held = ScheduleEvent.fold(base).get("q")!
    expect(held).toMatchObject({ queuedSlot: 3000, lastFiredSlot: 4000, lastTaskId: "t1" })
    const released = ScheduleEvent.fold([...base, new ScheduleEvent.ScheduleFired({ id: "q", at: 4500, slot: 3000, taskId: "t2" })]).get("q")!
    expect(released.queuedSlot).toBeUndefined()
    expect(released).toMatchObject({ lastFiredSlot: 4000, lastTaskId: "t2" })
    // A refused release ends the hold too.
    const refused = ScheduleEvent.fold([...base, new ScheduleEvent.ScheduleFired({ id: "q", at: 4500, slot: 3000, error: "gone" })]).get("q")!
    expect(refused.queuedSlot).toBeUndefined()
  })
})

describe("ScheduleEvent.fold with declared schedules", () => {
  it("updates settings, keeping pause and cursor; only a new cron or zone sets rescheduledAt", () => {
    const declared = new ScheduleEvent.ScheduleCreated({
      id: "tidy.nightly", at: 1000, definitionId: "tidy", name: "nightly", cron: "0 3 * * *", tz: "Europe/Berlin", input: {}, overlap: "skip",
      catchUp: "one", source: "definition",
    })
    const base = [declared, new ScheduleEvent.SchedulePaused({ id: "tidy.nightly", at: 1500 }), new ScheduleEvent.ScheduleFired({ id: "tidy.nightly", at: 1600, slot: 1600, taskId: "t1" })]
    const inputOnly = ScheduleEvent.fold([
      ...base,
      new ScheduleEvent.ScheduleUpdated({ id: "tidy.nightly", at: 2000, cron: "0 3 * * *", tz: "Europe/Berlin", input: { a: 2 }, overlap: "queue", catchUp: "all" }),
    ]).get("tidy.nightly")!
    expect(inputOnly).toMatchObject({ paused: true, lastFiredSlot: 1600, input: { a: 2 }, overlap: "queue", catchUp: "all", source: "definition" })
    expect(inputOnly.rescheduledAt).toBeUndefined()
    const zoneDropped = ScheduleEvent.fold([
      ...base,
      new ScheduleEvent.ScheduleUpdated({ id: "tidy.nightly", at: 3000, cron: "0 3 * * *", input: {}, overlap: "skip", catchUp: "one" }),
    ]).get("tidy.nightly")!
    expect(zoneDropped.tz).toBeUndefined()
    expect(zoneDropped).toMatchObject({ rescheduledAt: 3000, paused: true, name: "nightly" })
  })
})
