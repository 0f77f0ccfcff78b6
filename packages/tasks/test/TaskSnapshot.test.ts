/**
 * The pure builders of what hooks and `listChildren` receive: the snapshot in
 * both dialects (Tasklane's `status`/`iteration`, Webiny's
 * `taskStatus`/`iterations`/`createdOn`...), the one status mapping, and the
 * parameters of `onBeforeTrigger` and the hooks after the end, which must be
 * plain data a worker thread can receive (structured-cloneable).
 */
import { describe, expect, it } from "@effect/vitest"
import { TaskDefinition } from "../src/host.ts"

const definition = { id: "reindex", title: "Reindex the catalog", maxIterations: 5, databaseLogs: true, isPrivate: false }

const state = (status: string, more: object = {}) => ({
  status,
  context: {
    taskId: "t1",
    definitionId: "reindex",
    input: { folder: "/a" },
    iteration: 2,
    createdAt: Date.UTC(2026, 11, 1),
    updatedAt: Date.UTC(2026, 11, 1, 0, 0, 5),
    ...more,
  },
})

describe("snapshotOf", () => {
  it("maps every Tasklane status to Webiny's taskStatus", () => {
    const statuses = ["triggered", "running", "continue", "done", "error", "aborted", "maxIterations"]
    const mapped = statuses.map((status) => [status, TaskDefinition.snapshotOf(state(status)).taskStatus])
    expect(Object.fromEntries(mapped)).toEqual({
      triggered: "pending",
      running: "running",
      continue: "running",
      done: "success",
      error: "failed",
      aborted: "aborted",
      maxIterations: "failed",
    })
  })

  it("carries Tasklane's fields and Webiny's names for them", () => {
    const snapshot = TaskDefinition.snapshotOf(
      state("error", { name: "nightly", parentId: "p1", output: { n: 1 }, error: { message: "boom", code: "E" }, startedAt: Date.UTC(2026, 11, 1, 0, 0, 1), finishedAt: Date.UTC(2026, 11, 1, 0, 0, 5) }),
    )
    expect(snapshot).toEqual({
      id: "t1",
      definitionId: "reindex",
      name: "nightly",
      input: { folder: "/a" },
      output: { n: 1 },
      iteration: 2,
      status: "error",
      error: { message: "boom", code: "E" },
      parentId: "p1",
      taskStatus: "failed",
      iterations: 2,
      createdOn: "2026-12-01T00:00:00.000Z",
      savedOn: "2026-12-01T00:00:05.000Z",
      startedOn: "2026-12-01T00:00:01.000Z",
      finishedOn: "2026-12-01T00:00:05.000Z",
    })
  })
})

describe("hook parameters", () => {
  it("onBeforeTrigger gets Webiny's data (name defaults to the title) beside Tasklane's fields", () => {
    const params = TaskDefinition.beforeTriggerParams({ definition, input: { folder: "/a" } })
    expect(params.data).toStrictEqual({ definitionId: "reindex", name: "Reindex the catalog", input: { folder: "/a" }, parentId: undefined })
    expect(params).toMatchObject({ input: { folder: "/a" }, definitionId: "reindex", definition: { id: "reindex", maxIterations: 5 } })
    const named = TaskDefinition.beforeTriggerParams({ definition, input: {}, name: "nightly", parentId: "p1" })
    expect(named.data).toMatchObject({ name: "nightly", parentId: "p1" })
    expect(named).toMatchObject({ name: "nightly", parentId: "p1" })
  })

  it("the hooks after the end get the task and the definition's facts", () => {
    const params = TaskDefinition.lifecycleHookParams(state("maxIterations", { iteration: 5 }), { ...definition, className: "Reindex" } as never)
    expect(params.task).toMatchObject({ status: "maxIterations", taskStatus: "failed", iterations: 5 })
    expect(params.definition).toEqual({ ...definition, description: undefined })
  })

  it("are plain data: a structured clone (what a worker thread receives) is equal", () => {
    const before = TaskDefinition.beforeTriggerParams({ definition, input: { at: "2026-12-01" }, parentId: "p1" })
    const after = TaskDefinition.lifecycleHookParams(state("done", { output: [1, 2] }), definition)
    expect(structuredClone(before)).toStrictEqual(before)
    expect(structuredClone(after)).toStrictEqual(after)
  })
})
