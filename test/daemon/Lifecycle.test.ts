/**
 * Every row of DESIGN section 4's lifecycle table, against the real daemon
 * process (test/fixtures/daemon/tasklane.config.ts) on a temp data dir,
 * driven through the typed client: what a user sees in the task's status,
 * its recorded history, its output and its error fields.
 *
 * One daemon serves the whole file. The refused-trigger cases run first and
 * alone (they assert that nothing at all was stored, so no other writer may
 * be active); the rest run concurrently, each on its own tasks.
 */
import type { Ids, Replay, TaskEvent } from "@tasklane/core"
import { TaskRpc } from "@tasklane/core"
import { Effect, Fiber, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { type DaemonProcess, fixtureConfig, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, eventTypes, getTask, history, poll, rejection, sleep, waitFor } from "../support/TaskPolling.ts"

let daemon: DaemonProcess
let c: Connection

beforeAll(async () => {
  daemon = await startDaemon({
    dataDir: tempDataDir(),
    // Enough slots that the concurrent cases below never queue behind each other.
    args: ["--config", fixtureConfig, "--no-examples", "--concurrency", "32", "--abort-grace", "1", "--shutdown-grace", "2"],
  })
  c = await connectTo(daemon)
})

afterAll(async () => {
  await c?.close()
  if (daemon !== undefined) {
    const code = await daemon.stop()
    removeDataDir(daemon.dataDir)
    expect(code, "exit code after SIGTERM").toBe(0)
  }
})

const asId = (id: string) => id as Ids.TaskId

type TriggerOptions = { readonly name?: string; readonly delaySeconds?: number; readonly idempotencyKey?: string }
const trigger = (definitionId: string, input: unknown, options: TriggerOptions = {}): Promise<Replay.TaskState> =>
  c.call((client) => client.Trigger({ definitionId, input, ...options }))

/** Triggers and returns the task id. */
const start = async (definitionId: string, input: unknown, options: TriggerOptions = {}): Promise<string> =>
  (await trigger(definitionId, input, options)).context.taskId

const dataOf = <T = Record<string, unknown>>(events: ReadonlyArray<TaskEvent.EventEnvelope>, type: string): Array<T> =>
  events.filter((event) => event.type === type).map((event) => event.data as T)

const storedSoFar = async () => {
  const info = await c.call((client) => client.Info())
  const page = await c.call((client) => client.ListTasks({ limit: 1000 }))
  return { head: info.head, tasks: page.tasks.length }
}

describe("refused triggers store nothing", () => {
  it("invalid input lists every field path and message; no task, no event", async () => {
    const before = await storedSoFar()
    const error = await rejection(trigger("validated", { name: "", count: 20.5, tags: ["ok", 7] }))
    expect(error).toBeInstanceOf(TaskRpc.InvalidInput)
    expect(error).toMatchObject({ _tag: "InvalidInput", definitionId: "validated" })
    const issues = (error as TaskRpc.InvalidInput).issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }))
    expect(issues).toEqual([
      { path: "name", message: "Expected a value with a length of at least 1" },
      { path: "count", message: "Expected an integer" },
      { path: "count", message: "Expected a value between 1 and 10" },
      { path: "tags.1", message: "Expected string" },
    ])
    expect(error.message).toContain("name: Expected a value with a length of at least 1")

    const missing = await rejection(trigger("validated", {}))
    expect(missing).toBeInstanceOf(TaskRpc.InvalidInput)
    expect((missing as TaskRpc.InvalidInput).issues.map((issue) => issue.path.join("."))).toEqual(["name", "count", "tags"])
    for (const issue of (missing as TaskRpc.InvalidInput).issues) expect(issue.message).toMatch(/missing/i)

    const notAnObject = await rejection(trigger("validated", "just a string"))
    expect((notAnObject as TaskRpc.InvalidInput).issues).toEqual([{ path: [], message: expect.stringMatching(/object/i) }])

    expect(await storedSoFar()).toEqual(before)
    const listed = await c.call((client) => client.ListTasks({ definitionId: "validated" }))
    expect(listed.tasks).toEqual([])
  })

  it("ValidateInput checks input with the definition's schema and stores nothing (refuser's onBeforeTrigger is not run)", async () => {
    const before = await storedSoFar()
    const error = await rejection(c.call((client) => client.ValidateInput({ definitionId: "validated", input: { name: "", count: 3, tags: [] } })))
    expect(error).toBeInstanceOf(TaskRpc.InvalidInput)
    expect((error as TaskRpc.InvalidInput).issues).toEqual([{ path: ["name"], message: "Expected a value with a length of at least 1" }])
    await expect(c.call((client) => client.ValidateInput({ definitionId: "validated", input: { name: "n", count: 3, tags: ["a"] } }))).resolves.toBeUndefined()
    await expect(c.call((client) => client.ValidateInput({ definitionId: "refuser", input: { ok: false } }))).resolves.toBeUndefined()
    for (const definitionId of ["noSuchTask", "secret"]) {
      expect(await rejection(c.call((client) => client.ValidateInput({ definitionId, input: {} })))).toBeInstanceOf(TaskRpc.UnknownDefinition)
    }
    expect(await storedSoFar()).toEqual(before)
  })

  it("onBeforeTrigger throwing is TriggerRefused with its reason; no task, no event", async () => {
    const before = await storedSoFar()
    const error = await rejection(trigger("refuser", { ok: false }))
    expect(error).toBeInstanceOf(TaskRpc.TriggerRefused)
    expect(error).toMatchObject({ _tag: "TriggerRefused", definitionId: "refuser", reason: "not today" })
    expect(await storedSoFar()).toEqual(before)
    expect((await c.call((client) => client.ListTasks({ definitionId: "refuser" }))).tasks).toEqual([])
  })

  it("an unknown or private definition is UnknownDefinition; no task, no event", async () => {
    const before = await storedSoFar()
    for (const definitionId of ["noSuchTask", "secret"]) {
      const error = await rejection(trigger(definitionId, {}))
      expect(error).toBeInstanceOf(TaskRpc.UnknownDefinition)
      expect(error).toMatchObject({ _tag: "UnknownDefinition", definitionId })
    }
    expect(await storedSoFar()).toEqual(before)
  })
})

describe.concurrent("lifecycle", () => {
  it("a trigger records the task it was forked from, and ListTasks finds a task's forks", async () => {
    const original = await start("quick", { a: 1 }, { name: "original" })
    const fork = await c.call((client) => client.Trigger({ definitionId: "quick", input: { a: 2 }, forkedFrom: { taskId: asId(original), iteration: 1 } }))
    expect(fork.context.forkedFrom).toEqual({ taskId: original, iteration: 1 })
    const forks = await c.call((client) => client.ListTasks({ definitionId: "quick", forkedFrom: asId(original) }))
    expect(forks.tasks.map((task) => task.context.taskId)).toEqual([fork.context.taskId])
    const missing = await rejection(c.call((client) => client.Trigger({ definitionId: "quick", input: {}, forkedFrom: { taskId: asId("nope"), iteration: 1 } })))
    expect(missing).toBeInstanceOf(TaskRpc.UnknownTask)
  })

  it("ListTasks search matches a substring of name, id or definition id, case-insensitively, with the other filters", async () => {
    const marker = `Needle${Date.now()}`
    const named = await start("quick", { a: 1 }, { name: `batch ${marker} one` })
    await start("quick", { a: 2 }, { name: "unrelated" })
    const byName = await c.call((client) => client.ListTasks({ search: marker.toLowerCase() }))
    expect(byName.tasks.map((task) => task.context.taskId)).toEqual([named])
    const byId = await c.call((client) => client.ListTasks({ search: named.slice(-12).toUpperCase(), definitionId: "quick" }))
    expect(byId.tasks.map((task) => task.context.taskId)).toEqual([named])
    expect((await c.call((client) => client.ListTasks({ search: marker, definitionId: "counter" }))).tasks).toEqual([])
  })

  it("trigger accepted → triggered, then one iteration → done with the output", async () => {
    const triggered = await trigger("quick", { a: 1 }, { name: "first" })
    expect(triggered.status).toBe("triggered")
    expect(triggered.context).toMatchObject({ definitionId: "quick", name: "first", input: { a: 1 }, version: 1, iteration: 0 })
    const id = triggered.context.taskId
    const done = await waitFor(c, id, "done")
    expect(done.context.output).toEqual({ echoed: { a: 1 } })
    const events = await history(c, id)
    expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone"])
    expect(events[0]!.data).toMatchObject({ taskId: id, definitionId: "quick", name: "first", input: { a: 1 } })
    expect(events[1]!.data).toEqual({ iteration: 1, attempt: 1 })
    expect(events.map((e) => e.version)).toEqual([1, 2, 3])
  })

  it("valid input for a schema'd definition is accepted and used", async () => {
    const id = await start("validated", { name: "x", count: 3, tags: ["a", "b"] })
    expect((await waitFor(c, id, "done")).context.output).toEqual({ total: 6 })
  })

  it("onBeforeTrigger passing lets the trigger through", async () => {
    const id = await start("refuser", { ok: true })
    await waitFor(c, id, "done")
    expect(await eventTypes(c, id)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone"])
  })

  it("iteration starts → running, IterationStarted{iteration 1, attempt 1}", async () => {
    const id = await start("slow", { ms: 1500 })
    const running = await waitFor(c, id, "running")
    expect(running.context).toMatchObject({ iteration: 1, attempt: 1 })
    expect(running.context.startedAt).toBeTypeOf("number")
    expect(dataOf(await history(c, id), "IterationStarted")).toEqual([{ iteration: 1, attempt: 1 }])
    expect((await waitFor(c, id, "done")).context.output).toEqual({ slept: 1500 })
  })

  it("continue below maxIterations → IterationContinued with the next input, then done", async () => {
    const id = await start("counter", { n: 0, target: 2 })
    const done = await waitFor(c, id, "done")
    expect(done.context).toMatchObject({ output: { counted: 2 }, iteration: 3, input: { n: 2, target: 2 } })
    const events = await history(c, id)
    expect(dataOf(events, "IterationContinued")).toEqual([{ input: { n: 1, target: 2 } }, { input: { n: 2, target: 2 } }])
    expect(dataOf(events, "IterationStarted").map((d) => d["iteration"])).toEqual([1, 2, 3])
    expect(events.at(-1)!.type).toBe("TaskDone")
  })

  it("continue at maxIterations → maxIterations, onMaxIterations runs and is recorded", async () => {
    const id = await start("maxed", { x: 1 })
    const final = await waitFor(c, id, "maxIterations", { settled: true })
    expect(final.context).toMatchObject({ iteration: 3, maxIterations: 3 })
    expect(await eventTypes(c, id)).toEqual([
      "TaskTriggered",
      "IterationStarted", "IterationContinued",
      "IterationStarted", "IterationContinued",
      "IterationStarted", "MaxIterationsReached",
      "HookCompleted",
    ])
    expect(dataOf(await history(c, id), "HookCompleted")).toEqual([{ hook: "onMaxIterations" }])
    expect(daemon.output()).toContain("maxed: onMaxIterations ran")
  })

  it("done → TaskDone{output, message}, onDone runs → HookCompleted", async () => {
    const id = await start("hooked", { answer: "done" })
    const done = await waitFor(c, id, "done", { settled: true })
    expect(done.context).toMatchObject({ output: { answered: "done" }, message: "all good" })
    const events = await history(c, id)
    expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone", "HookCompleted"])
    expect(dataOf(events, "TaskDone")).toEqual([{ output: { answered: "done" }, message: "all good" }])
    expect(dataOf(events, "HookCompleted")).toEqual([{ hook: "onDone" }])
    await poll(async () => (daemon.output().includes(`hooked: onDone ran for ${id}`) ? true : undefined))
  })

  it("error answer → TaskFailed{reason error} with message and code", async () => {
    const id = await start("failer", {})
    const failed = await waitFor(c, id, "error")
    expect(failed.context.failureReason).toBe("error")
    expect(failed.context.error).toMatchObject({ message: "bad things", code: "E_BAD" })
    const events = await history(c, id)
    expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "TaskFailed"])
    expect(events.at(-1)!.data).toMatchObject({ reason: "error", error: { message: "bad things", code: "E_BAD" } })
  })

  it("error answer with an onError hook → TaskFailed then HookCompleted{onError}", async () => {
    const id = await start("hooked", { answer: "error" })
    const failed = await waitFor(c, id, "error", { settled: true })
    expect(failed.context.error?.message).toBe("as asked")
    expect(await eventTypes(c, id)).toEqual(["TaskTriggered", "IterationStarted", "TaskFailed", "HookCompleted"])
    expect(dataOf(await history(c, id), "HookCompleted")).toEqual([{ hook: "onError" }])
  })

  it("run throws → TaskFailed{reason thrown} with the thrown message", async () => {
    const id = await start("thrower", {})
    const failed = await waitFor(c, id, "error")
    expect(failed.context.failureReason).toBe("thrown")
    expect(failed.context.error?.message).toBe("kaboom")
    expect(dataOf(await history(c, id), "TaskFailed")).toMatchObject([{ reason: "thrown", error: { message: "kaboom" } }])
  })

  for (const definitionId of ["hanger", "hangerEffect"]) {
    it(`hard timeout of ${definitionId === "hanger" ? "a Promise" : "an Effect"} run → TaskFailed{reason timeout}`, async () => {
      const id = await start(definitionId, {})
      const failed = await waitFor(c, id, "error", { timeoutMs: 8_000 })
      expect(failed.context.failureReason).toBe("timeout")
      expect(failed.context.error?.message).toContain("1 s timeout")
      const events = await history(c, id)
      expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "TaskFailed"])
      const started = events.find((e) => e.type === "IterationStarted")!
      const ended = events.find((e) => e.type === "TaskFailed")!
      expect(ended.at - started.at).toBeGreaterThanOrEqual(950)
      expect(ended.at - started.at).toBeLessThan(5_000)
    })
  }

  it("retry policy → RetryScheduled twice, the same iteration re-runs, then done on attempt 3", async () => {
    const id = await start("retrying", { key: `retry-${Date.now()}` })
    const done = await waitFor(c, id, "done")
    expect(done.context).toMatchObject({ output: { attempts: 3 }, iteration: 1, attempt: 3 })
    const events = await history(c, id)
    expect(events.map((e) => e.type)).toEqual([
      "TaskTriggered",
      "IterationStarted", "RetryScheduled",
      "IterationStarted", "RetryScheduled",
      "IterationStarted", "TaskDone",
    ])
    expect(dataOf(events, "IterationStarted")).toEqual([
      { iteration: 1, attempt: 1 },
      { iteration: 1, attempt: 2 },
      { iteration: 1, attempt: 3 },
    ])
    const retries = dataOf<{ reason: string; error: { message: string }; wakeAt: number }>(events, "RetryScheduled")
    expect(retries.map((r) => [r.reason, r.error.message])).toEqual([["error", "attempt 1 failed"], ["error", "attempt 2 failed"]])
    // The backoff (0.1 s, then 0.2 s) is respected: each retry starts no earlier than its wake time.
    const restarts = events.filter((e) => e.type === "IterationStarted").slice(1)
    restarts.forEach((event, i) => expect(event.at).toBeGreaterThanOrEqual(retries[i]!.wakeAt))
  })

  it("abort while triggered → AbortRequested + TaskAborted at once; it never runs", async () => {
    const id = await start("quick", {}, { delaySeconds: 30 })
    const aborted = await c.call((client) => client.Abort({ taskId: asId(id), message: "changed my mind" }))
    expect(aborted.status).toBe("aborted")
    expect(aborted.context.message).toBe("changed my mind")
    expect(await eventTypes(c, id)).toEqual(["TaskTriggered", "AbortRequested", "TaskAborted"])
  })

  it("abort while waiting for a delayed continue → AbortRequested + TaskAborted; no further iteration", async () => {
    const id = await start("counter", { n: 0, target: 5, delaySeconds: 2 })
    const waiting = await waitFor(c, id, "continue")
    expect(waiting.context.wakeAt).toBeGreaterThan(Date.now())
    const aborted = await c.call((client) => client.Abort({ taskId: asId(id) }))
    expect(aborted.status).toBe("aborted")
    expect(aborted.context.wakeAt).toBeUndefined()
    // Past the wake time: still aborted, still one iteration.
    await sleep(waiting.context.wakeAt! - Date.now() + 300)
    const types = await eventTypes(c, id)
    expect(types.slice(-2)).toEqual(["AbortRequested", "TaskAborted"])
    expect(types.filter((t) => t === "IterationStarted")).toHaveLength(1)
    expect((await getTask(c, id)).status).toBe("aborted")
  })

  it("abort while running → isAborted() turns true, run answers aborted → TaskAborted (not forced)", async () => {
    const id = await start("aborter", {})
    await waitFor(c, id, "running")
    const requested = await c.call((client) => client.Abort({ taskId: asId(id), message: "stop please" }))
    expect(requested.status).toBe("running")
    expect(requested.context.abortRequested).toBe(true)
    const aborted = await waitFor(c, id, "aborted")
    expect(aborted.context.abortMessage).toBe("stop please")
    const events = await history(c, id)
    expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "AbortRequested", "TaskAborted"])
    expect(events.at(-1)!.data).not.toHaveProperty("forced")
    expect(events.at(-1)!.at - events.at(-2)!.at).toBeLessThan(900) // answered well inside the 1 s grace
  })

  it("abort of a run that ignores it → TaskAborted{forced: true} after the grace period", async () => {
    const id = await start("stubborn", {})
    await poll(async () => ((await getTask(c, id)).context.progress !== undefined ? true : undefined))
    await c.call((client) => client.Abort({ taskId: asId(id) }))
    await waitFor(c, id, "aborted", { timeoutMs: 8_000 })
    const events = await history(c, id)
    expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "ProgressUpdated", "AbortRequested", "TaskAborted"])
    expect(events.at(-1)!.data).toMatchObject({ forced: true })
    expect(events.at(-1)!.at - events.at(-2)!.at).toBeGreaterThanOrEqual(950)
  })

  it("abort of a finished task is NotAllowed", async () => {
    const id = await start("quick", {})
    await waitFor(c, id, "done")
    const error = await rejection(c.call((client) => client.Abort({ taskId: asId(id) })))
    expect(error).toBeInstanceOf(TaskRpc.NotAllowed)
    expect(error).toMatchObject({ taskId: id, status: "done" })
  })

  it("a hook that throws → HookFailed, the outcome stays done", async () => {
    const id = await start("hookFails", {})
    const state = await waitFor(c, id, "done", { settled: true })
    expect(state.context.hookFailed).toBe(true)
    const events = await history(c, id)
    expect(events.map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone", "HookFailed"])
    expect(events.at(-1)!.data).toMatchObject({ hook: "onDone", error: { message: "hook exploded" } })
  })

  it("a run that answers something that is not a result → TaskFailed{reason invalidResult}", async () => {
    const id = await start("garbage", {})
    const failed = await waitFor(c, id, "error")
    expect(failed.context.failureReason).toBe("invalidResult")
    expect(failed.context.error?.message).toMatch(/controller\.response/)
  })

  it("logs are stored (databaseLogs default) and served by Logs; progress is stored", async () => {
    const id = await start("counter", { n: 0, target: 2 })
    const done = await waitFor(c, id, "done")
    expect(done.context.logCount).toBe(3)
    expect(done.context.progress).toEqual({ completed: 2, total: 2 })
    const events = await history(c, id)
    expect(dataOf(events, "TaskLogged")).toEqual([0, 1, 2].map((n) => ({ level: "info", message: `at ${n}` })))
    expect(dataOf(events, "ProgressUpdated")).toEqual([0, 1, 2].map((n) => ({ progress: { completed: n, total: 2 } })))
    const lines = await c.call((client) => Stream.runCollect(client.Logs({ taskId: asId(id) })))
    expect(Array.from(lines, (line) => [line.level, line.message])).toEqual([["info", "at 0"], ["info", "at 1"], ["info", "at 2"]])
  })

  it("logs are not stored when databaseLogs is false", async () => {
    const id = await start("quiet", {})
    const done = await waitFor(c, id, "done")
    expect(done.context.logCount).toBe(0)
    expect(await eventTypes(c, id)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone"])
    expect(Array.from(await c.call((client) => Stream.runCollect(client.Logs({ taskId: asId(id) }))))).toEqual([])
  })

  it("Definitions lists public definitions only, unless includePrivate", async () => {
    const listed = await c.call((client) => client.Definitions({}))
    const ids = listed.map((d) => d.id)
    expect(ids).toContain("quick")
    expect(ids).toContain("validated")
    expect(ids).not.toContain("secret")
    const validated = listed.find((d) => d.id === "validated")!
    expect(validated.inputSchema).toBeDefined()
    expect(listed.find((d) => d.id === "hanger")).toMatchObject({ timeoutSeconds: 1, closeToTimeoutSeconds: 0.5, maxIterations: 50 })
    const all = await c.call((client) => client.Definitions({ includePrivate: true }))
    expect(all.find((d) => d.id === "secret")).toMatchObject({ id: "secret", isPrivate: true })
  })

  it("an unknown task id is UnknownTask for GetTask, Abort, History, Logs and DeleteTask", async () => {
    const taskId = asId("01a00000-0000-7000-8000-000000000000")
    // Each rejection is caught as soon as the call is made: awaiting them in turn left a later one unhandled for a while.
    const errors = await Promise.all([
      c.call((client) => client.GetTask({ taskId })),
      c.call((client) => client.Abort({ taskId })),
      c.call((client) => client.History({ taskId })),
      c.call((client) => Stream.runCollect(client.Logs({ taskId }))),
      c.call((client) => client.DeleteTask({ taskId })),
    ].map(rejection))
    for (const error of errors) {
      expect(error).toBeInstanceOf(TaskRpc.UnknownTask)
      expect(error).toMatchObject({ _tag: "UnknownTask", taskId })
    }
  })

  it("an idempotencyKey returns the same task, also for concurrent triggers", async () => {
    const key = `key-${Date.now()}`
    const [a, b] = await Promise.all([
      trigger("quick", { first: true }, { idempotencyKey: key }),
      trigger("quick", { first: true }, { idempotencyKey: key }),
    ])
    expect(b.context.taskId).toBe(a.context.taskId)
    await waitFor(c, a.context.taskId, "done")
    const again = await trigger("quick", { second: true }, { idempotencyKey: key })
    expect(again.context.taskId).toBe(a.context.taskId)
    expect(again.context.input).toEqual({ first: true })
    const page = await c.call((client) => client.ListTasks({ definitionId: "quick", limit: 1000 }))
    expect(page.tasks.filter((t) => t.context.idempotencyKey === key)).toHaveLength(1)
  })

  it("the idempotencyKey of a deleted task is refused with a typed error, never handing back the deleted task", async () => {
    const key = `deleted-${Date.now()}`
    const first = await start("quick", { first: true }, { idempotencyKey: key })
    await waitFor(c, first, "done")
    await c.call((client) => client.DeleteTask({ taskId: asId(first) }))
    const again = await trigger("quick", { second: true }, { idempotencyKey: key }).catch((error) => error)
    expect(again).toMatchObject({ _tag: "NotAllowed", taskId: first, status: "done" })
    expect(again.message).toContain(key)
  })

  it("input nested too deep is refused as invalid input, naming the limit", async () => {
    let deep: unknown = "leaf"
    for (let i = 0; i < 500; i++) deep = { next: deep }
    const refused = await trigger("quick", deep).catch((error) => error)
    expect(refused).toMatchObject({ _tag: "InvalidInput", definitionId: "quick", issues: [{ path: [], message: "the input is nested deeper than 100 levels" }] })
  })

  it("a definition's own concurrency limit runs its tasks one at a time, in trigger order", async () => {
    const ids = [await start("serial", { ms: 250 }), await start("serial", { ms: 250 }), await start("serial", { ms: 250 })]
    const spans = []
    for (const id of ids) {
      await waitFor(c, id, "done", { timeoutMs: 10_000 })
      const events = await history(c, id)
      spans.push({ started: events.find((e) => e.type === "IterationStarted")!.at, ended: events.find((e) => e.type === "TaskDone")!.at })
    }
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.started).toBeGreaterThanOrEqual(spans[i - 1]!.ended)
  })

  it("a delayed trigger does not start before its delay", async () => {
    const askedAt = Date.now()
    const triggered = await trigger("quick", {}, { delaySeconds: 1.5 })
    const id = triggered.context.taskId
    expect(triggered.status).toBe("triggered")
    // The delay counts from when the daemon took the request (a moment before the event's time stamp).
    expect(triggered.context.wakeAt).toBeGreaterThanOrEqual(askedAt + 1500)
    expect(triggered.context.wakeAt).toBeLessThanOrEqual(triggered.context.createdAt + 1500)
    const done = await waitFor(c, id, "done", { timeoutMs: 8_000 })
    const started = (await history(c, id)).find((e) => e.type === "IterationStarted")!
    expect(started.at).toBeGreaterThanOrEqual(triggered.context.wakeAt!)
    expect(done.context.startedAt).toBe(started.at)
  })

  it("a task's service comes from the config's layer", async () => {
    const id = await start("greeting", { name: "Ada" })
    expect((await waitFor(c, id, "done")).context.output).toEqual({ greeting: "hello, Ada" })
  })

  it("child tasks carry parentId, are listed by parentId, and an abort of the parent cascades to them", async () => {
    const parentId = await start("parent", { children: 3 })
    const children = await poll(async () => {
      const page = await c.call((client) => client.ListTasks({ parentId: asId(parentId) }))
      return page.tasks.length === 3 && page.tasks.every((t) => t.status === "running") ? page.tasks : undefined
    })
    expect(children.map((t) => t.context.parentId)).toEqual([parentId, parentId, parentId])
    expect(children.map((t) => t.context.definitionId)).toEqual(["aborter", "aborter", "aborter"])
    expect(children.map((t) => t.context.name).sort()).toEqual(["child 0", "child 1", "child 2"])

    await c.call((client) => client.Abort({ taskId: asId(parentId), message: "enough" }))
    await waitFor(c, parentId, "aborted")
    for (const child of children) {
      const state = await waitFor(c, child.context.taskId, "aborted")
      expect(state.context.abortMessage).toBe(`parent ${parentId} was aborted`)
      expect(await eventTypes(c, child.context.taskId)).toEqual(["TaskTriggered", "IterationStarted", "AbortRequested", "TaskAborted"])
    }
  })

  it("DeleteTask removes a finished task from every view; a running one is NotAllowed", async () => {
    const finished = await start("quick", { del: 1 })
    await waitFor(c, finished, "done")
    await c.call((client) => client.DeleteTask({ taskId: asId(finished) }))
    expect(await rejection(getTask(c, finished))).toMatchObject({ _tag: "UnknownTask", taskId: finished })
    expect(await rejection(history(c, finished))).toBeInstanceOf(TaskRpc.UnknownTask)
    const page = await c.call((client) => client.ListTasks({ definitionId: "quick", limit: 1000 }))
    expect(page.tasks.map((t) => t.context.taskId)).not.toContain(finished)
    expect(await rejection(c.call((client) => client.DeleteTask({ taskId: asId(finished) })))).toBeInstanceOf(TaskRpc.UnknownTask)

    const running = await start("aborter", {})
    await waitFor(c, running, "running")
    const error = await rejection(c.call((client) => client.DeleteTask({ taskId: asId(running) })))
    expect(error).toBeInstanceOf(TaskRpc.NotAllowed)
    expect(error).toMatchObject({ taskId: running, status: "running" })
    expect((await getTask(c, running)).status).toBe("running")
    await c.call((client) => client.Abort({ taskId: asId(running) }))
    await waitFor(c, running, "aborted")
  })

  it("Logs with follow streams lines as they are written and ends when the task ends", async () => {
    const id = await start("counter", { n: 0, target: 3, delaySeconds: 0.4 })
    const seen: Array<{ message: string; receivedAt: number }> = []
    await c.call((client) =>
      client.Logs({ taskId: asId(id), follow: true }).pipe(
        Stream.runForEach((line) => Effect.sync(() => seen.push({ message: line.message, receivedAt: Date.now() }))),
      )
    )
    const endedAt = Date.now()
    expect(seen.map((line) => line.message)).toEqual(["at 0", "at 1", "at 2", "at 3"])
    const done = await getTask(c, id)
    expect(done.status).toBe("done")
    // Lines arrived as they were written (about 0.4 s apart), not all at the end.
    expect(seen.at(-1)!.receivedAt - seen[0]!.receivedAt).toBeGreaterThanOrEqual(1000)
    expect(endedAt).toBeGreaterThanOrEqual(done.context.finishedAt!)
  })

  it("Subscribe from position 1 replays the log in order, then delivers new events live", async () => {
    const earlier = await start("quick", { before: true })
    await waitFor(c, earlier, "done")
    const head = (await c.call((client) => client.Info())).head
    const marker = `subscribe-${Date.now()}`
    let markerId: string | undefined
    let replayed = false
    const received = c.call((client) =>
      client.Subscribe({ fromPosition: 1 }).pipe(
        Stream.tap((event) =>
          Effect.sync(() => {
            if (event.position >= head) replayed = true
            if (event.type === "TaskTriggered" && (event.data as { name?: string }).name === marker) markerId = event.stream
          })
        ),
        Stream.takeUntil((event) => event.stream === markerId && event.type === "TaskDone"),
        Stream.runCollect,
      )
    )
    await poll(async () => (replayed ? true : undefined))
    const live = await start("quick", { live: true }, { name: marker })
    const events = Array.from(await received)
    expect(events.map((e) => e.position)).toEqual(events.map((_, i) => i + 1))
    expect(events.filter((e) => e.stream === earlier).map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone"])
    expect(events.filter((e) => e.stream === live).map((e) => e.type)).toEqual(["TaskTriggered", "IterationStarted", "TaskDone"])
    expect(events.find((e) => e.stream === live)!.position).toBeGreaterThan(head)
  })

  it("Subscribe with types delivers only events of those types, in log order", async () => {
    const head = (await c.call((client) => client.Info())).head
    const events: Array<TaskEvent.EventEnvelope> = []
    const following = Effect.runFork(
      c.client.Subscribe({ fromPosition: head + 1, types: ["TaskDone", "TaskFailed"] }).pipe(
        Stream.runForEach((event) => Effect.sync(() => void events.push(event))),
      ),
    )
    const done = await start("quick", { filtered: true })
    const failed = await start("failer", {})
    await poll(async () => ([done, failed].every((id) => events.some((e) => e.stream === id)) ? true : undefined))
    await Effect.runPromise(Fiber.interrupt(following))
    // Other tests' tasks may finish meanwhile: every event is a finish, and both of these are there.
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(["TaskDone", "TaskFailed"]))
    expect(events.filter((e) => e.stream === done || e.stream === failed).map((e) => [e.stream, e.type])).toEqual(
      expect.arrayContaining([[done, "TaskDone"], [failed, "TaskFailed"]]),
    )
    expect(events.map((e) => e.position)).toEqual([...events.map((e) => e.position)].sort((a, b) => a - b))
  })
})

describe("listing", () => {
  it("ListTasks pages through every task with its cursor, newest first, without repeats", async () => {
    const all = (await c.call((client) => client.ListTasks({ limit: 1000 }))).tasks.map((t) => t.context.taskId)
    expect(all.length).toBeGreaterThan(20)
    const paged: Array<string> = []
    let cursor: string | undefined
    do {
      const page = await c.call((client) => client.ListTasks({ limit: 7, ...(cursor === undefined ? {} : { cursor }) }))
      expect(page.tasks.length).toBeLessThanOrEqual(7)
      paged.push(...page.tasks.map((t) => t.context.taskId))
      cursor = page.cursor
    } while (cursor !== undefined)
    expect(paged).toEqual(all)
    const created = await Promise.all(paged.slice(0, 5).map(async (id) => (await getTask(c, id)).context.createdAt))
    expect(created).toEqual([...created].sort((a, b) => b - a))
    const done = await c.call((client) => client.ListTasks({ status: "done", limit: 1000 }))
    expect(done.tasks.length).toBeGreaterThan(0)
    expect(done.tasks.every((t) => t.status === "done")).toBe(true)
  })
})
