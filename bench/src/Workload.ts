/**
 * Workload: the three workloads both systems run, and the shape of one
 * system's results, so Tasklane.ts and BullMQ.ts measure the same thing:
 * (a) `noop` tasks, one iteration each; (b) `steps` tasks of 20 iterations;
 * (c) trigger -> start latency on an idle system, one task at a time;
 * (d) bulk: the no-op tasks of (a) sent in chunks of `bulkChunk` (Tasklane
 * TriggerMany, BullMQ addBulk), `bulkInFlight` chunks outstanding.
 *
 * Throughput workloads: the producer keeps `inFlight` triggers outstanding
 * until `count` are accepted; an observer stream on the same client side
 * (Tasklane: Subscribe; BullMQ: QueueEvents) sees each task finish. Throughput
 * = count / (first trigger sent .. last finish seen); latency = trigger sent
 * .. finish seen, per task. Idle latency: trigger sent .. the observer sees
 * the task start (Tasklane: IterationStarted; BullMQ: the `active` event),
 * then a 2 ms pause before the next sample.
 */
import { type Latency, median, summarize, type Usage } from "./Measure.ts"

export interface Sizes {
  readonly noopCount: number
  readonly stepsCount: number
  readonly steps: number
  readonly latencySamples: number
  readonly concurrency: number
  readonly inFlight: number
  readonly repeats: number
  /** Tasks per bulk request (d). */
  readonly bulkChunk: number
  /** Bulk requests outstanding (d). */
  readonly bulkInFlight: number
}

export const fullSizes: Sizes = { noopCount: 10_000, stepsCount: 1_000, steps: 20, latencySamples: 1_000, concurrency: 64, inFlight: 128, repeats: 3, bulkChunk: 1_000, bulkInFlight: 4 }
export const quickSizes: Sizes = { noopCount: 1_000, stepsCount: 100, steps: 20, latencySamples: 100, concurrency: 64, inFlight: 128, repeats: 1, bulkChunk: 100, bulkInFlight: 4 }

/** One run of a throughput workload. */
export interface ThroughputRun {
  readonly tasks: number
  readonly failed: number
  /** Tasks never seen to finish (nothing progressed for the stall timeout); 0 normally. */
  readonly stranded: number
  readonly seconds: number
  /** Tasks per second. */
  readonly throughput: number
  /** Iterations (steps) per second. */
  readonly iterationsPerSecond: number
  /** Trigger -> finish seen, ms. */
  readonly latency: Latency
  readonly usage: Usage
}

/** A throughput run's figures from what the workload counted, tracked and measured. */
export const throughputRun = (run: {
  readonly count: number
  readonly iterations: number
  readonly stranded: number
  readonly seconds: number
  readonly tracker: Tracker
  readonly usage: Usage
}): ThroughputRun => ({
  tasks: run.count,
  failed: run.tracker.failed,
  stranded: run.stranded,
  seconds: run.seconds,
  throughput: (run.count - run.stranded) / run.seconds,
  iterationsPerSecond: ((run.count - run.stranded) * run.iterations) / run.seconds,
  latency: summarize(run.tracker.latencies()),
  usage: run.usage,
})

/** The run with the median throughput, all its figures (so a table's figures come from one run). */
export const medianRun = (runs: ReadonlyArray<ThroughputRun>): ThroughputRun => {
  const m = median(runs.map((r) => r.throughput))
  return runs.find((r) => r.throughput === m)!
}

/** One run of the idle latency workload. */
export interface LatencyRun {
  /** Samples whose start was never seen within 10 s (left out of the latency). */
  readonly stranded: number
  readonly latency: Latency
  /** Tasklane only: trigger sent .. the IterationStarted event's own `at` (the daemon's record of the start). */
  readonly recordedLatency?: Latency
  readonly usage: Usage
}

/** Tracks trigger-sent and event-seen times per task id, whichever arrives first. */
export class Tracker {
  private readonly sent = new Map<string, number>()
  private readonly seen = new Map<string, number>()
  private waiters: Array<{ readonly count: number; readonly resolve: () => void }> = []
  private readonly idWaiters = new Map<string, (at: number) => void>()
  failed = 0

  /** The trigger for `id` was sent at `at` (performance.now()). */
  sentAt(id: string, at: number) {
    this.sent.set(id, at)
  }

  /** The observer saw `id` reach the awaited state at `at`. */
  seenAt(id: string, at: number, failed = false) {
    if (this.seen.has(id)) return
    this.seen.set(id, at)
    if (failed) this.failed++
    const waiter = this.idWaiters.get(id)
    if (waiter !== undefined) {
      this.idWaiters.delete(id)
      waiter(at)
    }
    this.waiters = this.waiters.filter((w) => {
      if (this.seen.size < w.count) return true
      w.resolve()
      return false
    })
  }

  /** Resolves once `count` tasks have been seen. */
  until(count: number): Promise<void> {
    if (this.seen.size >= count) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ count, resolve }))
  }

  /**
   * Resolves once `count` tasks have been seen, or with how many are still
   * missing once nothing new has been seen for `stallMs` (a system that
   * strands tasks must not hang the benchmark).
   */
  async untilOrStalled(count: number, stallMs: number): Promise<number> {
    for (;;) {
      const before = this.seen.size
      if (before >= count) return 0
      let timer: NodeJS.Timeout | undefined
      await Promise.race([this.until(count), new Promise<void>((resolve) => (timer = setTimeout(resolve, stallMs)))])
      clearTimeout(timer)
      if (this.seen.size >= count) return 0
      if (this.seen.size === before) return count - before
    }
  }

  /** Resolves once `id` has been seen; returns when. */
  one(id: string): Promise<number> {
    const at = this.seen.get(id)
    if (at !== undefined) return Promise.resolve(at)
    return new Promise((resolve) => this.idWaiters.set(id, resolve))
  }

  /** Like `one`, but false if `id` is not seen within `ms`. */
  async oneWithin(id: string, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const seen = await Promise.race([this.one(id).then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))])
    clearTimeout(timer)
    if (!seen) this.idWaiters.delete(id)
    return seen
  }

  /** Trigger -> seen, ms, for every task with both times. */
  latencies(): Array<number> {
    const out: Array<number> = []
    for (const [id, sent] of this.sent) {
      const seen = this.seen.get(id)
      if (seen !== undefined) out.push(seen - sent)
    }
    return out
  }

  lastSeen(): number {
    let last = 0
    for (const at of this.seen.values()) last = Math.max(last, at)
    return last
  }
}

/** Keeps `inFlight` calls of `trigger` outstanding until `count` have been made. */
export const pump = async (count: number, inFlight: number, trigger: (i: number, lane: number) => Promise<void>) => {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, async (_, lane) => {
    while (next < count) {
      const i = next++
      await trigger(i, lane)
    }
  }))
}
