/**
 * SIGTERM and start again on the same data directory: the daemon stops
 * within its shutdown grace and exits 0, a running iteration that did not
 * finish in time is recorded as interrupted by the shutdown and runs again
 * at the next start, and a task waiting for a delayed continue keeps its wake
 * time across the restart.
 */
import type { Replay } from "@tasklane/core"
import { Stream } from "effect"
import { afterAll, describe, expect, it, onTestFinished } from "vitest"
import { fixtureConfig } from "../support/DaemonProcess.ts"
import { getTask, history, restartable, waitFor } from "../support/TaskPolling.ts"

const args = ["--config", fixtureConfig, "--no-examples", "--abort-grace", "1", "--shutdown-grace", "1"]
const { connections, open, close } = restartable(args)

afterAll(close)

describe("SIGTERM and restart on the same data dir", () => {
  const ids = { slow: "", short: "", long: "" }
  const wakeAt = { short: 0, long: 0 }

  it("SIGTERM while an iteration runs: the daemon exits 0 within a few seconds", async () => {
    const { daemon, c } = await open()
    // Whatever happens here, the next test needs this daemon gone.
    onTestFinished(async () => void (await daemon.stop("SIGKILL")))
    const trigger = (definitionId: string, input: unknown): Promise<Replay.TaskState> =>
      c.call((client) => client.Trigger({ definitionId, input }))
    ids.slow = (await trigger("slow", { ms: 10_000 })).context.taskId
    // A 2 s delay passes while the daemon is down; a 20 s one outlasts the restart.
    ids.short = (await trigger("counter", { n: 0, target: 1, delaySeconds: 2 })).context.taskId
    ids.long = (await trigger("counter", { n: 0, target: 1, delaySeconds: 20 })).context.taskId
    await waitFor(c, ids.slow, "running")
    wakeAt.short = (await waitFor(c, ids.short, "continue")).context.wakeAt!
    wakeAt.long = (await waitFor(c, ids.long, "continue")).context.wakeAt!
    expect(wakeAt.long - Date.now()).toBeGreaterThan(15_000)

    // A client following the log (as the desktop app does) must not hold the daemon up.
    const following = c.call((client) => Stream.runDrain(client.Subscribe({ fromPosition: 1 }))).catch((error) => error)

    const stoppedAt = Date.now()
    const code = await daemon.stop("SIGTERM")
    const took = Date.now() - stoppedAt
    expect(code, daemon.output()).toBe(0)
    expect(took).toBeLessThan(5_000)
    expect(took).toBeGreaterThanOrEqual(900) // the running iteration got its 1 s grace
    expect(await following).toBeDefined() // the stream ended with the daemon (an error), it did not hang
  })

  it("a delayed continue survives the restart and starts no earlier than its wake time", async () => {
    const { c } = await open()
    // The long delay has not passed yet: recovery queued the task, it did not run it at once.
    const waiting = await getTask(c, ids.long)
    expect(waiting.status).toBe("continue")
    expect(waiting.context.wakeAt).toBe(wakeAt.long)
    for (const [id, wake] of [[ids.short, wakeAt.short], [ids.long, wakeAt.long]] as const) {
      const done = await waitFor(c, id, "done", { timeoutMs: 25_000 })
      expect(done.context.output).toEqual({ counted: 1 })
      const starts = (await history(c, id)).filter((e) => e.type === "IterationStarted")
      expect(starts.map((e) => e.data)).toEqual([{ iteration: 1, attempt: 1 }, { iteration: 2, attempt: 1 }])
      expect(starts[1]!.at).toBeGreaterThanOrEqual(wake)
    }
  }, 45_000)

  it("the next start finds IterationInterrupted{shutdown} and runs the iteration again to done", async () => {
    const c = connections.at(-1)!
    const done = await waitFor(c, ids.slow, "done", { timeoutMs: 15_000 })
    expect(done.context).toMatchObject({ output: { slept: 10_000 }, iteration: 1, attempt: 2 })
    const events = await history(c, ids.slow)
    expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "IterationInterrupted", "IterationStarted", "TaskDone"])
    expect(events[2]!.data).toEqual({ iteration: 1, reason: "shutdown" })
  })
})
