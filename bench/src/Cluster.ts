/**
 * Cluster: issue 14's daemon figures, side by side: one daemon on LevelDB,
 * one on PostgreSQL, three on one PostgreSQL database (cluster mode).
 *
 * 1. No-op throughput: workload (a)'s `noop` task and measuring code
 *    (Tasklane.throughput), concurrency 64 per daemon, the triggers spread
 *    round-robin over the daemons and every daemon observed (the first sight
 *    of a finish counts); tasks/s until all are final, the daemons' CPU
 *    summed per task, the largest daemon's peak RSS.
 * 2. I/O-bound: `sleep100` (bench/src/tasks/Sleep100.ts), concurrency 8 per
 *    daemon, 1 PostgreSQL daemon vs 3; enough tasks per daemon to last at
 *    least 5 s; the ratio of the two throughputs (target >= 2.5x).
 * 3. Idle trigger -> start latency (Tasklane.idleLatency) on PostgreSQL, and
 *    on LevelDB beside it for reference, one task at a time with a gap.
 *
 * The throughput workloads are repeated, interleaved across setups, and the
 * run with the median throughput is shown. A private PostgreSQL cluster
 * (packages/core/test/support/Postgres.ts: Debian's server, fsync on), one
 * fresh database per setup; without PostgreSQL's binaries the section is
 * skipped with the reason. A setup whose daemons cannot all start is
 * reported as not run, with the reason, and the rest still runs.
 *
 * Lifecycle: `run` starts PostgreSQL, then the no-op daemons (idle latency,
 * warm-up, no-op repeats), stops them, then the I/O daemons, stops them and
 * PostgreSQL; a failure or Ctrl-C leaves nothing running (Cleanup.ts).
 */
import { join } from "node:path"
import * as Postgres from "../../packages/core/test/support/Postgres.ts"
import { round } from "./Measure.ts"
import * as Report from "./Report.ts"
import * as Tasklane from "./Tasklane.ts"
import { fullSizes, type LatencyRun, medianRun, type Sizes, type ThroughputRun } from "./Workload.ts"

const tasksDir = join(import.meta.dirname, "tasks")

export interface ClusterSizes {
  /** Half of workload (a)'s count: about a second per run on a quiet machine for one LevelDB daemon, a few for PostgreSQL. */
  readonly noopCount: number
  /** Concurrency of each daemon in the no-op workload (as workload (a)). */
  readonly noopConcurrency: number
  /** `sleep100` tasks per daemon: at most 8 x 10 tasks/s per daemon, so 400 last at least 5 s. */
  readonly ioTasksPerDaemon: number
  readonly ioConcurrency: number
  readonly latencySamples: number
  readonly latencyGapMs: number
  readonly repeats: number
}

export const fullClusterSizes: ClusterSizes = { noopCount: 5_000, noopConcurrency: 64, ioTasksPerDaemon: 400, ioConcurrency: 8, latencySamples: 200, latencyGapMs: 20, repeats: 3 }
export const quickClusterSizes: ClusterSizes = { noopCount: 500, noopConcurrency: 64, ioTasksPerDaemon: 80, ioConcurrency: 8, latencySamples: 50, latencyGapMs: 20, repeats: 1 }

interface Setup {
  readonly name: string
  readonly store: "leveldb" | "postgres"
  readonly daemons: number
}

const levelOne: Setup = { name: "1 daemon, LevelDB", store: "leveldb", daemons: 1 }
const pgOne: Setup = { name: "1 daemon, PostgreSQL", store: "postgres", daemons: 1 }
const pgThree: Setup = { name: "3 daemons, PostgreSQL", store: "postgres", daemons: 3 }
const setups = [levelOne, pgOne, pgThree]

/** One setup's runs of a workload, or why it did not run. */
export interface Outcome<A> {
  readonly setup: string
  readonly runs: ReadonlyArray<A>
  readonly skipped?: string
}

export interface ClusterResult {
  readonly sizes: ClusterSizes
  readonly noop: ReadonlyArray<Outcome<ThroughputRun>>
  readonly io: ReadonlyArray<Outcome<ThroughputRun>>
  readonly idle: ReadonlyArray<Outcome<LatencyRun>>
  /** I/O-bound throughput, 3 daemons over 1; absent while either did not run. */
  readonly ioRatio?: number
  readonly seconds: number
  readonly markdown: string
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0]!

/** Why a setup did not start, as one line. */
const whyNot = (error: unknown): string => `not run: ${firstLine(error)}`

/** The daemons of `setup`, started one after another (the first migrates a fresh database), on a fresh database for PostgreSQL. */
const startSetup = async (setup: Setup, concurrency: number, pg: Postgres.Cluster): Promise<ReadonlyArray<Tasklane.Daemon>> => {
  const store = setup.store === "postgres" ? await pg.createDatabase() : undefined
  const daemons: Array<Tasklane.Daemon> = []
  try {
    for (let i = 1; i <= setup.daemons; i++) {
      const nodeId = setup.daemons > 1 ? `bench-${i}` : undefined
      daemons.push(await Tasklane.startDaemon({ concurrency, isolation: "inline", tasks: [tasksDir], ...(store === undefined ? {} : { store }), ...(nodeId === undefined ? {} : { nodeId }) }))
    }
    return daemons
  } catch (error) {
    await Promise.all(daemons.map((d) => d.stop()))
    throw error
  }
}

/** Starts each setup; the ones that could not start carry the reason. */
const startAll = async (list: ReadonlyArray<Setup>, concurrency: number, pg: Postgres.Cluster, log: (message: string) => void) => {
  const started: Array<{ readonly setup: Setup; readonly daemons?: ReadonlyArray<Tasklane.Daemon>; readonly skipped?: string }> = []
  for (const setup of list) {
    log(`starting ${setup.name} (concurrency ${concurrency} per daemon)`)
    try {
      started.push({ setup, daemons: await startSetup(setup, concurrency, pg) })
    } catch (error) {
      const skipped = whyNot(error)
      log(`    ${setup.name}: ${skipped}`)
      started.push({ setup, skipped })
    }
  }
  return started
}

const stopAll = (started: ReadonlyArray<{ readonly daemons?: ReadonlyArray<Tasklane.Daemon> }>) =>
  Promise.all(started.flatMap((s) => s.daemons ?? []).map((d) => d.stop()))

/** Workload sizes in the shape Tasklane.throughput takes (only `inFlight` is read there: workload (a)'s 128 triggers outstanding). */
const pumpSizes: Sizes = fullSizes

/** Runs the three workloads; the section's figures and its markdown. */
export const run = async (quick: boolean, log: (message: string) => void): Promise<ClusterResult> => {
  const sizes = quick ? quickClusterSizes : fullClusterSizes
  const t0 = performance.now()
  const pg = await Postgres.start()
  try {
    const n = (value: number) => value.toLocaleString("en-US")

    // 1 and 3: no-op throughput and idle latency, on the same daemons (latency first, while they are fresh and idle).
    const noopDaemons = await startAll(setups, sizes.noopConcurrency, pg, log)
    const noop = new Map(noopDaemons.map((s) => [s.setup, [] as Array<ThroughputRun>]))
    const idle: Array<Outcome<LatencyRun>> = []
    try {
      for (const s of noopDaemons.filter((x) => x.setup.daemons === 1)) {
        if (s.daemons === undefined) {
          idle.push({ setup: s.setup.name, runs: [], skipped: s.skipped! })
          continue
        }
        log(`idle trigger -> start, ${s.setup.name}: ${sizes.latencySamples} samples, ${sizes.latencyGapMs} ms apart`)
        const l = await Tasklane.idleLatency(s.daemons[0]!, sizes.latencySamples, sizes.latencyGapMs)
        idle.push({ setup: s.setup.name, runs: [l] })
        log(`    recorded start: p50 ${l.recordedLatency!.p50} ms, p99 ${l.recordedLatency!.p99} ms; seen by the client: p50 ${l.latency.p50} ms, p99 ${l.latency.p99} ms${l.stranded > 0 ? `, ${l.stranded} never started: STRANDED` : ""}`)
      }
      const warmup = Math.round(sizes.noopCount / 20)
      log(`warm-up (not recorded): ${warmup} no-op tasks on each setup`)
      for (const s of noopDaemons) if (s.daemons !== undefined) await Tasklane.throughput(s.daemons, pumpSizes, "noop", null, warmup, 1)
      for (let r = 1; r <= sizes.repeats; r++) {
        for (const s of noopDaemons) {
          if (s.daemons === undefined) continue
          log(`no-op, ${s.setup.name}: ${n(sizes.noopCount)} tasks (run ${r}/${sizes.repeats})`)
          const a = await Tasklane.throughput(s.daemons, pumpSizes, "noop", null, sizes.noopCount, 1)
          noop.get(s.setup)!.push(a)
          log(`    ${n(Math.round(a.throughput))} tasks/s, daemon cpu ${a.usage.cpuSeconds} s, peak rss ${a.usage.peakRssMb} MB (all daemons)${a.stranded > 0 ? `, ${a.stranded} STRANDED` : ""}${a.failed > 0 ? `, ${a.failed} FAILED` : ""}`)
        }
      }
    } finally {
      await stopAll(noopDaemons)
    }

    // 2: I/O-bound, 1 PostgreSQL daemon vs 3.
    const ioDaemons = await startAll([pgOne, pgThree], sizes.ioConcurrency, pg, log)
    const io = new Map(ioDaemons.map((s) => [s.setup, [] as Array<ThroughputRun>]))
    try {
      for (const s of ioDaemons) if (s.daemons !== undefined) await Tasklane.throughput(s.daemons, pumpSizes, "sleep100", null, sizes.ioConcurrency * s.daemons.length, 1)
      for (let r = 1; r <= sizes.repeats; r++) {
        for (const s of ioDaemons) {
          if (s.daemons === undefined) continue
          const count = sizes.ioTasksPerDaemon * s.daemons.length
          log(`I/O-bound (sleep100), ${s.setup.name}: ${n(count)} tasks (run ${r}/${sizes.repeats})`)
          const b = await Tasklane.throughput(s.daemons, pumpSizes, "sleep100", null, count, 1)
          io.get(s.setup)!.push(b)
          log(`    ${n(round(b.throughput, 1))} tasks/s over ${round(b.seconds, 1)} s, daemon cpu ${b.usage.cpuSeconds} s${b.stranded > 0 ? `, ${b.stranded} STRANDED` : ""}${b.failed > 0 ? `, ${b.failed} FAILED` : ""}`)
        }
      }
    } finally {
      await stopAll(ioDaemons)
    }

    const outcomes = (started: typeof noopDaemons, runs: Map<Setup, Array<ThroughputRun>>): Array<Outcome<ThroughputRun>> =>
      started.map((s) => ({ setup: s.setup.name, runs: runs.get(s.setup)!, ...(s.skipped === undefined ? {} : { skipped: s.skipped }) }))
    const noopOutcomes = outcomes(noopDaemons, noop)
    const ioOutcomes = outcomes(ioDaemons, io)
    const [ioOne, ioThree] = ioOutcomes.map((o) => (o.runs.length > 0 ? medianRun(o.runs).throughput : undefined))
    const ioRatio = ioOne !== undefined && ioThree !== undefined ? ioThree / ioOne : undefined
    const seconds = (performance.now() - t0) / 1000
    const markdown = report(sizes, noopOutcomes, ioOutcomes, idle, ioRatio, seconds)
    return { sizes, noop: noopOutcomes, io: ioOutcomes, idle, ...(ioRatio === undefined ? {} : { ioRatio }), seconds, markdown }
  } finally {
    await pg.stop()
  }
}

/** The section's markdown: one column per setup; "skipped" where a setup did not run, "-" where a workload does not apply. */
const report = (
  sizes: ClusterSizes,
  noop: ReadonlyArray<Outcome<ThroughputRun>>,
  io: ReadonlyArray<Outcome<ThroughputRun>>,
  idle: ReadonlyArray<Outcome<LatencyRun>>,
  ioRatio: number | undefined,
  seconds: number,
): string => {
  const fmt = (value: number, digits: number) => value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
  /** A row: `value` of the setup's median run, per setup column. */
  const row = <A>(measure: string, outcomes: ReadonlyArray<Outcome<A>>, pick: (runs: ReadonlyArray<A>) => number, digits: number, note = ""): Array<string> => [
    measure,
    ...setups.map((setup) => {
      const o = outcomes.find((x) => x.setup === setup.name)
      if (o === undefined) return "-"
      if (o.runs.length === 0) return "skipped"
      return fmt(pick(o.runs), digits)
    }),
    note,
  ]
  const median = (runs: ReadonlyArray<ThroughputRun>) => medianRun(runs)
  const latency = (runs: ReadonlyArray<LatencyRun>) => runs[0]!
  const rows = [
    row(`no-op: ${sizes.noopCount.toLocaleString("en-US")} tasks, tasks/s`, noop, (r) => median(r).throughput, 0, "until every task is final"),
    row("no-op: daemon CPU per task, ms", noop, (r) => (median(r).usage.cpuSeconds * 1000) / median(r).tasks, 3, "all daemons summed"),
    row("no-op: peak RSS per daemon, MB", noop, (r) => Math.max(...Object.values(median(r).usage.perProcess).map((p) => p.peakRssMb)), 0, "the largest daemon's"),
    row("no-op: trigger -> done p99, ms", noop, (r) => median(r).latency.p99, 1),
    row(`I/O-bound (sleep100, concurrency ${sizes.ioConcurrency} per daemon), tasks/s`, io, (r) => median(r).throughput, 1, `${sizes.ioTasksPerDaemon} tasks per daemon`),
    [`I/O-bound: 3 daemons / 1 daemon`, "-", "-", ioRatio === undefined ? "skipped" : `${fmt(ioRatio, 2)}x`, "target >= 2.5x"],
    row("idle trigger -> start p50, ms (recorded start)", idle, (r) => latency(r).recordedLatency!.p50, 1),
    row("idle trigger -> start p99, ms (recorded start)", idle, (r) => latency(r).recordedLatency!.p99, 1, "target on PostgreSQL <= 50 ms"),
    row("idle trigger -> start p50, ms (seen by the client)", idle, (r) => latency(r).latency.p50, 1),
    row("idle trigger -> start p99, ms (seen by the client)", idle, (r) => latency(r).latency.p99, 1),
  ]
  // One line per setup: a refused setup is refused in each workload for the same reason.
  const skipped = [...new Map([...noop, ...io].filter((o) => o.skipped !== undefined).map((o) => [o.setup, `- ${o.setup}: ${o.skipped}`])).values()]
  const problems = [...noop, ...io].flatMap((o) => o.runs.filter((r) => r.stranded > 0 || r.failed > 0).map((r) => `- ${o.setup}: ${r.stranded} of ${r.tasks} tasks never finished, ${r.failed} failed, in one run`))
  const idleProblems = idle.flatMap((o) => o.runs.filter((r) => r.stranded > 0).map((r) => `- ${o.setup}: ${r.stranded} idle samples never started within 10 s (left out)`))
  return [
    Report.table(["measure", ...setups.map((s) => s.name), "note"], rows),
    ...(skipped.length > 0 ? ["", "**Skipped:**", "", ...skipped] : []),
    ...(problems.length + idleProblems.length > 0 ? ["", "**Stranded or failed tasks** (a correctness problem, not a speed figure):", "", ...problems, ...idleProblems] : []),
    "",
    `Throughput: ${sizes.repeats} run(s) per setup, interleaved across setups; the run with the median throughput is shown. ` +
      `Triggers go round-robin over a setup's daemons (${pumpSizes.inFlight} outstanding, as workload (a)); a task counts when the first of the daemons' Subscribe streams shows its final event. ` +
      `CPU and peak RSS from /proc (utime+stime, VmHWM reset per run). Task code inline (--isolation inline). ` +
      `Idle latency: one run of ${sizes.latencySamples} samples, ${sizes.latencyGapMs} ms apart; "recorded start" = the IterationStarted event's own \`at\` (the daemon's stamp, whole ms, taken before that event is committed) minus the wall-clock time the client sent the trigger (same machine clock); "seen by the client" = until the client's Subscribe stream delivered that event (its commit and delivery included). ` +
      `PostgreSQL: a private Debian PostgreSQL cluster, fsync on, a fresh database per setup. Section run time ${fmt(seconds, 0)} s.`,
  ].join("\n")
}
