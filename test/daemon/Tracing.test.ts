/**
 * OTLP export against the REAL daemon (`--otlp-endpoint`) and a real
 * OTLP/HTTP receiver: a node:http server on loopback that records what is
 * POSTed to /v1/traces, /v1/logs and /v1/metrics (OTLP/JSON, the daemon's
 * default encoding). A three-iteration task whose Effect-returning `run()`
 * creates its own span runs inline and in a worker thread; the test asserts
 * each span tree (task span → three iteration spans in order → the user's
 * span under each), the log lines' trace and span ids (task log lines, and
 * task code's `Effect.log`), and that the
 * `tasklane_` metrics arrive too.
 */
import { existsSync } from "node:fs"
import * as Http from "node:http"
import type * as Net from "node:net"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Replay } from "@tasklane/core"
import type { Connection } from "@tasklane/daemon/client"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, poll, waitFor } from "../support/TaskPolling.ts"

const config = join(import.meta.dirname, "..", "fixtures", "tracing", "tasklane.config.ts")

interface Received {
  readonly path: string
  readonly contentType: string | undefined
  readonly header: string | string[] | undefined
  readonly body: any
}

type Attribute = { readonly key: string; readonly value: Record<string, unknown> }
interface Span {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly startTimeUnixNano: string
  readonly endTimeUnixNano: string
  readonly attributes: ReadonlyArray<Attribute>
  readonly links: ReadonlyArray<{ traceId: string; spanId: string }>
  readonly status: { readonly code: number }
}

const received: Array<Received> = []
let receiver: Http.Server
let endpoint: string
const dataDir = tempDataDir()
let daemon: DaemonProcess
let c: Connection

/** An attribute's value, whatever its OTLP type. */
const attr = (attributes: ReadonlyArray<Attribute>, key: string): unknown => {
  const value = attributes.find((a) => a.key === key)?.value
  if (value === undefined) return undefined
  const [kind, v] = Object.entries(value)[0]!
  return kind === "intValue" ? Number(v) : v
}

const at = (path: string) => received.filter((r) => r.path === path)
const spansOf = (traceId: string): Array<Span> =>
  at("/v1/traces").flatMap((r) => r.body.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans)))
    .filter((span: Span) => span.traceId === traceId)
const logsOf = (traceId: string) =>
  at("/v1/logs").flatMap((r) => r.body.resourceLogs.flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords)))
    .filter((record: any) => record.traceId === traceId)

const trigger = (definitionId: string): Promise<string> =>
  c.call((client) => client.Trigger({ definitionId, input: { step: 1, steps: 3 } })).then((state: Replay.TaskState) => state.context.taskId)

beforeAll(async () => {
  receiver = Http.createServer((req, res) => {
    let body = ""
    req.setEncoding("utf8")
    req.on("data", (chunk) => (body += chunk))
    req.on("end", () => {
      received.push({ path: req.url!, contentType: req.headers["content-type"], header: req.headers["x-tasklane-test"], body: JSON.parse(body) })
      res.writeHead(200, { "Content-Type": "application/json" }).end("{}")
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
  endpoint = `http://127.0.0.1:${(receiver.address() as Net.AddressInfo).port}`
  daemon = await startDaemon({
    dataDir,
    args: ["--config", config, "--no-examples", "--shutdown-grace", "2", "--otlp-endpoint", `${endpoint}/`],
    env: {
      OTEL_SERVICE_NAME: "tasklane-test",
      OTEL_BSP_SCHEDULE_DELAY: "100",
      OTEL_METRIC_EXPORT_INTERVAL: "300",
      OTEL_EXPORTER_OTLP_ENDPOINT: "",
      OTEL_EXPORTER_OTLP_HEADERS: "x-tasklane-test=yes%20please",
    },
  })
  c = await connectTo(daemon)
}, 30_000)

afterAll(async () => {
  await c?.close().catch(() => undefined)
  await daemon?.stop("SIGKILL")
  removeDataDir(dataDir)
  await new Promise((resolve) => receiver?.close(resolve))
})

/** Waits for the whole tree of `taskId`'s trace (task span, 3 iteration spans, 3 user spans) and checks it. */
const assertTree = async (taskId: string, definition: string) => {
  const traceId = taskId.replace(/-/g, "")
  const spans = await poll(async () => (spansOf(traceId).length >= 7 ? spansOf(traceId) : undefined), {
    timeoutMs: 10_000,
    what: () => `spans of ${traceId}: ${JSON.stringify(spansOf(traceId).map((s) => s.name))}; output:\n${daemon.output()}`,
  })
  expect(spans).toHaveLength(7)

  const roots = spans.filter((span) => span.parentSpanId === undefined || span.parentSpanId === "")
  expect(roots).toHaveLength(1)
  const task = roots[0]!
  expect(task.name).toBe(`task ${definition}`)
  expect(attr(task.attributes, "tasklane.definition")).toBe(definition)
  expect(attr(task.attributes, "tasklane.task.id")).toBe(taskId)
  expect(attr(task.attributes, "tasklane.outcome")).toBe("done")
  expect(attr(task.attributes, "tasklane.iterations")).toBe(3)
  expect(task.status.code).toBe(1)

  const iterations = spans.filter((span) => span.parentSpanId === task.spanId)
    .sort((a, b) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano)))
  expect(iterations.map((span) => span.name)).toEqual(["iteration 1", "iteration 2", "iteration 3"])
  expect(iterations.map((span) => attr(span.attributes, "tasklane.iteration"))).toEqual([1, 2, 3])
  expect(iterations.map((span) => attr(span.attributes, "tasklane.attempt"))).toEqual([1, 1, 1])
  expect(iterations.map((span) => attr(span.attributes, "tasklane.outcome"))).toEqual(["continue", "continue", "done"])
  for (const span of iterations) {
    expect(attr(span.attributes, "tasklane.definition")).toBe(definition)
    expect(attr(span.attributes, "tasklane.task.id")).toBe(taskId)
    // Within the task span, and one after another.
    expect(BigInt(span.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(task.startTimeUnixNano))
    expect(BigInt(span.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(task.endTimeUnixNano))
  }
  for (let i = 1; i < 3; i++) expect(BigInt(iterations[i]!.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(iterations[i - 1]!.endTimeUnixNano))

  // The span run() created with Effect.withSpan sits under the iteration that ran it.
  const users = spans.filter((span) => span.name === "user work")
  expect(users).toHaveLength(3)
  for (const [i, iteration] of iterations.entries()) {
    const user = users.filter((span) => span.parentSpanId === iteration.spanId)
    expect(user, `the user span of iteration ${i + 1}`).toHaveLength(1)
    expect(attr(user[0]!.attributes, "user.step")).toBe(i + 1)
    // Timed by the task's own clock: inside its iteration give or take a few ms of clock skew.
    expect(Number(BigInt(user[0]!.startTimeUnixNano) / 1_000_000n)).toBeGreaterThanOrEqual(Number(BigInt(iteration.startTimeUnixNano) / 1_000_000n) - 5)
    expect(Number(BigInt(user[0]!.endTimeUnixNano) / 1_000_000n)).toBeLessThanOrEqual(Number(BigInt(iteration.endTimeUnixNano) / 1_000_000n) + 5)
  }

  // Each log line carries its iteration's trace and span id.
  const taskLogs = () => logsOf(traceId).filter((record: any) => record.body.stringValue.startsWith("step "))
  const logs = await poll(async () => (taskLogs().length >= 3 ? taskLogs() : undefined))
  expect(logs.map((record: any) => record.body.stringValue)).toEqual(["step 1", "step 2", "step 3"])
  expect(logs.map((record: any) => record.spanId)).toEqual(iterations.map((span) => span.spanId))
  expect(logs.map((record: any) => record.severityText)).toEqual(["INFO", "INFO", "INFO"])

  // Effect.log inside the user's span: through the daemon's OTLP logger (inline), or posted back by the worker, with that span's ids.
  const effectLogs = () => logsOf(traceId).filter((record: any) => record.body.stringValue.startsWith("effect log "))
  const written = await poll(async () => (effectLogs().length >= 3 ? effectLogs() : undefined))
  expect(written.map((record: any) => record.body.stringValue).sort()).toEqual(["effect log 1", "effect log 2", "effect log 3"])
  for (const record of written) {
    const step = Number(record.body.stringValue.slice("effect log ".length))
    expect(record.spanId).toBe(users.find((span) => attr(span.attributes, "user.step") === step)!.spanId)
  }
}

describe("traces over OTLP/HTTP", () => {
  it("are sent as OTLP/JSON with the service name and the OTEL_EXPORTER_OTLP_HEADERS", async () => {
    await poll(async () => (daemon.output().includes(`otlp: sending traces, logs and metrics to ${endpoint} (json)`) ? true : undefined))
    const taskId = await trigger("spanned")
    await waitFor(c, taskId, "done")
    await poll(async () => (at("/v1/traces").length > 0 ? true : undefined))
    const first = at("/v1/traces")[0]!
    expect(first.contentType).toBe("application/json")
    expect(first.header).toBe("yes please")
    const resource = first.body.resourceSpans[0].resource
    expect(attr(resource.attributes, "service.name")).toBe("tasklane-test")
    await assertTree(taskId, "spanned")
  })

  it("a worker-isolated task gives the same tree, its user spans and Effect logs posted back from the worker", async () => {
    const taskId = await trigger("spannedWorker")
    await waitFor(c, taskId, "done", { timeoutMs: 20_000 })
    await assertTree(taskId, "spannedWorker")
  }, 30_000)
})

describe("metrics over OTLP/HTTP", () => {
  it("the tasklane_ series arrive at /v1/metrics", async () => {
    const finished = await poll(async () => {
      for (const r of at("/v1/metrics").reverse()) {
        const metrics = r.body.resourceMetrics.flatMap((rm: any) => rm.scopeMetrics.flatMap((sm: any) => sm.metrics))
        const metric = metrics.find((m: any) => m.name === "tasklane_tasks_finished_total")
        const point = metric?.sum.dataPoints.find((p: any) => attr(p.attributes, "definition") === "spanned" && attr(p.attributes, "outcome") === "done")
        if (point !== undefined) return { point, names: metrics.map((m: any) => m.name) as Array<string> }
      }
      return undefined
    }, { timeoutMs: 10_000 })
    expect(finished.point.asDouble ?? Number(finished.point.asInt)).toBe(1)
    expect(finished.names).toContain("tasklane_iteration_duration_seconds")
    expect(finished.names).toContain("tasklane_queue_depth")
  })
})

describe("switching it on and off", () => {
  it("OTEL_EXPORTER_OTLP_ENDPOINT alone switches it on", async () => {
    const dir = tempDataDir()
    const viaEnv = await startDaemon({
      dataDir: dir,
      args: ["--config", config, "--no-examples"],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: "100" },
    })
    try {
      await poll(async () => (viaEnv.output().includes(`otlp: sending traces, logs and metrics to ${endpoint} (json)`) ? true : undefined))
      const conn = await connectTo(viaEnv)
      const state = await conn.call((client) => client.Trigger({ definitionId: "spanned", input: { step: 1, steps: 1 } }))
      await waitFor(conn, state.context.taskId, "done")
      await conn.close()
      const traceId = state.context.taskId.replace(/-/g, "")
      const spans = await poll(async () => (spansOf(traceId).length >= 3 ? spansOf(traceId) : undefined))
      expect(spans.map((span) => span.name).sort()).toEqual(["iteration 1", "task spanned", "user work"])
      const resource = at("/v1/traces").at(-1)!.body.resourceSpans[0].resource
      expect(attr(resource.attributes, "service.name")).toBe("tasklane")
    } finally {
      await viaEnv.stop("SIGKILL")
      removeDataDir(dir)
    }
  })

  it("what is buffered is sent when the daemon stops (SIGTERM)", async () => {
    const dir = tempDataDir()
    // Nothing is sent on a timer within this test: only the flush at the stop can deliver it.
    const stopping = await startDaemon({
      dataDir: dir,
      args: ["--config", config, "--no-examples", "--otlp-endpoint", endpoint],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: "", OTEL_BSP_SCHEDULE_DELAY: "600000", OTEL_METRIC_EXPORT_INTERVAL: "600000" },
    })
    try {
      const conn = await connectTo(stopping)
      const state = await conn.call((client) => client.Trigger({ definitionId: "spanned", input: { step: 1, steps: 2 } }))
      await waitFor(conn, state.context.taskId, "done")
      await conn.close()
      const traceId = state.context.taskId.replace(/-/g, "")
      // Give the follower time to fold the final event; nothing may have been sent yet.
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(spansOf(traceId)).toEqual([])
      expect(await stopping.stop("SIGTERM")).toBe(0)
      expect(spansOf(traceId).map((span) => span.name).sort()).toEqual(["iteration 1", "iteration 2", "task spanned", "user work", "user work"])
    } finally {
      await stopping.stop("SIGKILL")
      removeDataDir(dir)
    }
  })

  it("a daemon restart between iterations keeps one tree: the task span and both iterations share the trace and the task's span", async () => {
    const dir = tempDataDir()
    const args = ["--config", config, "--no-examples", "--otlp-endpoint", endpoint]
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "", OTEL_BSP_SCHEDULE_DELAY: "100" }
    let current = await startDaemon({ dataDir: dir, args, env })
    try {
      let conn = await connectTo(current)
      const triggered = await conn.call((client) => client.Trigger({ definitionId: "spanned", input: { step: 1, steps: 2, waitSeconds: 2 } }))
      const taskId = triggered.context.taskId
      await waitFor(conn, taskId, "continue")
      await conn.close()
      expect(await current.stop("SIGTERM")).toBe(0)
      current = await startDaemon({ dataDir: dir, args, env })
      conn = await connectTo(current)
      await waitFor(conn, taskId, "done")
      await conn.close()
      const traceId = taskId.replace(/-/g, "")
      const spans = await poll(async () => (spansOf(traceId).length >= 5 ? spansOf(traceId) : undefined), {
        what: () => JSON.stringify(spansOf(traceId).map((s) => s.name)),
      })
      expect(spans.map((span) => span.name).sort()).toEqual(["iteration 1", "iteration 2", "task spanned", "user work", "user work"])
      const task = spans.find((span) => span.name === "task spanned")!
      const iterations = spans.filter((span) => span.name.startsWith("iteration"))
      for (const iteration of iterations) expect(iteration.parentSpanId).toBe(task.spanId)
      for (const user of spans.filter((span) => span.name === "user work")) {
        expect(iterations.map((span) => span.spanId)).toContain(user.parentSpanId)
      }
      // The task span, built by the second daemon, starts at the trigger the first one recorded.
      expect(BigInt(task.startTimeUnixNano)).toBe(BigInt(triggered.context.createdAt) * 1_000_000n)
      expect(attr(task.attributes, "tasklane.iterations")).toBe(2)
    } finally {
      await current.stop("SIGKILL")
      removeDataDir(dir)
    }
  }, 30_000)

  it("a receiver that does not answer does not disturb the daemon", async () => {
    const dir = tempDataDir()
    const closed = Http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve))
    const port = (closed.address() as Net.AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const lonely = await startDaemon({
      dataDir: dir,
      args: ["--config", config, "--no-examples", "--otlp-endpoint", `http://127.0.0.1:${port}`],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: "", OTEL_BSP_SCHEDULE_DELAY: "50", OTEL_METRIC_EXPORT_INTERVAL: "50" },
    })
    try {
      const conn = await connectTo(lonely)
      for (let i = 0; i < 3; i++) {
        const state = await conn.call((client) => client.Trigger({ definitionId: "spanned", input: { step: 1, steps: 3 } }))
        await waitFor(conn, state.context.taskId, "done")
      }
      await conn.close()
      const started = Date.now()
      expect(await lonely.stop("SIGTERM")).toBe(0)
      // The final flush gives up within its 3 s.
      expect(Date.now() - started).toBeLessThan(8_000)
    } finally {
      await lonely.stop("SIGKILL")
      removeDataDir(dir)
    }
  }, 30_000)

  it("without --otlp-endpoint or the variable, a daemon does not export (and says nothing about OTLP)", async () => {
    const dir = tempDataDir()
    const plain = await startDaemon({ dataDir: dir, args: ["--config", config, "--no-examples"], env: { OTEL_EXPORTER_OTLP_ENDPOINT: "" } })
    try {
      const conn = await connectTo(plain)
      const state = await conn.call((client) => client.Trigger({ definitionId: "spanned", input: { step: 1, steps: 1 } }))
      await waitFor(conn, state.context.taskId, "done")
      await conn.close()
      expect(plain.output()).not.toContain("otlp")
    } finally {
      await plain.stop("SIGKILL")
      removeDataDir(dir)
    }
  })

  it("a bad endpoint is refused at start", async () => {
    const dir = tempDataDir()
    const bad = await startDaemon({ dataDir: dir, args: ["--no-examples", "--otlp-endpoint", "localhost:4318"], waitReady: false })
    expect(await bad.exited).toBe(1)
    expect(bad.output()).toContain('--otlp-endpoint must be an http:// or https:// URL, got "localhost:4318"')
    expect(existsSync(join(dir, "daemon.sock"))).toBe(false)
    removeDataDir(dir)
  })
})
