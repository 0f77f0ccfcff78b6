/**
 * JsonDiff: the paths that differ between two JSON values, used by the
 * History view (changes at an event, the consistency check) and by
 * `tasklane replay-test` (recorded vs replayed answers).
 */
import { describe, expect, it } from "vitest"
import * as JsonDiff from "../src/JsonDiff.ts"

describe("JsonDiff", () => {
  it("is empty for equal values, ignoring key order and undefined members", () => {
    expect(JsonDiff.diff({ a: 1, b: [1, { c: "x" }] }, { b: [1, { c: "x" }], a: 1, d: undefined })).toEqual([])
    expect(JsonDiff.equal(null, null)).toBe(true)
  })

  it("names the path of every changed, added and removed member", () => {
    const changes = JsonDiff.diff(
      { total: 3, input: { n: 1, keep: true }, items: [{ name: "a" }, 2], "odd key": 1 },
      { total: 4, input: { n: 1, extra: "x" }, items: [{ name: "b" }], "odd key": 1 },
    )
    expect(changes).toEqual([
      { path: "total", kind: "changed", before: 3, after: 4 },
      { path: "input.keep", kind: "removed", before: true },
      { path: "input.extra", kind: "added", after: "x" },
      { path: "items[0].name", kind: "changed", before: "a", after: "b" },
      { path: "items[1]", kind: "removed", before: 2 },
    ])
    expect(JsonDiff.diff({ "a b": 1 }, { "a b": 2 })[0]!.path).toBe('["a b"]')
  })

  it("compares values of different shapes at the root", () => {
    expect(JsonDiff.diff({ input: { n: 1 } }, "boom")).toEqual([{ path: "(root)", kind: "changed", before: { input: { n: 1 } }, after: "boom" }])
    expect(JsonDiff.diff(undefined, 1)).toEqual([{ path: "(root)", kind: "changed", before: undefined, after: 1 }])
  })

  it("renders `-` recorded and `+` replayed lines under the path", () => {
    expect(JsonDiff.render(JsonDiff.diff({ total: 3, gone: 1 }, { total: 4, added: [1] }))).toEqual([
      "total",
      "- 3",
      "+ 4",
      "gone",
      "- 1",
      "added",
      "+ [1]",
    ])
  })
})

describe("JsonDiff.valueAt", () => {
  it("reads back the value at every path the diff names", () => {
    const before = { a: { b: [1, { "odd key": 2 }] }, c: null }
    const after = { a: { b: [1, { "odd key": 3 }, 4] }, c: { d: true } }
    const changes = JsonDiff.diff(before, after)
    expect(changes.map((c) => c.path)).toEqual(['a.b[1]["odd key"]', "a.b[2]", "c"])
    for (const change of changes) {
      expect(JsonDiff.valueAt(before, change.path)).toEqual(change.before)
      expect(JsonDiff.valueAt(after, change.path)).toEqual(change.after)
    }
    expect(JsonDiff.valueAt(after, "(root)")).toBe(after)
    expect(JsonDiff.valueAt(after, "x.y[3]")).toBeUndefined()
    expect(() => JsonDiff.valueAt(after, "a..b")).toThrow("not a JsonDiff path")
  })
})

describe("JsonDiff on task states", () => {
  it("finds nothing between equal values, and treats undefined keys as absent", () => {
    expect(JsonDiff.diff({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2] } })).toEqual([])
    expect(JsonDiff.diff({ a: 1, gone: undefined }, { a: 1 })).toEqual([])
    expect(JsonDiff.equal({ a: 1 }, { a: 1, b: undefined })).toBe(true)
  })

  it("reports changed leaves with their paths and before/after values", () => {
    expect(JsonDiff.diff(
      { status: "running", context: { iteration: 2, progress: { completed: 1, total: 5 } } },
      { status: "continue", context: { iteration: 3, progress: { completed: 2, total: 5 } } },
    )).toEqual([
      { path: "status", kind: "changed", before: "running", after: "continue" },
      { path: "context.iteration", kind: "changed", before: 2, after: 3 },
      { path: "context.progress.completed", kind: "changed", before: 1, after: 2 },
    ])
  })

  it("reports added and removed keys and array items", () => {
    expect(JsonDiff.diff(
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
    expect(JsonDiff.diff({ input: 1 }, { input: { n: 1 } })).toEqual([{ path: "input", kind: "changed", before: 1, after: { n: 1 } }])
    expect(JsonDiff.diff(1, 2)).toEqual([{ path: "(root)", kind: "changed", before: 1, after: 2 }])
    expect(JsonDiff.diff(null, { a: 1 })).toEqual([{ path: "(root)", kind: "changed", before: null, after: { a: 1 } }])
  })
})
