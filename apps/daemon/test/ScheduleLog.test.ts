/**
 * ScheduleLog: records fold into the current schedules; the file survives a
 * reopen, a torn last line (a crash mid-write) is cut off, and any other
 * bad line fails the open with ScheduleLogDamaged naming the line.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import * as ScheduleLog from "../src/ScheduleLog.ts"

const created = (id: string, at = 1000) =>
  new ScheduleLog.ScheduleCreated({ id, at, definitionId: "quick", cron: "* * * * *", input: { a: 1 }, overlap: "skip", catchUp: "one" })

const dirs: Array<string> = []
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), "tl-schedlog-"))
  dirs.push(dir)
  return join(dir, "schedules.jsonl")
}
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })))

describe("ScheduleLog.fold", () => {
  it("applies created, paused, resumed, fired, triggered and removed in order", () => {
    const schedules = ScheduleLog.fold([
      created("a"),
      created("b"),
      new ScheduleLog.SchedulePaused({ id: "a", at: 2000 }),
      new ScheduleLog.ScheduleFired({ id: "b", at: 3000, slot: 2940, taskId: "t1" }),
      new ScheduleLog.ScheduleFired({ id: "b", at: 3100, slot: 3000, skipped: "overlap" }),
      new ScheduleLog.ScheduleTriggered({ id: "b", at: 3200, taskId: "t2" }),
      new ScheduleLog.ScheduleRemoved({ id: "a", at: 4000 }),
      new ScheduleLog.ScheduleResumed({ id: "a", at: 5000 }),
    ])
    expect([...schedules.keys()]).toEqual(["b"])
    expect(schedules.get("b")).toEqual({
      id: "b", definitionId: "quick", cron: "* * * * *", input: { a: 1 }, overlap: "skip", catchUp: "one",
      paused: false, createdAt: 1000, lastFiredSlot: 3000, lastTaskId: "t2",
    })
  })
})

describe("ScheduleLog.fold with overlap queue", () => {
  it("holds a queued slot until a record of that slot (its release) arrives; later skipped slots keep it held", () => {
    const base = [
      created("q"),
      new ScheduleLog.ScheduleFired({ id: "q", at: 2000, slot: 2000, taskId: "t1" }),
      new ScheduleLog.ScheduleFired({ id: "q", at: 3000, slot: 3000, queued: true }),
      new ScheduleLog.ScheduleFired({ id: "q", at: 4000, slot: 4000, skipped: "overlap" }),
    ]
    const held = ScheduleLog.fold(base).get("q")!
    expect(held).toMatchObject({ queuedSlot: 3000, lastFiredSlot: 4000, lastTaskId: "t1" })
    const released = ScheduleLog.fold([...base, new ScheduleLog.ScheduleFired({ id: "q", at: 4500, slot: 3000, taskId: "t2" })]).get("q")!
    expect(released.queuedSlot).toBeUndefined()
    expect(released).toMatchObject({ lastFiredSlot: 4000, lastTaskId: "t2" })
    // A refused release ends the hold too.
    const refused = ScheduleLog.fold([...base, new ScheduleLog.ScheduleFired({ id: "q", at: 4500, slot: 3000, error: "gone" })]).get("q")!
    expect(refused.queuedSlot).toBeUndefined()
  })
})

describe("ScheduleLog.fold with declared schedules", () => {
  it("updates settings, keeping pause and cursor; only a new cron or zone sets rescheduledAt", () => {
    const declared = new ScheduleLog.ScheduleCreated({
      id: "tidy.nightly", at: 1000, definitionId: "tidy", name: "nightly", cron: "0 3 * * *", tz: "Europe/Berlin", input: {}, overlap: "skip",
      catchUp: "one", source: "definition",
    })
    const base = [declared, new ScheduleLog.SchedulePaused({ id: "tidy.nightly", at: 1500 }), new ScheduleLog.ScheduleFired({ id: "tidy.nightly", at: 1600, slot: 1600, taskId: "t1" })]
    const inputOnly = ScheduleLog.fold([
      ...base,
      new ScheduleLog.ScheduleUpdated({ id: "tidy.nightly", at: 2000, cron: "0 3 * * *", tz: "Europe/Berlin", input: { a: 2 }, overlap: "queue", catchUp: "all" }),
    ]).get("tidy.nightly")!
    expect(inputOnly).toMatchObject({ paused: true, lastFiredSlot: 1600, input: { a: 2 }, overlap: "queue", catchUp: "all", source: "definition" })
    expect(inputOnly.rescheduledAt).toBeUndefined()
    const zoneDropped = ScheduleLog.fold([
      ...base,
      new ScheduleLog.ScheduleUpdated({ id: "tidy.nightly", at: 3000, cron: "0 3 * * *", input: {}, overlap: "skip", catchUp: "one" }),
    ]).get("tidy.nightly")!
    expect(zoneDropped.tz).toBeUndefined()
    expect(zoneDropped).toMatchObject({ rescheduledAt: 3000, paused: true, name: "nightly" })
  })
})

describe("ScheduleLog.open", () => {
  it("reads back what it appended, after a reopen", () => {
    const file = tempFile()
    const first = ScheduleLog.open(file)
    first.append(created("a"))
    first.append(new ScheduleLog.SchedulePaused({ id: "a", at: 2000 }))
    first.close()
    const second = ScheduleLog.open(file)
    expect(second.records.map((r) => r._tag)).toEqual(["ScheduleCreated", "SchedulePaused"])
    expect(ScheduleLog.fold(second.records).get("a")?.paused).toBe(true)
    second.close()
  })

  it("cuts a torn last line and appends after it cleanly", () => {
    const file = tempFile()
    const log = ScheduleLog.open(file)
    log.append(created("a"))
    log.close()
    appendFileSync(file, '{"_tag":"SchedulePaused","id":"a"')
    const reopened = ScheduleLog.open(file)
    expect(reopened.records).toHaveLength(1)
    reopened.append(created("b"))
    reopened.close()
    expect(readFileSync(file, "utf8").trimEnd().split("\n")).toHaveLength(2)
    const third = ScheduleLog.open(file)
    expect([...ScheduleLog.fold(third.records).keys()]).toEqual(["a", "b"])
    third.close()
  })

  it("fails with ScheduleLogDamaged on a bad complete line", () => {
    const file = tempFile()
    writeFileSync(file, '{"_tag":"ScheduleCreated","id":"a"}\n')
    expect(() => ScheduleLog.open(file)).toThrow(/schedule log .* is damaged at line 1/)
  })
})
