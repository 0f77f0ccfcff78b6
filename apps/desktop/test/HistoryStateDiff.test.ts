/** The History view's state diff: changed, added and removed paths with before/after values. */
import { describe, expect, it } from "vitest"
import * as StateDiff from "../src/renderer/history/StateDiff.ts"

describe("StateDiff", () => {
  it("finds nothing between equal values, and treats undefined keys as absent", () => {
    expect(StateDiff.diff({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2] } })).toEqual([])
    expect(StateDiff.diff({ a: 1, gone: undefined }, { a: 1 })).toEqual([])
    expect(StateDiff.equal({ a: 1 }, { a: 1, b: undefined })).toBe(true)
  })

  it("reports changed leaves with their paths and before/after values", () => {
    expect(StateDiff.diff(
      { status: "running", context: { iteration: 2, progress: { completed: 1, total: 5 } } },
      { status: "continue", context: { iteration: 3, progress: { completed: 2, total: 5 } } },
    )).toEqual([
      { path: "status", kind: "changed", before: "running", after: "continue" },
      { path: "context.iteration", kind: "changed", before: 2, after: 3 },
      { path: "context.progress.completed", kind: "changed", before: 1, after: 2 },
    ])
  })

  it("reports added and removed keys and array items", () => {
    expect(StateDiff.diff(
      { context: { wakeAt: 10, input: { items: [1, 2, 3] } } },
      { context: { input: { items: [1, 9] }, error: { message: "x" } } },
    )).toEqual([
      { path: "context.wakeAt", kind: "removed", before: 10 },
      { path: "context.input.items[1]", kind: "changed", before: 2, after: 9 },
      { path: "context.input.items[2]", kind: "removed", before: 3 },
      { path: "context.error", kind: "added", after: { message: "x" } },
    ])
  })

  it("reports a leaf replaced by a container (and a changed root) as one change", () => {
    expect(StateDiff.diff({ input: 1 }, { input: { n: 1 } })).toEqual([{ path: "input", kind: "changed", before: 1, after: { n: 1 } }])
    expect(StateDiff.diff(1, 2)).toEqual([{ path: "(root)", kind: "changed", before: 1, after: 2 }])
    expect(StateDiff.diff(null, { a: 1 })).toEqual([{ path: "(root)", kind: "changed", before: null, after: { a: 1 } }])
  })
})
