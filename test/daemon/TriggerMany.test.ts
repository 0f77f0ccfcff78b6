/**
 * TriggerMany against a real daemon (real process, LevelDB in a temp dir,
 * unix socket): every item is checked as Trigger checks it and answered in
 * order; a refused item stores nothing and does not stop the others; the
 * valid ones run to done; idempotency keys hold within a batch, across
 * batches and against single Triggers; a request over the cap is refused
 * whole with TooManyTriggers.
 */
import { TaskRpc } from "@tasklane/core"
import { describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { daemonForFile } from "../support/FileDaemon.ts"
import { eventTypes, rejection, waitFor } from "../support/TaskPolling.ts"

let c: Connection

daemonForFile((file) => ({ c } = file))

const triggerMany = (triggers: ReadonlyArray<TaskRpc.TriggerRequest>) => c.call((client) => client.TriggerMany({ triggers }))
const count = async (definitionId: string) => (await c.call((client) => client.ListTasks({ definitionId, limit: 1000 }))).tasks.length

const ok = (outcome: TaskRpc.TriggerOutcome | undefined): TaskRpc.Triggered => {
  if (outcome?._tag !== "Triggered") throw new Error(`expected Triggered, got ${JSON.stringify(outcome)}`)
  return outcome
}
const refusal = (outcome: TaskRpc.TriggerOutcome | undefined) => {
  if (outcome?._tag !== "TriggerItemRefused") throw new Error(`expected TriggerItemRefused, got ${JSON.stringify(outcome)}`)
  return outcome.error
}

describe("TriggerMany", () => {
  it("answers each item in order: invalid ones refused with their reasons and nothing stored, valid ones run to done", async () => {
    const outcomes = await triggerMany([
      { definitionId: "validated", input: { name: "a", count: 2, tags: ["x", "y"] } },
      { definitionId: "validated", input: { name: "", count: 0, tags: ["x"] } },
      { definitionId: "refuser", input: { ok: false } },
      { definitionId: "no-such-definition", input: {} },
      { definitionId: "quick", input: { n: 1 }, name: "x".repeat(TaskRpc.maxNameLength + 1) },
      { definitionId: "secret", input: {} },
      { definitionId: "quick", input: { n: 2 }, name: "second" },
      { definitionId: "refuser", input: { ok: true } },
    ])
    expect(outcomes).toHaveLength(8)

    const invalid = refusal(outcomes[1])
    expect(invalid._tag).toBe("InvalidInput")
    expect((invalid as TaskRpc.InvalidInput).issues.map((issue) => issue.path)).toEqual(expect.arrayContaining([["name"], ["count"]]))
    const refused = refusal(outcomes[2])
    expect(refused._tag).toBe("TriggerRefused")
    expect(refused.message).toContain("not today")
    expect(refusal(outcomes[3])._tag).toBe("UnknownDefinition")
    expect(refusal(outcomes[4])).toMatchObject({ _tag: "InvalidRequest", field: "name" })
    expect(refusal(outcomes[5])._tag).toBe("UnknownDefinition") // private: clients may not trigger it

    const validated = await waitFor(c, ok(outcomes[0]).taskId, "done")
    expect(validated.context.output).toEqual({ total: 4 })
    const second = await waitFor(c, ok(outcomes[6]).taskId, "done")
    expect(second.context.name).toBe("second")
    expect(second.context.output).toEqual({ echoed: { n: 2 } })
    await waitFor(c, ok(outcomes[7]).taskId, "done")
    for (const i of [0, 6, 7]) {
      expect(ok(outcomes[i]).existing).toBe(false)
      expect(ok(outcomes[i]).version).toBeGreaterThanOrEqual(1)
      expect(await eventTypes(c, ok(outcomes[i]).taskId)).toContain("TaskTriggered")
    }

    // Nothing stored for the refused items: one task each of the definitions that were also refused.
    expect(await count("validated")).toBe(1)
    expect(await count("refuser")).toBe(1)
  })

  it("honours idempotency keys within a batch, across batches and against single Triggers", async () => {
    const single = await c.call((client) => client.Trigger({ definitionId: "quick", input: { via: "trigger" }, idempotencyKey: "k-single" }))
    const first = await triggerMany([
      { definitionId: "quick", input: { via: "batch 1" }, idempotencyKey: "k-batch" },
      { definitionId: "quick", input: { via: "batch 1 again" }, idempotencyKey: "k-batch" },
      { definitionId: "quick", input: { via: "batch 1" }, idempotencyKey: "k-single" },
      // A refused item does not claim its key: the next one with that key is checked on its own.
      { definitionId: "validated", input: { name: "" }, idempotencyKey: "k-retry" },
      { definitionId: "validated", input: { name: "b", count: 1, tags: ["t"] }, idempotencyKey: "k-retry" },
    ])
    const batchTask = ok(first[0])
    expect(batchTask.existing).toBe(false)
    expect(ok(first[1])).toMatchObject({ taskId: batchTask.taskId, existing: true })
    expect(ok(first[2])).toMatchObject({ taskId: single.context.taskId, existing: true })
    expect(refusal(first[3])._tag).toBe("InvalidInput")
    const retried = ok(first[4])
    expect(retried.existing).toBe(false)

    const again = await triggerMany([
      { definitionId: "quick", input: { via: "batch 2" }, idempotencyKey: "k-batch" },
      { definitionId: "validated", input: { name: "c", count: 1, tags: [] }, idempotencyKey: "k-retry" },
    ])
    expect(ok(again[0])).toMatchObject({ taskId: batchTask.taskId, existing: true })
    expect(ok(again[1])).toMatchObject({ taskId: retried.taskId, existing: true })
    const viaTrigger = await c.call((client) => client.Trigger({ definitionId: "quick", input: {}, idempotencyKey: "k-batch" }))
    expect(viaTrigger.context.taskId).toBe(batchTask.taskId)

    const done = await waitFor(c, batchTask.taskId, "done")
    expect(done.context.output).toEqual({ echoed: { via: "batch 1" } })
  })

  it("runs a batch larger than the concurrency to done, every task once", async () => {
    const outcomes = await triggerMany(Array.from({ length: 300 }, (_, i) => ({ definitionId: "serial", input: { ms: 1, i } })))
    const ids = outcomes.map((outcome) => ok(outcome).taskId)
    expect(new Set(ids).size).toBe(300)
    for (const id of ids) await waitFor(c, id, "done")
    const starts = await Promise.all(ids.slice(0, 20).map(async (id) => (await eventTypes(c, id)).filter((t) => t === "IterationStarted").length))
    expect(starts.every((n) => n === 1)).toBe(true)
  })

  it("refuses a request over the cap whole, with TooManyTriggers, and stores nothing", async () => {
    const before = await count("quick")
    const error = await rejection(triggerMany(Array.from({ length: TaskRpc.maxTriggersPerRequest + 1 }, () => ({ definitionId: "quick", input: null }))))
    expect(error).toBeInstanceOf(TaskRpc.TooManyTriggers)
    expect(error).toMatchObject({ count: TaskRpc.maxTriggersPerRequest + 1, max: TaskRpc.maxTriggersPerRequest })
    expect(await count("quick")).toBe(before)
  })
})
