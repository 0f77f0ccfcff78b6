/**
 * Schedule: cron and zone parsing with clear problems, due slots by catch-up
 * mode, and wall-clock firing across both DST changes in Europe/Berlin.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import * as Schedule from "../src/Schedule.ts"

const ms = (iso: string) => Date.parse(iso)
const iso = (slots: ReadonlyArray<number>) => slots.map((slot) => new Date(slot).toISOString())
const cronOf = (cron: string, tz?: string) => Result.getOrThrow(Schedule.parseCron(cron, tz))

describe("Schedule.parseCron", () => {
  it("names the bad field: cron or tz", () => {
    const badCron = Schedule.parseCron("61 * * * *")
    expect(Result.isFailure(badCron) && badCron.failure.field).toBe("cron")
    expect(Result.isFailure(badCron) && badCron.failure.reason).toMatch(/not a cron expression.*between 0 and 59/)
    const badZone = Schedule.parseCron("* * * * *", "Mars/Olympus")
    expect(Result.isFailure(badZone) && badZone.failure).toEqual({ field: "tz", reason: expect.stringMatching(/"Mars\/Olympus" is not a time zone/) })
    expect(Result.isSuccess(Schedule.parseCron("*/5 * * * * *", "Europe/Berlin"))).toBe(true)
  })
})

describe("Schedule.dueSlots", () => {
  const hourly = { cron: cronOf("0 * * * *"), createdAt: ms("2026-06-01T09:30:00Z") }

  it("fires nothing before the first slot after creation, and says when that is", () => {
    const due = Schedule.dueSlots({ ...hourly, catchUp: "all" }, ms("2026-06-01T09:59:59Z"))
    expect(due.slots).toEqual([])
    expect(new Date(due.nextDue).toISOString()).toBe("2026-06-01T10:00:00.000Z")
  })

  it("fires a slot exactly at its time, once: the fired slot is the new cursor", () => {
    const at = ms("2026-06-01T10:00:00Z")
    expect(iso(Schedule.dueSlots({ ...hourly, catchUp: "none" }, at).slots)).toEqual(["2026-06-01T10:00:00.000Z"])
    const after = Schedule.dueSlots({ ...hourly, catchUp: "none", lastFiredSlot: at }, at + 500)
    expect(after.slots).toEqual([])
    expect(after.nextDue).toBe(ms("2026-06-01T11:00:00Z"))
  })

  it("catches up missed slots by mode after a daemon was down from 10:00 to 13:20", () => {
    const base = { ...hourly, lastFiredSlot: ms("2026-06-01T10:00:00Z") }
    const now = ms("2026-06-01T13:20:00Z")
    expect(iso(Schedule.dueSlots({ ...base, catchUp: "all" }, now).slots)).toEqual([
      "2026-06-01T11:00:00.000Z",
      "2026-06-01T12:00:00.000Z",
      "2026-06-01T13:00:00.000Z",
    ])
    expect(iso(Schedule.dueSlots({ ...base, catchUp: "one" }, now).slots)).toEqual(["2026-06-01T13:00:00.000Z"])
    // 20 minutes late is past the grace period: skipped; 30 seconds late still fires.
    expect(Schedule.dueSlots({ ...base, catchUp: "none" }, now).slots).toEqual([])
    expect(iso(Schedule.dueSlots({ ...base, catchUp: "none" }, ms("2026-06-01T13:00:30Z")).slots)).toEqual(["2026-06-01T13:00:00.000Z"])
    expect(Schedule.dueSlots({ ...base, catchUp: "all" }, now).nextDue).toBe(ms("2026-06-01T14:00:00Z"))
  })

  it("fires no slot from before its cron changed (rescheduledAt is a floor for the cursor)", () => {
    const base = { ...hourly, lastFiredSlot: ms("2026-06-01T10:00:00Z"), catchUp: "all" as const }
    const now = ms("2026-06-01T13:20:00Z")
    const rescheduled = Schedule.dueSlots({ ...base, rescheduledAt: ms("2026-06-01T12:30:00Z") }, now)
    expect(iso(rescheduled.slots)).toEqual(["2026-06-01T13:00:00.000Z"])
    expect(Schedule.dueSlots({ ...base, rescheduledAt: now }, now).slots).toEqual([])
  })

  it("returns at most maxCatchUpSlots for catch-up all, then the rest from the new cursor", () => {
    const everySecond = { cron: cronOf("* * * * * *"), catchUp: "all" as const, createdAt: 0 }
    const now = 5_000_000
    const first = Schedule.dueSlots(everySecond, now)
    expect(first.slots.length).toBe(Schedule.maxCatchUpSlots)
    expect(first.nextDue).toBe(now)
    const second = Schedule.dueSlots({ ...everySecond, lastFiredSlot: first.slots.at(-1)! }, now)
    expect(second.slots[0]).toBe(first.slots.at(-1)! + 1000)
  })

  describe("a daily 02:30 schedule in Europe/Berlin", () => {
    const daily = (createdAt: string) => ({ cron: cronOf("30 2 * * *", "Europe/Berlin"), catchUp: "all" as const, createdAt: ms(createdAt) })

    it("fires at 02:30 local on normal days and once, shifted past the gap, on the last Sunday of March", () => {
      const due = Schedule.dueSlots(daily("2026-03-27T12:00:00Z"), ms("2026-03-30T12:00:00Z"))
      expect(iso(due.slots)).toEqual([
        "2026-03-28T01:30:00.000Z", // 02:30 CET (+01:00)
        "2026-03-29T01:30:00.000Z", // 02:30 does not exist: 03:30 CEST (+02:00)
        "2026-03-30T00:30:00.000Z", // 02:30 CEST
      ])
    })

    it("fires once (the first 02:30) on the last Sunday of October, when 02:30 happens twice", () => {
      const due = Schedule.dueSlots(daily("2026-10-23T12:00:00Z"), ms("2026-10-26T12:00:00Z"))
      expect(iso(due.slots)).toEqual([
        "2026-10-24T00:30:00.000Z", // 02:30 CEST
        "2026-10-25T00:30:00.000Z", // the first 02:30 (+02:00); the second (01:30Z) does not fire
        "2026-10-26T01:30:00.000Z", // 02:30 CET
      ])
      // Live, minute by minute through the repeated hour: nothing new fires at the second 02:30.
      const fired = { ...daily("2026-10-23T12:00:00Z"), catchUp: "none" as const, lastFiredSlot: ms("2026-10-25T00:30:00Z") }
      expect(Schedule.dueSlots(fired, ms("2026-10-25T01:30:10Z")).slots).toEqual([])
      expect(Schedule.dueSlots(fired, ms("2026-10-25T01:30:10Z")).nextDue).toBe(ms("2026-10-26T01:30:00Z"))
    })

    it("is due at the shifted March slot when a live daemon wakes there", () => {
      const live = { ...daily("2026-03-27T12:00:00Z"), catchUp: "none" as const, lastFiredSlot: ms("2026-03-28T01:30:00Z") }
      const before = Schedule.dueSlots(live, ms("2026-03-29T00:00:00Z"))
      expect(before.slots).toEqual([])
      expect(new Date(before.nextDue).toISOString()).toBe("2026-03-29T01:30:00.000Z")
      expect(iso(Schedule.dueSlots(live, before.nextDue + 5).slots)).toEqual(["2026-03-29T01:30:00.000Z"])
    })
  })

  it("lists the next slots after now, in the schedule's zone", () => {
    expect(iso(Schedule.nextSlots(cronOf("30 2 * * *", "Europe/Berlin"), ms("2026-03-28T12:00:00Z"), 3))).toEqual([
      "2026-03-29T01:30:00.000Z",
      "2026-03-30T00:30:00.000Z",
      "2026-03-31T00:30:00.000Z",
    ])
  })

  it("derives one idempotency key per schedule and slot", () => {
    expect(Schedule.idempotencyKey("s1", ms("2026-06-01T10:00:00Z"))).toBe("schedule:s1:2026-06-01T10:00:00.000Z")
  })
})

describe("Schedule overlap", () => {
  it("fires an idle schedule's slot in every mode", () => {
    for (const overlap of ["skip", "allow", "queue"] as const) expect(Schedule.onSlotDue(overlap, false, false)).toBe("fire")
  })

  it("while the last task runs: skip skips, allow fires, queue holds the slot", () => {
    expect(Schedule.onSlotDue("skip", true, false)).toBe("skip")
    expect(Schedule.onSlotDue("allow", true, false)).toBe("fire")
    expect(Schedule.onSlotDue("queue", true, false)).toBe("queue")
  })

  it("holds at most one slot: further slots while one is held are skipped", () => {
    expect(Schedule.onSlotDue("queue", true, true)).toBe("skip")
  })

  it("releases the held slot only once the last task has finished", () => {
    expect(Schedule.releaseQueued(undefined, false)).toBeUndefined()
    expect(Schedule.releaseQueued(1000, true)).toBeUndefined()
    expect(Schedule.releaseQueued(1000, false)).toBe(1000)
  })
})
