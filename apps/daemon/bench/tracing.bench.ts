/**
 * What OTLP export costs: daemon CPU per task with `--otlp-endpoint` off and
 * on. Starts a local OTLP/HTTP receiver (node:http on loopback, counting the
 * spans it gets), then, alternating off and on, a fresh daemon (inline
 * isolation, concurrency 64) that runs N one-iteration no-op tasks; the
 * daemon's CPU (user + system, from /proc/<pid>/stat) from before the first
 * trigger until every task is done — and, when on, until the receiver has
 * every task's two spans — divided by N. Prints each run and the medians.
 *
 * Run: `node apps/daemon/build.mjs && tsx apps/daemon/bench/tracing.bench.ts [--quick] [--runs 3]`.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as Http from "node:http"
import type * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { connect } from "../src/Client.ts"
import * as BenchDaemon from "./BenchDaemon.ts"

const count = process.argv.includes("--quick") ? 2_000 : 10_000
const runsAt = process.argv.indexOf("--runs")
const runs = runsAt === -1 ? 3 : Number(process.argv[runsAt + 1])
const ticks = 100 // USER_HZ on Linux

let spans = 0
const receiver = Http.createServer((req, res) => {
  let body = ""
  req.setEncoding("utf8")
  req.on("data", (chunk) => (body += chunk))
  req.on("end", () => {
    if (req.url === "/v1/traces") {
      for (const rs of JSON.parse(body).resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length
    }
    res.writeHead(200).end("{}")
  })
})
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
const endpoint = `http://127.0.0.1:${(receiver.address() as Net.AddressInfo).port}`

const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const once = async (tracing: boolean) => {
  const dataDir = mkdtempSync(join(tmpdir(), "tl-bench-otlp-"))
  const child = await BenchDaemon.start(dataDir, {
    concurrency: 64,
    args: tracing ? ["--otlp-endpoint", endpoint] : [],
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: "", OTEL_BSP_SCHEDULE_DELAY: "200" },
  })
  const connection = await connect(join(dataDir, "daemon.sock"))
  try {
    // Warm up (JIT, first writes), then measure.
    for (let i = 0; i < 200; i++) await connection.call((c) => c.Trigger({ definitionId: "noop", input: null }))
    await sleep(500)
    const spansBefore = spans
    const cpuBefore = cpuMs(child.pid!)
    let next = 0
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < count) {
        next++
        await connection.call((c) => c.Trigger({ definitionId: "noop", input: null }))
      }
    }))
    for (;;) {
      const done = (await connection.call((c) => c.Info())).counts["done"] ?? 0
      if (done >= count + 200 && (!tracing || spans - spansBefore >= 2 * count)) break
      await sleep(50) // Info reads the store's size on disk: polled rarely, so it adds little to the CPU measured
    }
    return ((cpuMs(child.pid!) - cpuBefore) * 1000) / count
  } finally {
    await connection.close()
    child.kill("SIGKILL")
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const off: Array<number> = []
const on: Array<number> = []
for (let run = 0; run < runs; run++) {
  off.push(await once(false))
  on.push(await once(true))
  console.log(`run ${run + 1}: off ${off.at(-1)!.toFixed(1)} µs/task, on ${on.at(-1)!.toFixed(1)} µs/task`)
}
console.log(`${count} one-iteration tasks, inline, concurrency 64; daemon CPU per task (median of ${runs}):`)
console.log(`  tracing off: ${median(off).toFixed(1)} µs`)
console.log(`  tracing on:  ${median(on).toFixed(1)} µs`)
receiver.close()
