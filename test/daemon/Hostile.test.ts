/**
 * Hostile task code against the real daemon (test/fixtures/hostile): an
 * unhandled rejection, an exception thrown from a timer, a synchronous
 * infinite loop, memory exhaustion, `process.exit()`, a hook that loops
 * forever. Under `isolation: "worker"` each costs only its own task, which
 * ends `error` with a reason in words, while the daemon keeps serving other
 * tasks. Under `inline` what one process can contain is contained the same
 * way; a blocked event loop cannot be, so the watchdog stops the daemon,
 * and the restart plus the poison-task limit end the task instead.
 */
import { join } from "node:path"
import type { Replay } from "@tasklane/core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, eventTypes, getTask, history, restartable, sleep, waitFor } from "../support/TaskPolling.ts"

const config = join(import.meta.dirname, "..", "fixtures", "hostile", "tasklane.config.ts")
const args = (isolation: string) => ["--config", config, "--no-examples", "--isolation", isolation, "--abort-grace", "1", "--shutdown-grace", "1"]

const trigger = async (c: Connection, definitionId: string, input: unknown = {}): Promise<string> =>
  (await c.call((client) => client.Trigger({ definitionId, input }))).context.taskId

/** The control task still runs to done. */
const stillServes = async (c: Connection) => {
  const id = await trigger(c, "well")
  expect((await waitFor(c, id, "done")).context.output).toEqual({ fine: true })
}

const failed = async (c: Connection, taskId: string, timeoutMs = 15_000): Promise<Replay.TaskState["context"]> => {
  const state = await waitFor(c, taskId, "error", { timeoutMs })
  return state.context
}

describe.each(["worker", "inline"] as const)("isolation: %s", (isolation) => {
  const dataDir = tempDataDir()
  let daemon: DaemonProcess
  let c: Connection

  beforeAll(async () => {
    daemon = await startDaemon({ dataDir, args: args(isolation) })
    c = await connectTo(daemon)
  })
  afterAll(async () => {
    await c?.close().catch(() => undefined)
    await daemon?.stop("SIGKILL")
    removeDataDir(dataDir)
  })

  it.each([
    ["an unhandled promise rejection", "forgetsAwait", "unhandled rejection in task code: nobody awaited me"],
    ["an exception thrown from a timer", "throwsInTimer", "uncaught exception in task code: thrown from a timer"],
  ])("%s fails its iteration (uncaught), and only that", async (_, definitionId, message) => {
    const id = await trigger(c, definitionId)
    const context = await failed(c, id)
    expect(context.failureReason).toBe("uncaught")
    expect(context.error?.message).toBe(message)
    await stillServes(c)
  })

  it("process.exit() from task code ends the task, not the daemon", async () => {
    const id = await trigger(c, "exits")
    const context = await failed(c, id)
    if (isolation === "worker") {
      expect(context).toMatchObject({ failureReason: "workerDied", error: { code: "WORKER_EXITED" } })
      expect(context.error?.message).toContain("exited with code 3")
    } else {
      expect(context.failureReason).toBe("thrown")
      expect(context.error?.message).toBe("task code called process.exit(3); the daemon does not exit for a task")
    }
    expect(daemon.child.exitCode).toBeNull()
    await stillServes(c)
  })

  it.runIf(isolation === "worker")("a synchronous infinite loop is killed at its timeout while the daemon serves others", async () => {
    const id = await trigger(c, "spins")
    await waitFor(c, id, "running")
    // While the loop runs, RPCs answer and other tasks run.
    expect((await c.call((client) => client.Info())).running).toBeGreaterThanOrEqual(1)
    await stillServes(c)
    const context = await failed(c, id)
    expect(context.failureReason).toBe("timeout")
    const events = await history(c, id)
    const started = events.find((event) => event.type === "IterationStarted")!
    const ended = events.find((event) => event.type === "TaskFailed")!
    expect(ended.at - started.at).toBeGreaterThanOrEqual(2000)
    expect(ended.at - started.at).toBeLessThan(6000)
  })

  it.runIf(isolation === "worker")("a synchronous loop that polls isAborted() sees an abort", async () => {
    const id = await trigger(c, "spinsPolitely")
    await waitFor(c, id, "running")
    await sleep(200)
    await c.call((client) => client.Abort({ taskId: id as never }))
    const aborted = await waitFor(c, id, "aborted")
    const last = (await history(c, id)).findLast((event) => event.type === "TaskAborted")!
    expect(last.data).not.toHaveProperty("forced")
    expect(aborted.status).toBe("aborted")
  })

  it.runIf(isolation === "worker")("memory exhaustion kills only its worker: error{workerDied} naming the limit", async () => {
    const id = await trigger(c, "hogs")
    const context = await failed(c, id, 30_000)
    expect(context).toMatchObject({ failureReason: "workerDied", error: { code: "WORKER_OUT_OF_MEMORY" } })
    expect(context.error?.message).toBe("the worker thread ran out of memory (heap limit 64 MB)")
    await stillServes(c)
  })

  it.runIf(isolation === "worker")("a hook that loops forever fails at its timeout; the outcome stands", async () => {
    const id = await trigger(c, "hangsInHook")
    const settled = await waitFor(c, id, "done", { settled: true, timeoutMs: 15_000 })
    expect(settled.context.hookFailed).toBe(true)
    const hookFailed = (await history(c, id)).find((event) => event.type === "HookFailed")!
    expect(hookFailed.data).toMatchObject({ hook: "onDone", error: { message: "onDone ran past 2 s", code: "TIMEOUT" } })
    await stillServes(c)
  })
})

describe("inline: a blocked event loop", () => {
  const { dataDir, daemons, open, close } = restartable(args("inline"))
  afterAll(close)

  it("a loop past its timeout: the watchdog stops the daemon naming the task; after the crash limit the task ends crashedDaemon", async () => {
    const first = await open()
    const id = await trigger(first.c, "spins")
    const blocked = new RegExp(`task ${id} \\(spins\\) iteration 1 blocked the event loop for \\d+ s, past its timeout`)
    expect(await first.daemon.exited).toBe("SIGKILL")
    expect(first.daemon.output()).toMatch(blocked)
    // The restart runs the iteration again (its first crash re-run), which blocks again, perhaps before it serves.
    const second = await startDaemon({ dataDir, args: args("inline"), waitReady: false })
    expect(await second.exited).toBe("SIGKILL")
    expect(second.output()).toMatch(blocked)
    const { c } = await open()
    const context = await failed(c, id)
    expect(context).toMatchObject({ failureReason: "crashedDaemon", attempt: 2 })
    expect(await eventTypes(c, id)).toEqual([
      "TaskTriggered", "IterationStarted", "IterationInterrupted", "IterationStarted", "IterationInterrupted", "TaskFailed",
    ])
    await stillServes(c)
  }, 60_000)

  it("a hook that loops forever stops the daemon once, then is recorded failed instead of run again", async () => {
    await daemons.at(-1)?.stop()
    let { c } = await open()
    const id = await trigger(c, "hangsInHook")
    expect(await daemons.at(-1)!.exited).toBe("SIGKILL")
    ;({ c } = await open())
    const settled = await waitFor(c, id, "done", { settled: true })
    expect(settled.context.hookFailed).toBe(true)
    const hookFailed = (await history(c, id)).find((event) => event.type === "HookFailed")!
    expect(hookFailed.data).toMatchObject({ hook: "onDone", error: { code: "BLOCKED" } })
    await sleep(500)
    expect(daemons.at(-1)!.child.exitCode).toBeNull()
    await stillServes(c)
  }, 60_000)
})

describe("poison tasks and aborts across kill -9", () => {
  const { daemons, open, close } = restartable(args("worker"))
  afterAll(close)

  it("a task running at every crash ends error{crashedDaemon} after maxCrashRetries (1), its hook runs, others finish", async () => {
    let { c } = await open()
    const id = await trigger(c, "hangs")
    await waitFor(c, id, "running")
    expect(await daemons.at(-1)!.stop("SIGKILL")).toBe("SIGKILL")
    ;({ c } = await open())
    await waitFor(c, id, "running")
    expect((await getTask(c, id)).context.attempt).toBe(2)
    expect(await daemons.at(-1)!.stop("SIGKILL")).toBe("SIGKILL")
    ;({ c } = await open())
    const settled = await waitFor(c, id, "error", { settled: true })
    expect(settled.context).toMatchObject({ failureReason: "crashedDaemon", error: { code: "CRASHED_DAEMON" } })
    expect(settled.context.error?.message).toContain("iteration 1 2 times")
    expect(daemons.at(-1)!.output()).toContain("hangs: onError ran")
    await stillServes(c)
  }, 60_000)

  it("after a kill -9 while a task hangs, the restarted daemon aborts it within the grace period", async () => {
    await daemons.at(-1)?.stop()
    let { c } = await open()
    const id = await trigger(c, "hangs")
    await waitFor(c, id, "running")
    expect(await daemons.at(-1)!.stop("SIGKILL")).toBe("SIGKILL")
    ;({ c } = await open())
    await waitFor(c, id, "running")
    const askedAt = Date.now()
    await c.call((client) => client.Abort({ taskId: id as never }))
    await waitFor(c, id, "aborted", { timeoutMs: 5_000 })
    expect(Date.now() - askedAt).toBeLessThan(4_000)
    const info = await c.call((client) => client.Info())
    expect(info.running).toBe(0)
  }, 60_000)
})
