/**
 * Tasklane side of the comparison: starts the real daemon (the esbuild bundle
 * via apps/daemon/bin/tasklane.mjs, built by `node apps/daemon/build.mjs`) on
 * a temp data dir with apps/daemon/bench/bench.config.ts, concurrency 64 and the
 * given isolation (inline: task code on the daemon's loop, as BullMQ runs a
 * processor in its worker process; worker: on the daemon's thread pool, as
 * BullMQ's sandboxed processors run in child processes), and runs
 * the workloads of Workload.ts through the typed client over the unix socket
 * (4 connections, as apps/daemon/bench/daemon.bench.ts does); the bulk
 * workload sends TriggerMany chunks. Finishes and starts are observed on a
 * Subscribe stream that asks for just the event types counted (the final
 * events; IterationStarted for the idle latency), filtered on the daemon, as
 * BullMQ's observer is told only of `completed`/`failed` (`active`). Every event is in LevelDB,
 * written in group commits with sync: true (fsync) before it is acknowledged.
 *
 * `cpuProfileDir` starts the daemon's node with `--cpu-prof --cpu-prof-dir`
 * (Node 20 refuses --cpu-prof in NODE_OPTIONS, so it is a node flag), so V8
 * writes a .cpuprofile there when the daemon exits (see Profile.ts).
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { connect, type Connection } from "@tasklane/daemon/client"
import { Effect, Fiber, Stream } from "effect"
import * as Cleanup from "./Cleanup.ts"
import { startUsage, sleep, summarize, type Usage } from "./Measure.ts"
import { pump, throughputRun, Tracker, type LatencyRun, type Sizes, type ThroughputRun } from "./Workload.ts"

const root = join(import.meta.dirname, "..", "..")
const bin = join(root, "apps", "daemon", "bin", "tasklane.mjs")
const config = join(import.meta.dirname, "..", "..", "apps", "daemon", "bench", "bench.config.ts")

export const guarantees =
  "Every event (trigger, iteration start, continue, done) is in LevelDB, written in a group commit with sync: true (fsync) before the trigger is acknowledged or the next step runs: an acknowledged task survives power loss."

/** A running daemon with client connections. */
export interface Daemon {
  readonly pid: number
  readonly connections: ReadonlyArray<Connection>
  readonly stop: () => Promise<void>
}

export const startDaemon = async (options: {
  readonly concurrency: number
  /** Where task code runs (`--isolation`): the daemon's own loop, or its worker-thread pool. */
  readonly isolation: "inline" | "worker"
  readonly cpuProfileDir?: string
}): Promise<Daemon> => {
  const dataDir = mkdtempSync(join(tmpdir(), "tasklane-bench-daemon-"))
  const profile = options.cpuProfileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`]
  const child = spawn(process.execPath, [...profile, bin, "daemon", "--data-dir", dataDir, "--config", config, "--no-examples", "--concurrency", String(options.concurrency), "--isolation", options.isolation], {
    stdio: ["ignore", "pipe", "inherit"],
    cwd: root,
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const connections: Array<Connection> = []
  const stop = Cleanup.register(`tasklane daemon ${dataDir}`, async () => {
    await Promise.all(connections.map((c) => c.close().catch(() => undefined)))
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM")
      const killer = setTimeout(() => child.kill("SIGKILL"), 20_000)
      await exited
      clearTimeout(killer)
    }
    rmSync(dataDir, { recursive: true, force: true })
  })
  try {
    await new Promise<void>((resolve, reject) => {
      let out = ""
      child.stdout!.on("data", (chunk) => {
        out += chunk
        if (out.includes(" serving ")) resolve()
      })
      child.once("exit", (code) => reject(new Error(`daemon exited with ${code}: ${out}`)))
    })
    child.stdout!.resume()
    const socket = join(dataDir, "daemon.sock")
    for (let i = 0; i < 4; i++) connections.push(await connect(socket))
    return { pid: child.pid!, connections, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Follows the daemon's event log from its current head, events of `types` only, feeding `onEvent`. */
const follow = async (connection: Connection, types: ReadonlyArray<string>, onEvent: (type: string, stream: string, at: number) => void) => {
  const head = (await connection.call((c) => c.Info())).head
  const fiber = Effect.runFork(
    connection.client.Subscribe({ fromPosition: head + 1, types }).pipe(
      Stream.runForEach((envelope) => Effect.sync(() => onEvent(envelope.type, envelope.stream, performance.now()))),
    ),
  )
  return () => Effect.runPromise(Fiber.interrupt(fiber))
}

const finalTypes = ["TaskDone", "TaskFailed", "TaskAborted", "MaxIterationsReached"]

/** Feeds the final events (a failure unless TaskDone) to `tracker`; returns how to stop. */
const observeFinishes = (daemon: Daemon, tracker: Tracker) =>
  follow(daemon.connections[0]!, finalTypes, (type, stream, at) => tracker.seenAt(stream, at, type !== "TaskDone"))

/** Triggers `count` tasks of `definitionId` and waits until all have finished. */
export const throughput = async (daemon: Daemon, sizes: Sizes, definitionId: string, input: unknown, count: number, iterations: number): Promise<ThroughputRun> => {
  const tracker = new Tracker()
  const unfollow = await observeFinishes(daemon, tracker)
  const usage = startUsage({ daemon: daemon.pid })
  const started = performance.now()
  await pump(count, sizes.inFlight, async (_, lane) => {
    const sent = performance.now()
    const task = await daemon.connections[lane % daemon.connections.length]!.call((c) => c.Trigger({ definitionId, input }))
    tracker.sentAt(task.context.taskId, sent)
  })
  return finish(tracker, started, count, iterations, usage, unfollow)
}

/** Waits for the last finish; the run's figures. */
const finish = async (tracker: Tracker, started: number, count: number, iterations: number, usage: () => Usage, unfollow: () => Promise<unknown>) => {
  const stranded = await tracker.untilOrStalled(count, 30_000)
  if (stranded > 0) console.error(`    ${stranded} of ${count} tasks never finished (no progress for 30 s): STRANDED`)
  const seconds = (tracker.lastSeen() - started) / 1000
  const measured = usage()
  await unfollow()
  return throughputRun({ count, iterations, stranded, seconds, tracker, usage: measured })
}

/** (d) `count` no-op tasks in TriggerMany chunks of `sizes.bulkChunk`, `sizes.bulkInFlight` chunks outstanding, until all have finished. */
export const bulk = async (daemon: Daemon, sizes: Sizes, definitionId: string, input: unknown, count: number): Promise<ThroughputRun> => {
  const tracker = new Tracker()
  const unfollow = await observeFinishes(daemon, tracker)
  const usage = startUsage({ daemon: daemon.pid })
  const started = performance.now()
  const chunks = Math.ceil(count / sizes.bulkChunk)
  await pump(chunks, sizes.bulkInFlight, async (i, lane) => {
    const size = Math.min(sizes.bulkChunk, count - i * sizes.bulkChunk)
    const triggers = Array.from({ length: size }, () => ({ definitionId, input }))
    const sent = performance.now()
    const outcomes = await daemon.connections[lane % daemon.connections.length]!.call((c) => c.TriggerMany({ triggers }))
    for (const outcome of outcomes) {
      if (outcome._tag !== "Triggered") throw new Error(`TriggerMany refused a bench task: ${outcome.error.message}`)
      tracker.sentAt(outcome.taskId, sent)
    }
  })
  return finish(tracker, started, count, 1, usage, unfollow)
}

/** Trigger -> IterationStarted seen, one task at a time on an idle daemon. */
export const idleLatency = async (daemon: Daemon, samples: number): Promise<LatencyRun> => {
  const tracker = new Tracker()
  const unfollow = await follow(daemon.connections[0]!, ["IterationStarted"], (type, stream, at) => {
    if (type === "IterationStarted") tracker.seenAt(stream, at)
  })
  await sleep(200)
  const usage = startUsage({ daemon: daemon.pid })
  let stranded = 0
  for (let i = 0; i < samples; i++) {
    const sent = performance.now()
    const task = await daemon.connections[0]!.call((c) => c.Trigger({ definitionId: "noop", input: null }))
    tracker.sentAt(task.context.taskId, sent)
    if (!(await tracker.oneWithin(task.context.taskId, 10_000))) stranded++
    await sleep(2)
  }
  const measured = usage()
  await unfollow()
  return { stranded, latency: summarize(tracker.latencies()), usage: measured }
}
