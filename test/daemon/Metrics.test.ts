/**
 * Metrics (`/metrics` in Prometheus text format) against the REAL daemon
 * started with web mode and the metrics-only listener (`--http 127.0.0.1:0
 * --metrics 127.0.0.1:0`): tasks that end done, error (and a failing hook),
 * continue, wait for a delay, run, and are aborted, then the values by name and
 * label; the access rules of both listeners; `promtool check metrics` on the
 * scraped text; and a real Prometheus server on loopback that scrapes the
 * daemon with the bearer token file and answers a Tasklane value through its
 * query API. promtool and prometheus come from Debian's `prometheus`
 * package (`.ci/run` installs it); without them these tests fail and say so.
 */
import type { Replay } from "@tasklane/core"
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { type DaemonProcess, fixtureConfig, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { httpGet } from "../support/HttpGet.ts"
import { connectTo, poll, sleep, waitFor } from "../support/TaskPolling.ts"

const scratch = mkdtempSync(join(tmpdir(), "tl-metrics-"))
const dataDir = tempDataDir()
const daemons: Array<DaemonProcess> = []
let daemon: DaemonProcess
let c: Connection
let metricsUrl: URL
let webUrl: URL
let token: string

const bearer = () => ({ Authorization: `Bearer ${token}` })

/** The scraped text, parsed: sample (`name{labels}` as printed) → value. */
const parse = (text: string): Map<string, number> =>
  new Map(
    text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).map((line) => {
      const at = line.lastIndexOf(" ")
      return [line.slice(0, at), Number(line.slice(at + 1))] as const
    }),
  )

/** The sample `name{labels}` (labels in the order they are printed), failing if it is absent. */
const sample = (samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number => {
  const entries = Object.entries(labels)
  const key = entries.length === 0 ? name : `${name}{${entries.map(([k, v]) => `${k}="${v}"`).join(",")}}`
  const value = samples.get(key)
  if (value === undefined) throw new Error(`no sample ${key} in:\n${[...samples.keys()].join("\n")}`)
  return value
}

const scrape = async (): Promise<{ text: string; samples: Map<string, number> }> => {
  const reply = await httpGet(metricsUrl, "/metrics", bearer())
  expect(reply.status, reply.body).toBe(200)
  return { text: reply.body, samples: parse(reply.body) }
}

const trigger = (definitionId: string, input: unknown, options: { readonly delaySeconds?: number } = {}): Promise<string> =>
  c.call((client) => client.Trigger({ definitionId, input, ...options })).then((state: Replay.TaskState) => state.context.taskId)

/** A free TCP port on 127.0.0.1 (for Prometheus, whose listener cannot be told to pick one). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as Net.AddressInfo
      server.close(() => resolve(port))
    })
  })

/** Fails with a clear message when a tool of Debian's `prometheus` package is missing. */
const requireTool = (tool: string) => {
  const found = spawnSync(tool, ["--version"], { encoding: "utf8" })
  if (found.error !== undefined) {
    throw new Error(
      `${tool} is not installed (${found.error.message}): install Debian's prometheus package (apt-get install prometheus); .ci/run does this`,
    )
  }
}

let ids: Record<string, string> = {}

beforeAll(async () => {
  daemon = await startDaemon({
    dataDir,
    args: [
      "--config", fixtureConfig, "--no-examples", "--abort-grace", "1", "--shutdown-grace", "2",
      "--http", "127.0.0.1:0", "--http-ui", scratch, "--metrics", "127.0.0.1:0",
    ],
  })
  daemons.push(daemon)
  const metricsLine = /^metrics: (\S+) \(token in (\S+)\)$/m.exec(daemon.output())
  const webLine = /^web UI: (\S+)$/m.exec(daemon.output())
  if (metricsLine === null || webLine === null) throw new Error(`no metrics or web UI line in the daemon's output:\n${daemon.output()}`)
  metricsUrl = new URL(metricsLine[1]!)
  webUrl = new URL(webLine[1]!)
  token = webUrl.searchParams.get("token")!
  c = await connectTo(daemon)

  ids = {
    quick: await trigger("quick", {}),
    failer: await trigger("failer", {}),
    counter: await trigger("counter", { n: 0, target: 2 }),
    hookFails: await trigger("hookFails", {}),
    // Continues once, then waits 10 minutes between iterations (queue depth "continue"); aborted below.
    waiting: await trigger("counter", { n: 0, target: 5, delaySeconds: 600 }),
    // Delayed by 10 minutes: "triggered" in the queue.
    delayed: await trigger("quick", {}, { delaySeconds: 600 }),
    // Delayed by 2 s: its wait counts from the end of the delay, not from the trigger.
    soon: await trigger("serial", { ms: 0 }, { delaySeconds: 2 }),
    running: await trigger("slow", { ms: 60_000 }),
  }
  for (const name of ["quick", "failer", "counter", "soon"]) await waitFor(c, ids[name]!, "final")
  await waitFor(c, ids.hookFails!, "final", { settled: true })
  await waitFor(c, ids.waiting!, "continue")
  await waitFor(c, ids.running!, "running")
}, 60_000)

afterAll(async () => {
  await c?.close().catch(() => undefined)
  for (const started of daemons) await started.stop("SIGKILL")
  removeDataDir(dataDir)
  rmSync(scratch, { recursive: true, force: true })
})

describe("task metrics, derived from the committed events", () => {
  it("count triggers and outcomes by definition, iterations by outcome, and the failing hook", async () => {
    // The follower folds committed events asynchronously: poll until the last of them is counted.
    const { samples } = await poll(async () => {
      const scraped = await scrape()
      return scraped.samples.get('tasklane_hook_failures_total{definition="hookFails",hook="onDone"}') === 1 ? scraped : undefined
    })
    expect(sample(samples, "tasklane_tasks_triggered_total", { definition: "quick" })).toBe(2)
    expect(sample(samples, "tasklane_tasks_triggered_total", { definition: "counter" })).toBe(2)
    expect(sample(samples, "tasklane_tasks_triggered_total", { definition: "failer" })).toBe(1)
    expect(sample(samples, "tasklane_tasks_finished_total", { definition: "quick", outcome: "done" })).toBe(1)
    expect(sample(samples, "tasklane_tasks_finished_total", { definition: "failer", outcome: "error" })).toBe(1)
    expect(sample(samples, "tasklane_tasks_finished_total", { definition: "counter", outcome: "done" })).toBe(1)
    expect(sample(samples, "tasklane_tasks_finished_total", { definition: "hookFails", outcome: "done" })).toBe(1)
    expect(sample(samples, "tasklane_iteration_failures_total", { definition: "failer", reason: "error" })).toBe(1)
    // counter 0→2: two continues and a done; the waiting counter one continue so far.
    expect(sample(samples, "tasklane_iteration_duration_seconds_count", { definition: "counter", outcome: "continue" })).toBe(3)
    expect(sample(samples, "tasklane_iteration_duration_seconds_count", { definition: "counter", outcome: "done" })).toBe(1)
    expect(sample(samples, "tasklane_iteration_duration_seconds_count", { definition: "failer", outcome: "error" })).toBe(1)
    expect(sample(samples, "tasklane_iteration_duration_seconds_bucket", { definition: "quick", outcome: "done", le: "+Inf" })).toBe(1)
    expect(sample(samples, "tasklane_hook_failures_total", { definition: "hookFails", hook: "onDone" })).toBe(1)
    // First starts: one per started task; the delayed quick has not started.
    expect(sample(samples, "tasklane_task_start_wait_seconds_count", { definition: "quick" })).toBe(1)
    expect(sample(samples, "tasklane_task_start_wait_seconds_count", { definition: "counter" })).toBe(2)
    expect(sample(samples, "tasklane_task_start_wait_seconds_count", { definition: "serial" })).toBe(1)
    // Waited from the end of its 2 s delay, not from the trigger (which would be 2 s or more).
    expect(sample(samples, "tasklane_task_start_wait_seconds_sum", { definition: "serial" })).toBeLessThan(1.5)
  })

  it("show the running iteration and the waiting tasks, and count an abort", async () => {
    const { samples } = await scrape()
    expect(sample(samples, "tasklane_running_iterations")).toBe(1)
    expect(sample(samples, "tasklane_queue_depth", { status: "triggered" })).toBe(1)
    expect(sample(samples, "tasklane_queue_depth", { status: "continue" })).toBe(1)

    await c.call((client) => client.Abort({ taskId: ids.waiting as never }))
    await waitFor(c, ids.waiting!, "aborted")
    const after = await poll(async () => {
      const scraped = await scrape()
      return scraped.samples.get('tasklane_tasks_finished_total{definition="counter",outcome="aborted"}') === 1 ? scraped.samples : undefined
    })
    expect(sample(after, "tasklane_queue_depth", { status: "continue" })).toBe(0)
    expect(sample(after, "tasklane_queue_depth", { status: "triggered" })).toBe(1)
  })
})

describe("store metrics, from the group commits", () => {
  it("count appends, batch sizes and commit times, and say the store is writable", async () => {
    const { samples } = await scrape()
    const batches = sample(samples, "tasklane_store_batch_events_count")
    expect(batches).toBeGreaterThan(0)
    expect(sample(samples, "tasklane_store_commit_seconds_count")).toBe(batches)
    expect(sample(samples, "tasklane_store_commit_seconds_sum")).toBeGreaterThan(0)
    // Every event the tasks above recorded went through one of these batches.
    expect(sample(samples, "tasklane_store_batch_events_sum")).toBeGreaterThanOrEqual(30)
    expect(sample(samples, "tasklane_store_appends_total", { result: "accepted" })).toBeGreaterThanOrEqual(batches)
    expect(sample(samples, "tasklane_store_writable")).toBe(1)
  })
})

describe("access", () => {
  it("the metrics listener serves /metrics alone, with the token (bearer or ?token=), for its own Host only", async () => {
    const missing = await httpGet(metricsUrl, "/metrics")
    expect(missing.status).toBe(401)
    expect(missing.body).toContain("web-token")
    expect((await httpGet(metricsUrl, "/metrics", { Authorization: "Bearer wrong" })).status).toBe(401)
    expect((await httpGet(metricsUrl, `/metrics?token=${token}`)).status).toBe(200)
    expect((await httpGet(metricsUrl, "/", bearer())).status).toBe(404)
    expect((await httpGet(metricsUrl, "/rpc", bearer())).status).toBe(404)
    expect((await httpGet(metricsUrl, "/metrics", { ...bearer(), Host: `evil.example:${metricsUrl.port}` })).status).toBe(403)
    const ok = await httpGet(metricsUrl, "/metrics", bearer())
    expect(ok.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8")
  })

  it("web mode serves the same /metrics under its token rules, without redirecting ?token=", async () => {
    expect((await httpGet(webUrl, "/metrics")).status).toBe(401)
    expect((await httpGet(webUrl, "/metrics", { ...bearer(), Host: `evil.example:${webUrl.port}` })).status).toBe(403)
    const viaQuery = await httpGet(webUrl, `/metrics?token=${token}`)
    expect(viaQuery.status).toBe(200)
    const web = await httpGet(webUrl, "/metrics", bearer())
    expect(web.status).toBe(200)
    expect(web.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8")
    expect(sample(parse(web.body), "tasklane_tasks_triggered_total", { definition: "failer" })).toBe(1)
  })

  it("a --metrics that is not HOST:PORT, or a busy port, stops the daemon with a message", async () => {
    const bad = await startDaemon({ dataDir: tempDataDir(), args: ["--no-examples", "--metrics", "nonsense"], waitReady: false })
    daemons.push(bad)
    expect(await bad.exited).toBe(1)
    expect(bad.output()).toContain('--metrics must be HOST:PORT or PORT, got "nonsense"')
    removeDataDir(bad.dataDir)

    const busy = await startDaemon({ dataDir: tempDataDir(), args: ["--no-examples", "--metrics", `127.0.0.1:${metricsUrl.port}`], waitReady: false })
    daemons.push(busy)
    expect(await busy.exited).toBe(1)
    expect(busy.output()).toContain(`cannot serve metrics on 127.0.0.1:${metricsUrl.port}: the port is already in use`)
    removeDataDir(busy.dataDir)
  }, 30_000)
})

describe("real Prometheus tooling", () => {
  it("promtool check metrics finds no problem in the scraped text", async () => {
    requireTool("promtool")
    const { text } = await scrape()
    const checked = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" })
    expect(`${checked.stdout}${checked.stderr}`.trim()).toBe("")
    expect(checked.status).toBe(0)
  })

  it("a Prometheus server scrapes the daemon with the bearer token file and answers a Tasklane value", async () => {
    requireTool("prometheus")
    const port = await freePort()
    const dir = join(scratch, "prometheus")
    const config = join(scratch, "prometheus.yml")
    writeFileSync(
      config,
      [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: tasklane",
        "    scrape_interval: 1s",
        "    authorization:",
        `      credentials_file: ${join(dataDir, "web-token")}`,
        "    static_configs:",
        `      - targets: ["${metricsUrl.host}"]`,
        "",
      ].join("\n"),
    )
    const server = spawn("prometheus", [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dir}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: ["ignore", "pipe", "pipe"] })
    let log = ""
    server.stdout.on("data", (chunk) => (log += chunk))
    server.stderr.on("data", (chunk) => (log += chunk))
    const exited = new Promise<void>((resolve) => server.on("exit", () => resolve()))
    const api = new URL(`http://127.0.0.1:${port}`)
    const query = async (promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
      const reply = await httpGet(api, `/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined)
      if (reply === undefined || reply.status !== 200) return []
      return JSON.parse(reply.body).data.result
    }
    try {
      const what = () => `prometheus did not report the target up; its log:\n${log}`
      const up = await poll(async () => {
        if (server.exitCode !== null) throw new Error(`prometheus exited with ${server.exitCode}:\n${log}`)
        const result = await query('up{job="tasklane"}')
        return result[0]?.value[1] === "1" ? result[0] : undefined
      }, { timeoutMs: 30_000, intervalMs: 250, what })
      expect(up.metric.instance).toBe(metricsUrl.host)
      const failed = await poll(async () => {
        const result = await query('tasklane_tasks_finished_total{definition="failer",outcome="error"}')
        return result[0]
      }, { timeoutMs: 15_000, intervalMs: 250, what: () => `no tasklane series in prometheus; its log:\n${log}` })
      expect(failed.value[1]).toBe("1")
      expect(failed.metric.job).toBe("tasklane")
    } finally {
      server.kill("SIGTERM")
      await Promise.race([exited, sleep(10_000).then(() => server.kill("SIGKILL"))])
    }
  }, 60_000)
})
