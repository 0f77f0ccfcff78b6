import { describe, expect, it } from "vitest"
import { RecentEvents } from "../src/internal/RecentEvents.ts"
import type { RecordedEvent } from "../src/TaskEvent.ts"

const at = (position: number) => ({ position }) as RecordedEvent
const run = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => at(from + i))
const positions = (events: ReadonlyArray<RecordedEvent> | undefined) => events?.map((e) => e.position)

describe("RecentEvents", () => {
  it("holds a run of consecutive positions after the head it opened at; before it is undefined, after it []", () => {
    const recent = new RecentEvents(100, 10)
    expect(recent.end).toBe(10)
    expect(recent.from(11, 5)).toEqual([])
    expect(recent.add(run(11, 14))).toBe(true)
    expect(recent.end).toBe(14)
    expect(positions(recent.from(12, 2))).toEqual([12, 13])
    expect(positions(recent.from(13, 10))).toEqual([13, 14])
    expect(recent.from(15, 10)).toEqual([])
    expect(recent.from(10, 10)).toBeUndefined()
  })

  it("skips what it holds already and refuses a run that leaves a gap", () => {
    const recent = new RecentEvents(100, 0)
    recent.add(run(1, 3))
    expect(recent.add(run(2, 5))).toBe(true)
    expect(positions(recent.from(1, 10))).toEqual([1, 2, 3, 4, 5])
    expect(recent.add(run(7, 8))).toBe(false)
    expect(recent.end).toBe(5)
    expect(recent.add([])).toBe(true)
  })

  it("restarts after a gap (pruned positions), or empty at a head", () => {
    const recent = new RecentEvents(100, 0)
    recent.add(run(1, 3))
    recent.restart(run(7, 8), 8)
    expect(recent.end).toBe(8)
    expect(recent.from(5, 10)).toBeUndefined()
    expect(positions(recent.from(7, 10))).toEqual([7, 8])
    recent.restart([], 20)
    expect(recent.end).toBe(20)
    expect(recent.from(20, 10)).toBeUndefined()
    expect(recent.from(21, 10)).toEqual([])
  })

  it("keeps at most twice its capacity, dropping the oldest down to it", () => {
    const recent = new RecentEvents(4, 0)
    recent.add(run(1, 8))
    expect(positions(recent.from(1, 100))).toEqual(run(1, 8).map((e) => e.position))
    recent.add(run(9, 9))
    expect(recent.from(5, 100)).toBeUndefined()
    expect(positions(recent.from(6, 100))).toEqual([6, 7, 8, 9])
  })
})
