/**
 * The daemon killed with SIGKILL (no chance to clean up: stale pid file,
 * stale socket, an iteration half done) and started again on the same data
 * directory: the interrupted iteration is recorded as interrupted by a crash
 * and runs again, a hook that was running runs again and is recorded once,
 * every task finishes exactly once, and tasks that were triggered but not
 * started are still there.
 */
import type { Replay } from "@tasklane/core"
import { afterAll, describe, expect, it } from "vitest"
import { eventTypes, getTask, history, poll, restartable, waitFor } from "../support/TaskPolling.ts"

const finalTypes = ["TaskDone", "TaskFailed", "TaskAborted", "MaxIterationsReached"]
const { daemons, connections, open, close } = restartable()

afterAll(close)

describe("kill -9 and restart on the same data dir", () => {
  const ids = { slow: "", delayed: "", hook: "", burst: [] as Array<string>, delayedAt: 0 }

  it("is set up: an iteration runs, a hook runs, a delayed task waits, a burst was just acknowledged; then SIGKILL", async () => {
    const { daemon, c } = await open()
    try {
      const trigger = (definitionId: string, input: unknown, delaySeconds?: number): Promise<Replay.TaskState> =>
        c.call((client) => client.Trigger({ definitionId, input, ...(delaySeconds === undefined ? {} : { delaySeconds }) }))
      ids.slow = (await trigger("slow", { ms: 3000 })).context.taskId
      const delayed = await trigger("quick", { delayed: true }, 8)
      ids.delayed = delayed.context.taskId
      ids.delayedAt = delayed.context.wakeAt!
      ids.hook = (await trigger("slowHook", { ms: 3000 })).context.taskId
      await waitFor(c, ids.slow, "running")
      await poll(async () => (daemon.output().includes(`slowHook: onDone started for ${ids.hook}`) ? true : undefined))
      const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => trigger("quick", { i })))
      ids.burst = burst.map((state) => state.context.taskId)
      expect((await getTask(c, ids.delayed)).status).toBe("triggered")
    } finally {
      expect(await daemon.stop("SIGKILL")).toBe("SIGKILL")
    }
  })

  it("records IterationInterrupted{crash}, re-runs the iteration, and the task finishes once", async () => {
    const { c } = await open()
    const done = await waitFor(c, ids.slow, "done", { timeoutMs: 10_000 })
    expect(done.context).toMatchObject({ output: { slept: 3000 }, iteration: 1, attempt: 2 })
    const events = await history(c, ids.slow)
    expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "IterationInterrupted", "IterationStarted", "TaskDone"])
    expect(events[2]!.data).toEqual({ iteration: 1, reason: "crash" })
    expect(events[3]!.data).toEqual({ iteration: 1, attempt: 2 })
  })

  it("re-runs a hook whose result was not recorded, and records it once", async () => {
    const c = connections.at(-1)!
    const first = daemons[0]!.output()
    expect(first).toContain(`slowHook: onDone started for ${ids.hook}`)
    expect(first).not.toContain(`slowHook: onDone finished for ${ids.hook}`)
    const settled = await waitFor(c, ids.hook, "done", { settled: true, timeoutMs: 10_000 })
    expect(settled.context.hookFailed).toBeUndefined()
    expect(await eventTypes(c, ids.hook)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone", "HookCompleted"])
    expect(daemons[1]!.output()).toContain(`slowHook: onDone finished for ${ids.hook}`)
  })

  it("loses no triggered-but-not-started task; each finishes exactly once", async () => {
    const c = connections.at(-1)!
    const delayed = await waitFor(c, ids.delayed, "done", { timeoutMs: 15_000 })
    const started = (await history(c, ids.delayed)).find((e) => e.type === "IterationStarted")!
    expect(started.at).toBeGreaterThanOrEqual(ids.delayedAt)
    expect(delayed.context.output).toEqual({ echoed: { delayed: true } })
    for (const [i, id] of ids.burst.entries()) {
      const state = await waitFor(c, id, "done", { timeoutMs: 10_000 })
      expect(state.context.output).toEqual({ echoed: { i } })
    }
    // Let anything that would run twice do so, then check no task has two final events.
    await waitFor(c, ids.slow, "done")
    const info = await c.call((client) => client.Info())
    expect(info).toMatchObject({ running: 0, queued: 0 })
    for (const id of [ids.slow, ids.delayed, ids.hook, ...ids.burst]) {
      const types = (await history(c, id)).map((e) => e.type)
      expect(types.filter((type) => finalTypes.includes(type)), `${id}: ${types.join(", ")}`).toEqual(["TaskDone"])
    }
  })
})
