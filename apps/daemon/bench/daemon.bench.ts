/**
 * Daemon benchmark: starts the real daemon on a temp data dir and measures,
 * through the typed client over the unix socket:
 * - end-to-end throughput of 10,000 one-iteration no-op tasks at concurrency 64 (durable);
 * - trigger -> start latency on an idle daemon (trigger call until the client
 *   sees the task's IterationStarted on its Subscribe stream), p50/p99;
 * - per-iteration overhead of one 1,000-iteration task;
 * - daemon RSS after 100,000 completed tasks.
 * Task code runs inline (`--isolation inline`), so the figures measure the
 * daemon itself and stay comparable across runs; `pnpm bench` shows the
 * worker-thread isolation beside it.
 * Prints a table; run with `pnpm --filter @tasklane/daemon bench`.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Fiber, Stream } from "effect"
import { connect, type Connection } from "../src/Client.ts"
import * as BenchDaemon from "./BenchDaemon.ts"

const quick = process.argv.includes("--quick")

const startDaemon = (dataDir: string, concurrency: number) => BenchDaemon.start(dataDir, { concurrency })

const rssMb = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!
  return Number(line.split(/\s+/)[1]) / 1024
}

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/** Triggers `count` noop tasks with `inFlight` requests at a time over `connections`; resolves when all are done. */
const runNoops = async (connections: ReadonlyArray<Connection>, count: number, inFlight: number) => {
  const info = () => connections[0]!.call((c) => c.Info())
  const doneBefore = (await info()).counts["done"] ?? 0
  let next = 0
  const worker = async (i: number) => {
    const connection = connections[i % connections.length]!
    while (next < count) {
      next++
      await connection.call((c) => c.Trigger({ definitionId: "noop", input: null }))
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: inFlight }, (_, i) => worker(i)))
  const triggeredMs = performance.now() - started
  for (;;) {
    const done = (await info()).counts["done"] ?? 0
    if (done - doneBefore >= count) break
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return { totalMs: performance.now() - started, triggeredMs }
}

const latency = async (connection: Connection, samples: number) => {
  const head = (await connection.call((c) => c.Info())).head
  // A start may be seen before the trigger's answer (it can be in the trigger's own commit): keep both sides.
  const waiting = new Map<string, (at: number) => void>()
  const seen = new Map<string, number>()
  const follower = Effect.runFork(
    connection.client.Subscribe({ fromPosition: head + 1 }).pipe(
      Stream.runForEach((envelope) =>
        Effect.sync(() => {
          if (envelope.type !== "IterationStarted") return
          const resolve = waiting.get(envelope.stream)
          if (resolve === undefined) seen.set(envelope.stream, performance.now())
          else resolve(performance.now())
        })),
    ),
  )
  const results: Array<number> = []
  for (let i = 0; i < samples; i++) {
    const sent = performance.now()
    const task = await connection.call((c) => c.Trigger({ definitionId: "noop", input: null }))
    const early = seen.get(task.context.taskId)
    const startedAt = early !== undefined
      ? Promise.resolve(early)
      : new Promise<number>((resolve) => waiting.set(task.context.taskId, resolve))
    results.push((await startedAt) - sent)
    waiting.delete(task.context.taskId)
    seen.delete(task.context.taskId)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  await Effect.runPromise(Fiber.interrupt(follower))
  return results.sort((a, b) => a - b)
}

const iterationOverhead = async (connection: Connection, iterations: number) => {
  const started = performance.now()
  const task = await connection.call((c) => c.Trigger({ definitionId: "iterate", input: { left: iterations } }))
  for (;;) {
    const state = await connection.call((c) => c.GetTask({ taskId: task.context.taskId }))
    if (state.status === "done") break
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return (performance.now() - started) / iterations
}

const main = async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tlb-"))
  const daemon = await startDaemon(dataDir, 64)
  try {
    const socket = join(dataDir, "daemon.sock")
    const connections = await Promise.all(Array.from({ length: 4 }, () => connect(socket)))
    const rows: Array<[string, string, string]> = []

    const latencies = await latency(connections[0]!, quick ? 200 : 1000)
    rows.push(["trigger -> start latency p50 (idle)", `${percentile(latencies, 50).toFixed(2)} ms`, ""])
    rows.push(["trigger -> start latency p99 (idle)", `${percentile(latencies, 99).toFixed(2)} ms`, "target <= 5 ms"])

    const perIteration = await iterationOverhead(connections[0]!, 1000)
    rows.push(["per-iteration overhead (1,000-iteration task)", `${perIteration.toFixed(3)} ms`, ""])

    const runs: Array<number> = []
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const { totalMs } = await runNoops(connections, 10_000, 128)
      runs.push(10_000 / (totalMs / 1000))
    }
    runs.sort((a, b) => a - b)
    rows.push(["10,000 no-op tasks, concurrency 64 (median)", `${runs[Math.floor(runs.length / 2)]!.toFixed(0)} tasks/s`, "target >= 10,000"])

    const completed = (await connections[0]!.call((c) => c.Info())).counts["done"] ?? 0
    const target = quick ? 20_000 : 100_000
    if (completed < target) await runNoops(connections, target - completed, 128)
    rows.push([`daemon RSS after ${target.toLocaleString("en")} completed tasks`, `${rssMb(daemon.pid!).toFixed(0)} MB`, "target <= 200 MB"])

    await Promise.all(connections.map((c) => c.close()))
    console.log("\nTasklane daemon benchmark (real daemon, LevelDB synced writes, unix socket)\n")
    const width = Math.max(...rows.map((r) => r[0].length))
    for (const [name, value, note] of rows) console.log(`${name.padEnd(width)}  ${value.padStart(14)}  ${note}`)
  } finally {
    daemon.kill("SIGTERM")
    await new Promise((resolve) => daemon.on("exit", resolve))
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
