import { describe, expect, it } from "vitest"
import * as HistoryModel from "../src/renderer/history/HistoryModel.ts"

const bar = (outcome: HistoryModel.Outcome): HistoryModel.Bar => ({ iteration: 1, attempt: 1, start: 0, end: 1, startAt: 0, endAt: 1, outcome, timedOut: false })

describe("HistoryModel.columnRanks (the timeline overview's pixel columns)", () => {
  it("a column covering many attempts shows the most telling outcome among them", () => {
    const bars = Array.from({ length: 1000 }, () => bar("continued"))
    bars[10] = bar("retry")
    bars[500] = bar("error")
    bars[501] = bar("interrupted")
    bars[999] = bar("done")
    // 10 columns of 100 attempts each.
    expect([...HistoryModel.columnRanks(bars, 10)]).toEqual([5, 0, 0, 0, 0, 7, 0, 0, 0, 2])
  })

  it("with more columns than attempts, each attempt spans several columns", () => {
    expect([...HistoryModel.columnRanks([bar("continued"), bar("error")], 4)]).toEqual([0, 0, 7, 7])
  })
})
