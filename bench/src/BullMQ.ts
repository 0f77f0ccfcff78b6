/**
 * BullMQ side of the comparison: a private Redis (Redis.ts), a Worker with
 * concurrency 64 in its own process (BullWorker.ts), and the producer here:
 * a Queue that adds jobs with `inFlight` adds outstanding (or, in the bulk
 * workload, `addBulk` chunks), and a QueueEvents stream that observes
 * finishes (`completed`/`failed`) and starts (`active`). QueueEvents reads
 * the queue's whole event stream from Redis (XREAD has no filter: added,
 * waiting, active, completed, ...) and calls only the listeners given; the
 * stream is kept long enough for it not to miss any (queueOptions).
 * Default job options (completed jobs are kept, as Tasklane keeps its log).
 * Each workload run uses a fresh queue name. CPU and peak RSS are those of
 * the worker process plus redis-server (the producer, like Tasklane's
 * client, is not counted).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { Queue, QueueEvents } from "bullmq"
import * as Cleanup from "./Cleanup.ts"
import { startUsage, sleep, summarize, type Usage } from "./Measure.ts"
import * as Redis from "./Redis.ts"
import { pump, throughputRun, Tracker, type LatencyRun, type Sizes, type ThroughputRun } from "./Workload.ts"

export const guarantees = (fsync: boolean) =>
  fsync
    ? "Redis with appendonly yes, appendfsync always: every write command is in the AOF and fsync'd before Redis replies, so a completed add or step survives power loss."
    : "Redis as Debian ships it: appendonly no (no AOF), RDB snapshots only (save 3600 1 300 100 60 10000): nothing is fsync'd per write; a crash or power loss loses every job and step since the last snapshot (up to an hour)."

/** A Redis plus a BullMQ worker process. */
export interface Bull {
  readonly redis: Redis.RedisServer
  readonly workerPid: number
  readonly stop: () => Promise<void>
  /** Opens a Worker on `queue` in the worker process; the returned function closes it. */
  readonly work: (queue: string, mode: "noop" | "steps" | "requeue", sizes: Sizes) => Promise<() => Promise<void>>
}

const awaitMessage = (child: ChildProcess, type: string) =>
  new Promise<void>((resolve, reject) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return
      child.off("message", onMessage)
      child.off("exit", onExit)
      resolve()
    }
    const onExit = (code: number | null) => reject(new Error(`bullmq worker exited with ${code}`))
    child.on("message", onMessage)
    child.once("exit", onExit)
  })

export const start = async (options: { readonly fsync: boolean }): Promise<Bull> => {
  const redis = await Redis.start(options)
  const tsx = import.meta.resolve("tsx")
  const child = spawn(process.execPath, ["--import", tsx, join(import.meta.dirname, "BullWorker.ts")], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, REDIS_PORT: String(redis.port) },
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const stopWorker = Cleanup.register("bullmq worker", async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM")
      await exited
    }
  })
  await awaitMessage(child, "up")
  return {
    redis,
    workerPid: child.pid!,
    stop: async () => {
      await stopWorker()
      await redis.stop()
    },
    work: async (queue, mode, sizes) => {
      const ready = awaitMessage(child, "ready")
      child.send({ type: "start", queue, mode, concurrency: sizes.concurrency, steps: sizes.steps })
      await ready
      return async () => {
        const stopped = awaitMessage(child, "stopped")
        child.send({ type: "stop" })
        await stopped
      }
    },
  }
}

let queues = 0
const connectionOf = (bull: Bull) => ({ host: "127.0.0.1", port: bull.redis.port })

/**
 * The queue's event stream is kept long enough (BullMQ trims it to about
 * 10,000 entries by default) that the observer cannot miss a finish while it
 * lags behind a burst of adds: with addBulk it did, and the tasks it missed
 * looked stranded although BullMQ had completed them.
 */
const queueOptions = (bull: Bull) => ({ connection: connectionOf(bull), streams: { events: { maxLen: 1_000_000 } } })

const observe = async (bull: Bull, name: string, on: Partial<Record<"completed" | "failed" | "active", (jobId: string, at: number) => void>>) => {
  const events = new QueueEvents(name, { connection: connectionOf(bull) })
  for (const [event, f] of Object.entries(on)) events.on(event as "completed", ({ jobId }) => f(jobId, performance.now()))
  await events.waitUntilReady()
  // QueueEvents reads the stream from "$": let its first XREAD be issued before anything is added.
  await sleep(100)
  return events
}

const usageOf = (bull: Bull) => startUsage({ worker: bull.workerPid, "redis-server": bull.redis.pid })

/** A fresh queue with a tracker fed by its observer's final events (completed, failed) and a worker of `mode`. */
const openRun = async (bull: Bull, sizes: Sizes, prefix: string, mode: "noop" | "steps" | "requeue") => {
  const name = `bench-${prefix}-${++queues}`
  const tracker = new Tracker()
  const queue = new Queue(name, queueOptions(bull))
  await queue.waitUntilReady()
  const events = await observe(bull, name, {
    completed: (jobId, at) => tracker.seenAt(jobId, at),
    failed: (jobId, at) => tracker.seenAt(jobId, at, true),
  })
  const close = await bull.work(name, mode, sizes)
  return { tracker, queue, events, close }
}

/** Adds `count` jobs and waits until all have completed or failed. */
export const throughput = async (bull: Bull, sizes: Sizes, mode: "noop" | "steps" | "requeue", count: number, iterations: number): Promise<ThroughputRun> => {
  const { tracker, queue, events, close } = await openRun(bull, sizes, mode, mode)
  const usage = usageOf(bull)
  const started = performance.now()
  await pump(count, sizes.inFlight, async () => {
    const sent = performance.now()
    const job = await queue.add(mode, { step: 1 })
    tracker.sentAt(job.id!, sent)
  })
  return finish({ tracker, started, count, iterations, usage, close, events, queue })
}

/** Waits for the last finish, closes the worker, observer and queue; the run's figures. */
const finish = async (run: {
  readonly tracker: Tracker
  readonly started: number
  readonly count: number
  readonly iterations: number
  readonly usage: () => Usage
  readonly close: () => Promise<void>
  readonly events: QueueEvents
  readonly queue: Queue
}): Promise<ThroughputRun> => {
  const { tracker, count } = run
  const stranded = await tracker.untilOrStalled(count, 30_000)
  if (stranded > 0) console.error(`    ${stranded} of ${count} tasks never finished (no progress for 30 s): STRANDED`)
  const seconds = (tracker.lastSeen() - run.started) / 1000
  const measured = run.usage()
  await run.close()
  await run.events.close()
  await run.queue.close()
  return throughputRun({ count, iterations: run.iterations, stranded, seconds, tracker, usage: measured })
}

/** (d) `count` no-op jobs added with `addBulk` in chunks of `sizes.bulkChunk`, `sizes.bulkInFlight` chunks outstanding, until all have completed. */
export const bulk = async (bull: Bull, sizes: Sizes, count: number): Promise<ThroughputRun> => {
  const { tracker, queue, events, close } = await openRun(bull, sizes, "bulk", "noop")
  const usage = usageOf(bull)
  const started = performance.now()
  const chunks = Math.ceil(count / sizes.bulkChunk)
  await pump(chunks, sizes.bulkInFlight, async (i) => {
    const size = Math.min(sizes.bulkChunk, count - i * sizes.bulkChunk)
    const sent = performance.now()
    const jobs = await queue.addBulk(Array.from({ length: size }, () => ({ name: "noop", data: { step: 1 } })))
    for (const job of jobs) tracker.sentAt(job.id!, sent)
  })
  return finish({ tracker, started, count, iterations: 1, usage, close, events, queue })
}

/** Add -> `active` event seen, one job at a time on an idle queue. */
export const idleLatency = async (bull: Bull, sizes: Sizes): Promise<LatencyRun> => {
  const name = `bench-idle-${++queues}`
  const tracker = new Tracker()
  const queue = new Queue(name, queueOptions(bull))
  await queue.waitUntilReady()
  const events = await observe(bull, name, { active: (jobId, at) => tracker.seenAt(jobId, at) })
  const close = await bull.work(name, "noop", sizes)
  await sleep(200)
  const usage = usageOf(bull)
  let stranded = 0
  for (let i = 0; i < sizes.latencySamples; i++) {
    const sent = performance.now()
    const job = await queue.add("noop", { step: 1 })
    tracker.sentAt(job.id!, sent)
    if (!(await tracker.oneWithin(job.id!, 10_000))) stranded++
    await sleep(2)
  }
  const measured = usage()
  await close()
  await events.close()
  await queue.close()
  return { stranded, latency: summarize(tracker.latencies()), usage: measured }
}
