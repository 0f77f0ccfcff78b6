/**
 * Webiny's lifecycle-hook tests (webiny-js packages/tasks,
 * `__tests__/runner/taskLifecycleHooks.test.ts`), ported to the real daemon:
 * their task classes, unchanged but for the import line, run from
 * test/fixtures/webiny/tasklane.config.ts, and each hook appends what it
 * received to a log file this test reads. Webiny's assertions carry over:
 * each hook is called once, with Webiny's parameters (`params.data`,
 * `task.taskStatus`, `task.iterations`); the order is onBeforeTrigger → run →
 * onDone; onMaxIterations sees `iterations` equal to `maxIterations`; a task
 * aborted before it ran gets onAbort. The split (v6) definition runs its
 * handler with the service the config's layer provides.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Ids } from "@tasklane/core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, poll, waitFor } from "../support/TaskPolling.ts"

const config = join(import.meta.dirname, "..", "fixtures", "webiny", "tasklane.config.ts")
const logDir = mkdtempSync(join(tmpdir(), "tl-webiny-"))
const log = join(logDir, "hooks.jsonl")

let daemon: DaemonProcess
let c: Connection

beforeAll(async () => {
  daemon = await startDaemon({
    dataDir: tempDataDir(),
    args: ["--config", config, "--no-examples", "--abort-grace", "1", "--shutdown-grace", "2"],
    env: { TASKLANE_WEBINY_LOG: log },
  })
  c = await connectTo(daemon)
})

afterAll(async () => {
  await c?.close()
  if (daemon !== undefined) {
    await daemon.stop()
    removeDataDir(daemon.dataDir)
  }
  rmSync(logDir, { recursive: true, force: true })
})

interface Call {
  readonly hook: string
  readonly params: any
}

/** Every hook call recorded so far, in order. */
const calls = (): ReadonlyArray<Call> =>
  existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Call) : []

/** The calls of `hook` for task `taskId` (hooks after the end carry the task; onBeforeTrigger does not). */
const callsOf = (hook: string, taskId?: string) =>
  calls().filter((call) => call.hook === hook && (taskId === undefined || call.params.task?.id === taskId))

const trigger = (definitionId: string, input: unknown, extra: { readonly name?: string; readonly delaySeconds?: number } = {}) =>
  c.call((client) => client.Trigger({ definitionId, input, ...extra })).then((state) => state.context.taskId)

describe("Webiny's lifecycle hooks on the real daemon", () => {
  it("onBeforeTrigger is called once, with Webiny's params.data (and Tasklane's own fields beside it)", async () => {
    const taskId = await trigger("testOnBeforeTrigger", { test: "value" }, { name: "Test task" })
    await waitFor(c, taskId, "done", { settled: true })
    const [call, ...more] = callsOf("onBeforeTrigger")
    expect(more).toEqual([])
    expect(call!.params.data).toEqual({
      definitionId: "testOnBeforeTrigger",
      name: "Test task",
      input: { test: "value" },
      parentId: "<undefined>",
    })
    expect(call!.params).toMatchObject({ definitionId: "testOnBeforeTrigger", input: { test: "value" }, definition: { id: "testOnBeforeTrigger" } })
  })

  it("onDone is called once with the task as Webiny has it: taskStatus success, input, output", async () => {
    const taskId = await trigger("testOnDone", { test: "input" }, { name: "Test task" })
    await waitFor(c, taskId, "done", { settled: true })
    const [call, ...more] = await poll(async () => (callsOf("onDone", taskId).length > 0 ? callsOf("onDone", taskId) : undefined))
    expect(more).toEqual([])
    expect(call!.params.task).toMatchObject({
      id: taskId,
      definitionId: "testOnDone",
      taskStatus: "success",
      status: "done",
      input: { test: "input" },
      output: { result: "success" },
      iterations: 1,
    })
  })

  it("onError is called once with taskStatus failed; error(message, details) keeps the details' code", async () => {
    const taskId = await trigger("testOnError", { test: "input" }, { name: "Test task" })
    const failed = await waitFor(c, taskId, "error", { settled: true })
    expect(failed.context.error).toEqual({ message: "Task failed: Something went wrong", code: "TEST_ERROR" })
    const [call, ...more] = callsOf("onError", taskId)
    expect(more).toEqual([])
    expect(call!.params.task).toMatchObject({
      id: taskId,
      definitionId: "testOnError",
      taskStatus: "failed",
      input: { test: "input" },
      error: { message: "Task failed: Something went wrong", code: "TEST_ERROR" },
    })
  })

  it("onAbort is called once for a task aborted before it ran", async () => {
    const taskId = await trigger("testOnAbort", { test: "input" }, { name: "Test task", delaySeconds: 60 })
    await c.call((client) => client.Abort({ taskId: taskId as Ids.TaskId, message: "Testing abort" }))
    const aborted = await waitFor(c, taskId, "aborted", { settled: true })
    expect(aborted.context.iteration).toBe(0)
    const [call, ...more] = callsOf("onAbort", taskId)
    expect(more).toEqual([])
    expect(call!.params.task).toMatchObject({
      id: taskId,
      definitionId: "testOnAbort",
      taskStatus: "aborted",
      input: { test: "input" },
      iterations: 0,
    })
  })

  it("onMaxIterations is called once, with iterations equal to maxIterations", async () => {
    const taskId = await trigger("testOnMaxIterations", { test: "input" }, { name: "Test task" })
    await waitFor(c, taskId, "maxIterations", { settled: true })
    const [call, ...more] = callsOf("onMaxIterations", taskId)
    expect(more).toEqual([])
    expect(call!.params.task).toMatchObject({
      id: taskId,
      definitionId: "testOnMaxIterations",
      input: { test: "input" },
      iterations: 2,
      taskStatus: "failed",
    })
    expect(call!.params.definition).toMatchObject({ id: "testOnMaxIterations", maxIterations: 2 })
  })

  it("calls the hooks in Webiny's order for a successful task: onBeforeTrigger, run, onDone", async () => {
    const taskId = await trigger("testMultipleHooks", {}, { name: "Test task" })
    await waitFor(c, taskId, "done", { settled: true })
    expect(callsOf("calls").map((call) => call.params)).toEqual(["onBeforeTrigger", "run", "onDone"])
  })

  it("runs a definition split into metadata and a handler (v6), the handler built with its service", async () => {
    const taskId = await trigger("createFolder", { folder: "reports" })
    const done = await waitFor(c, taskId, "done", { settled: true })
    expect(done.context.message).toBe("Task done: /srv/reports created.")
    const definitions = await c.call((client) => client.Definitions({}))
    expect(definitions.find((d) => d.id === "createFolder")).toMatchObject({ title: "Create a folder", databaseLogs: false })
    expect(callsOf("handler.onDone").map((call) => call.params)).toEqual([{ taskStatus: "success", folder: "reports" }])
  })
})
