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
 * The cluster figures (Cluster.ts) start daemons with `store` (a PostgreSQL
 * URL) and extra `--tasks` folders, and pass `throughput` several daemons of
 * one database: triggers then go round-robin over them and every daemon's
 * Subscribe stream is watched.
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
  /** `--store`: a postgres:// URL; absent: LevelDB in the temp data dir. */
  readonly store?: string
  /** `--node-id`, for daemons of one cluster (only where this build knows the flag). */
  readonly nodeId?: string
  /** `--tasks` folders loaded beside bench.config.ts. */
  readonly tasks?: ReadonlyArray<string>
}): Promise<Daemon> => {
  const dataDir = mkdtempSync(join(tmpdir(), "tasklane-bench-daemon-"))
  const profile = options.cpuProfileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`]
  const extra = [
    ...(options.store === undefined ? [] : ["--store", options.store]),
    ...(options.nodeId === undefined ? [] : ["--node-id", options.nodeId]),
    ...(options.tasks ?? []).flatMap((dir) => ["--tasks", dir]),
  ]
  const child = spawn(process.execPath, [...profile, bin, "daemon", "--data-dir", dataDir, "--config", config, "--no-examples", "--concurrency", String(options.concurrency), "--isolation", options.isolation, ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
    cwd: root,
  })
  // stderr is still shown as it comes; it is also kept, so a refused start says why (e.g. a database in use).
  let errors = ""
  child.stderr!.on("data", (chunk) => {
    process.stderr.write(chunk)
    if (errors.length < 64 * 1024) errors += chunk
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
      child.once("exit", (code) => reject(new Error(`daemon exited with ${code}: ${out}${errors}`)))
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
const follow = async (connection: Connection, types: ReadonlyArray<string>, onEvent: (type: string, stream: string, at: number, eventAt: number) => void) => {
  const head = (await connection.call((c) => c.Info())).head
  const fiber = Effect.runFork(
    connection.client.Subscribe({ fromPosition: head + 1, types }).pipe(
      Stream.runForEach((envelope) => Effect.sync(() => onEvent(envelope.type, envelope.stream, performance.now(), envelope.at))),
    ),
  )
  return () => Effect.runPromise(Fiber.interrupt(fiber))
}

const finalTypes = ["TaskDone", "TaskFailed", "TaskAborted", "MaxIterationsReached"]

/**
 * Feeds the final events (a failure unless TaskDone) to `tracker`, from every
 * daemon of `daemons` (a cluster's daemons all serve the one log: the first
 * sight of a finish counts); returns how to stop.
 */
const observeFinishes = async (daemons: ReadonlyArray<Daemon>, tracker: Tracker) => {
  const stops = await Promise.all(daemons.map((daemon) => follow(daemon.connections[0]!, finalTypes, (type, stream, at) => tracker.seenAt(stream, at, type !== "TaskDone"))))
  return () => Promise.all(stops.map((stop) => stop()))
}

/** One daemon, or the daemons of one cluster that share the work. */
export type Daemons = Daemon | ReadonlyArray<Daemon>

const all = (daemons: Daemons): ReadonlyArray<Daemon> => ("pid" in daemons ? [daemons] : daemons)

/** CPU and peak RSS of every daemon: `daemon` alone, else `daemon 1`, `daemon 2`, ... (Usage.perProcess). */
const usageOf = (daemons: ReadonlyArray<Daemon>) =>
  startUsage(daemons.length === 1 ? { daemon: daemons[0]!.pid } : Object.fromEntries(daemons.map((d, i) => [`daemon ${i + 1}`, d.pid])))

/** Triggers `count` tasks of `definitionId` (round-robin over `daemons`) and waits until all have finished. */
export const throughput = async (daemons: Daemons, sizes: Sizes, definitionId: string, input: unknown, count: number, iterations: number): Promise<ThroughputRun> => {
  const group = all(daemons)
  const tracker = new Tracker()
  const unfollow = await observeFinishes(group, tracker)
  const usage = usageOf(group)
  const started = performance.now()
  await pump(count, sizes.inFlight, async (i, lane) => {
    const daemon = group[i % group.length]!
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
  const unfollow = await observeFinishes([daemon], tracker)
  const usage = usageOf([daemon])
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

/**
 * Trigger -> IterationStarted seen, one task at a time on an idle daemon,
 * `gapMs` apart. Also from the same send time to the IterationStarted
 * event's own `at` (the daemon's wall clock; same machine, so the same clock
 * as the send time's): the start as the daemon recorded it, without the
 * observer's delivery.
 */
export const idleLatency = async (daemon: Daemon, samples: number, gapMs = 2): Promise<LatencyRun> => {
  const tracker = new Tracker()
  const recorded = new Tracker()
  const unfollow = await follow(daemon.connections[0]!, ["IterationStarted"], (type, stream, at, eventAt) => {
    if (type !== "IterationStarted") return
    recorded.seenAt(stream, eventAt)
    tracker.seenAt(stream, at)
  })
  await sleep(200)
  const usage = startUsage({ daemon: daemon.pid })
  let stranded = 0
  for (let i = 0; i < samples; i++) {
    const sent = performance.now()
    const task = await daemon.connections[0]!.call((c) => c.Trigger({ definitionId: "noop", input: null }))
    tracker.sentAt(task.context.taskId, sent)
    recorded.sentAt(task.context.taskId, performance.timeOrigin + sent)
    if (!(await tracker.oneWithin(task.context.taskId, 10_000))) stranded++
    await sleep(gapMs)
  }
  const measured = usage()
  await unfollow()
  return { stranded, latency: summarize(tracker.latencies()), recordedLatency: summarize(recorded.latencies()), usage: measured }
}
