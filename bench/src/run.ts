/**
 * `pnpm bench`: the whole benchmark in one command.
 *
 * 1. builds the daemon bundle (node apps/daemon/build.mjs);
 * 2. runs the earlier issues' benchmarks (store appends + replay fold on LevelDB;
 *    store appends on PostgreSQL, where its server binaries are installed; the
 *    daemon bench) and keeps their tables (Existing.ts);
 *    then the cluster figures of issue 14: no-op and I/O-bound throughput
 *    and idle trigger -> start latency, 1 daemon on LevelDB, 1 on
 *    PostgreSQL, 3 on one PostgreSQL database (Cluster.ts);
 * 3. compares Tasklane with BullMQ on Redis, same machine, same run:
 *    Tasklane daemon (task code inline, and on its worker threads), BullMQ on
 *    Redis as Debian ships it, and BullMQ on Redis
 *    with appendfsync always; workloads (a) no-op tasks, (b) 20-step tasks
 *    (and (b'), BullMQ's re-queue step variant, the semantic match of a
 *    Tasklane step, as a full row beside Tasklane's (b)), (c) idle trigger
 *    -> start latency, (d) the no-op tasks of (a) in bulk (Tasklane
 *    TriggerMany vs BullMQ addBulk, same chunks) (Workload.ts); the
 *    throughput workloads are repeated and interleaved across systems, the
 *    median run is reported; CPU is reported for the server side and for
 *    the client side (this process) apart;
 * 4. profiles the daemon under workload (a) with --cpu-prof (a separate run)
 *    and ranks the top 10 functions by self time (Profile.ts);
 * 5. writes bench/results/<date>.json, .md, .svg and .png (Report.ts).
 *
 * Flags: --quick (1/10 sizes, one repeat, daemon bench --quick: a smoke run),
 * --skip-existing (skip step 2's earlier benchmarks), --skip-cluster (skip
 * step 2's cluster figures), --only-cluster (build, run the cluster figures,
 * print their table; nothing else runs and nothing is written: not a record).
 */
import { spawnSync } from "node:child_process"
import { mkdirSync } from "node:fs"
import { cpus, release, totalmem } from "node:os"
import { join } from "node:path"
import * as BullMQ from "./BullMQ.ts"
import * as Cleanup from "./Cleanup.ts"
import * as Cluster from "./Cluster.ts"
import * as Existing from "./Existing.ts"
import { round } from "./Measure.ts"
import * as Profile from "./Profile.ts"
import * as Report from "./Report.ts"
import * as Tasklane from "./Tasklane.ts"
import { fullSizes, medianRun, quickSizes, type LatencyRun, type ThroughputRun } from "./Workload.ts"

const quick = process.argv.includes("--quick")
const skipExisting = process.argv.includes("--skip-existing")
const skipCluster = process.argv.includes("--skip-cluster")
const onlyCluster = process.argv.includes("--only-cluster")
const sizes = quick ? quickSizes : fullSizes
const root = join(import.meta.dirname, "..", "..")
const startedAt = new Date()
const date = startedAt.toISOString().slice(0, 10)
const t0 = performance.now()
const log = (message: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${message}`)
const n = (value: number) => value.toLocaleString("en-US")

/** The cluster figures, or why they did not run (no PostgreSQL binaries, ...): a line in the report, never a failed bench. */
const clusterFigures = async (): Promise<Cluster.ClusterResult | string> => {
  log(`cluster figures (bench/src/Cluster.ts${quick ? ", quick sizes" : ""}): 1 daemon on LevelDB, 1 on PostgreSQL, 3 on PostgreSQL`)
  const result = await Cluster.run(quick, log).catch((error: unknown) => `not run: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`)
  if (typeof result === "string") log(`    ${result}`)
  return result
}

const clusterSection = (cluster: Cluster.ClusterResult | string): Array<string> =>
  ["", "## Cluster figures (issue 14): 1 daemon on LevelDB, 1 on PostgreSQL, 3 on one PostgreSQL database (bench/src/Cluster.ts)", "", typeof cluster === "string" ? cluster : cluster.markdown]

const main = async () => {
  log(`Tasklane vs BullMQ benchmark${quick ? " (--quick: 1/10 sizes, one repeat)" : ""}`)
  log("building the daemon bundle (node apps/daemon/build.mjs)")
  const build = spawnSync(process.execPath, [join(root, "apps", "daemon", "build.mjs")], { stdio: "inherit" })
  if (build.status !== 0) throw new Error("daemon build failed")
  if (onlyCluster) {
    console.log(clusterSection(await clusterFigures()).join("\n"))
    return
  }

  let store: Existing.ExistingResult | undefined
  let pgStore: Existing.ExistingResult | string | undefined
  let daemonBench: Existing.ExistingResult | undefined
  if (!skipExisting) {
    log("store append + replay fold bench (packages/core/bench/store.bench.ts)")
    store = await Existing.storeBench()
    log("store append bench on PostgreSQL (packages/core/bench/pg.bench.ts)")
    pgStore = await Existing.pgStoreBench().catch((error: unknown) => `not run: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`)
    log(`daemon bench (apps/daemon/bench/daemon.bench.ts${quick ? " --quick" : ""})`)
    daemonBench = await Existing.daemonBench(quick)
  }
  const cluster = skipCluster ? undefined : await clusterFigures()

  log("starting the Tasklane daemon, Redis (Debian defaults) + BullMQ worker, Redis (appendfsync always) + BullMQ worker")
  const tasklane = await Tasklane.startDaemon({ concurrency: sizes.concurrency, isolation: "inline" })
  const tasklaneWorker = await Tasklane.startDaemon({ concurrency: sizes.concurrency, isolation: "worker" })
  const bull = await BullMQ.start({ fsync: false })
  const bullFsync = await BullMQ.start({ fsync: true })

  interface System {
    readonly name: string
    readonly guarantees: string
    readonly noop: () => Promise<ThroughputRun>
    readonly steps: () => Promise<ThroughputRun>
    readonly idle: () => Promise<LatencyRun>
    readonly bulk: () => Promise<ThroughputRun>
    /** (b'): BullMQ's re-queue variant; Tasklane's own steps are already rescheduled each step, so its (b) is its (b'). */
    readonly requeue?: () => Promise<ThroughputRun>
    readonly details: Record<string, unknown>
    readonly runs: { noop: Array<ThroughputRun>; steps: Array<ThroughputRun>; bulk: Array<ThroughputRun>; requeue: Array<ThroughputRun>; idle?: LatencyRun }
  }
  const bullSystem = (name: string, b: BullMQ.Bull, fsync: boolean): System => ({
    name,
    guarantees: BullMQ.guarantees(fsync),
    noop: () => BullMQ.throughput(b, sizes, "noop", sizes.noopCount, 1),
    steps: () => BullMQ.throughput(b, sizes, "steps", sizes.stepsCount, sizes.steps),
    idle: () => BullMQ.idleLatency(b, sizes),
    bulk: () => BullMQ.bulk(b, sizes, sizes.noopCount),
    requeue: () => BullMQ.throughput(b, sizes, "requeue", sizes.stepsCount, sizes.steps),
    details: { redisVersion: b.redis.version, redisPersistence: b.redis.persistence, cpuAndRss: "BullMQ worker process + redis-server" },
    runs: { noop: [], steps: [], bulk: [], requeue: [] },
  })
  const tasklaneSystem = (name: string, daemon: Tasklane.Daemon, isolation: string): System => ({
    name,
    guarantees: Tasklane.guarantees,
    noop: () => Tasklane.throughput(daemon, sizes, "noop", null, sizes.noopCount, 1),
    steps: () => Tasklane.throughput(daemon, sizes, "steps20", { step: 1 }, sizes.stepsCount, sizes.steps),
    idle: () => Tasklane.idleLatency(daemon, sizes.latencySamples),
    bulk: () => Tasklane.bulk(daemon, sizes, "noop", null, sizes.noopCount),
    details: { cpuAndRss: "daemon process (its worker threads included)", concurrency: sizes.concurrency, isolation },
    runs: { noop: [], steps: [], bulk: [], requeue: [] },
  })
  const systems: Array<System> = [
    tasklaneSystem("Tasklane", tasklane, "inline"),
    tasklaneSystem("Tasklane (worker)", tasklaneWorker, "worker"),
    bullSystem("BullMQ", bull, false),
    bullSystem("BullMQ (fsync)", bullFsync, true),
  ]

  try {
    const warmup = { ...sizes, noopCount: Math.round(sizes.noopCount / 20), stepsCount: Math.round(sizes.stepsCount / 20) }
    log(`warm-up (not recorded): ${warmup.noopCount} no-op and ${warmup.stepsCount} 20-step tasks on each system`)
    for (const daemon of [tasklane, tasklaneWorker]) {
      await Tasklane.throughput(daemon, warmup, "noop", null, warmup.noopCount, 1)
      await Tasklane.throughput(daemon, warmup, "steps20", { step: 1 }, warmup.stepsCount, sizes.steps)
    }
    for (const bb of [bull, bullFsync]) {
      await BullMQ.throughput(bb, warmup, "noop", warmup.noopCount, 1)
      await BullMQ.throughput(bb, warmup, "steps", warmup.stepsCount, sizes.steps)
    }
    for (const s of systems) {
      log(`(c) ${s.name}: trigger -> start latency, ${n(sizes.latencySamples)} samples, idle`)
      s.runs.idle = await s.idle()
      log(`    p50 ${s.runs.idle.latency.p50} ms, p99 ${s.runs.idle.latency.p99} ms${s.runs.idle.stranded > 0 ? `, ${s.runs.idle.stranded} samples never started: STRANDED` : ""}`)
    }
    for (let r = 1; r <= sizes.repeats; r++) {
      for (const s of systems) {
        log(`(a) ${s.name}: ${n(sizes.noopCount)} no-op tasks, concurrency ${sizes.concurrency} (run ${r}/${sizes.repeats})`)
        const a = await s.noop()
        s.runs.noop.push(a)
        log(`    ${n(Math.round(a.throughput))} tasks/s, p99 ${a.latency.p99} ms, cpu ${a.usage.cpuSeconds} s, client cpu ${a.usage.clientCpuSeconds} s, peak rss ${a.usage.peakRssMb} MB${a.failed > 0 ? `, ${a.failed} FAILED` : ""}`)
      }
      for (const s of systems) {
        log(`(b) ${s.name}: ${n(sizes.stepsCount)} tasks x ${sizes.steps} steps (run ${r}/${sizes.repeats})`)
        const b = await s.steps()
        s.runs.steps.push(b)
        log(`    ${n(Math.round(b.throughput))} tasks/s (${n(Math.round(b.iterationsPerSecond))} steps/s), p99 ${b.latency.p99} ms, cpu ${b.usage.cpuSeconds} s, client cpu ${b.usage.clientCpuSeconds} s${b.failed > 0 ? `, ${b.failed} FAILED` : ""}`)
      }
      for (const s of systems) {
        if (s.requeue === undefined) continue
        log(`(b') ${s.name}: re-queue step variant (updateData + moveToWait + WaitingError), ${n(sizes.stepsCount)} x ${sizes.steps} (run ${r}/${sizes.repeats})`)
        const b2 = await s.requeue()
        s.runs.requeue.push(b2)
        log(`    ${n(Math.round(b2.iterationsPerSecond))} steps/s, cpu ${b2.usage.cpuSeconds} s, client cpu ${b2.usage.clientCpuSeconds} s${b2.failed > 0 ? `, ${b2.failed} FAILED` : ""}`)
      }
      for (const s of systems) {
        log(`(d) ${s.name}: ${n(sizes.noopCount)} no-op tasks in bulk, chunks of ${n(sizes.bulkChunk)}, ${sizes.bulkInFlight} chunks in flight (run ${r}/${sizes.repeats})`)
        const d = await s.bulk()
        s.runs.bulk.push(d)
        log(`    ${n(Math.round(d.throughput))} tasks/s, cpu ${d.usage.cpuSeconds} s, client cpu ${d.usage.clientCpuSeconds} s, peak rss ${d.usage.peakRssMb} MB${d.failed > 0 ? `, ${d.failed} FAILED` : ""}`)
      }
    }
  } finally {
    await tasklane.stop()
    await tasklaneWorker.stop()
    await bull.stop()
    await bullFsync.stop()
  }

  const profileDir = join(import.meta.dirname, "..", "profiles", startedAt.toISOString().replace(/[:.]/g, "-"))
  mkdirSync(profileDir, { recursive: true })
  log(`profiling the daemon under (a) with --cpu-prof (separate run; profile in ${profileDir})`)
  const profiled = await Tasklane.startDaemon({ concurrency: sizes.concurrency, isolation: "inline", cpuProfileDir: profileDir })
  let profiledRun: ThroughputRun
  let window: [number, number]
  try {
    const from = Profile.nowUs()
    profiledRun = await Tasklane.throughput(profiled, sizes, "noop", null, sizes.noopCount, 1)
    window = [from, Profile.nowUs()]
  } finally {
    await profiled.stop()
  }
  const profileFile = Profile.mainThreadProfile(profileDir)
  const profile = profileFile === undefined ? undefined : Profile.summarize(profileFile, 10, window)

  // Medians: the run with the median throughput, all its figures.
  const a = systems.map((s) => medianRun(s.runs.noop))
  const b = systems.map((s) => medianRun(s.runs.steps))
  const c = systems.map((s) => s.runs.idle!)
  const d = systems.map((s) => medianRun(s.runs.bulk))
  // (b'): each step rescheduled, other tasks get a turn. Tasklane's (b) already is that; BullMQ's is its re-queue variant.
  const b2 = systems.map((s, i) => (s.runs.requeue.length > 0 ? medianRun(s.runs.requeue) : b[i]!))
  const rows: Array<Report.Row> = [
    { measure: `(a) ${n(sizes.noopCount)} no-op tasks: throughput, tasks/s`, values: a.map((x) => x.throughput), digits: 0 },
    { measure: "(a) trigger -> done latency p50, ms", values: a.map((x) => x.latency.p50), digits: 1 },
    { measure: "(a) trigger -> done latency p95, ms", values: a.map((x) => x.latency.p95), digits: 1 },
    { measure: "(a) trigger -> done latency p99, ms", values: a.map((x) => x.latency.p99), digits: 1 },
    { measure: "(a) CPU seconds (server side)", values: a.map((x) => x.usage.cpuSeconds), digits: 2 },
    { measure: "(a) CPU seconds (client side: producer + observer)", values: a.map((x) => x.usage.clientCpuSeconds), digits: 2 },
    { measure: "(a) peak RSS, MB (server side)", values: a.map((x) => x.usage.peakRssMb), digits: 0 },
    { measure: `(b) ${n(sizes.stepsCount)} tasks x ${sizes.steps} steps: throughput, tasks/s`, values: b.map((x) => x.throughput), digits: 0 },
    { measure: "(b) steps/s", values: b.map((x) => x.iterationsPerSecond), digits: 0 },
    { measure: "(b) trigger -> done latency p50, ms", values: b.map((x) => x.latency.p50), digits: 1 },
    { measure: "(b) trigger -> done latency p95, ms", values: b.map((x) => x.latency.p95), digits: 1 },
    { measure: "(b) trigger -> done latency p99, ms", values: b.map((x) => x.latency.p99), digits: 1 },
    { measure: "(b) CPU seconds (server side)", values: b.map((x) => x.usage.cpuSeconds), digits: 2 },
    { measure: "(b) CPU seconds (client side: producer + observer)", values: b.map((x) => x.usage.clientCpuSeconds), digits: 2 },
    { measure: "(b) peak RSS, MB (server side)", values: b.map((x) => x.usage.peakRssMb), digits: 0 },
    { measure: "(b') each step rescheduled (Tasklane: its (b); BullMQ: re-queue variant): steps/s", values: b2.map((x) => x.iterationsPerSecond), digits: 0 },
    { measure: "(b') trigger -> done latency p99, ms", values: b2.map((x) => x.latency.p99), digits: 1 },
    { measure: "(b') CPU seconds (server side)", values: b2.map((x) => x.usage.cpuSeconds), digits: 2 },
    { measure: "(b') CPU seconds (client side)", values: b2.map((x) => x.usage.clientCpuSeconds), digits: 2 },
    { measure: `(c) idle trigger -> start latency p50, ms (${n(sizes.latencySamples)} samples)`, values: c.map((x) => x.latency.p50), digits: 2 },
    { measure: "(c) idle trigger -> start latency p95, ms", values: c.map((x) => x.latency.p95), digits: 2 },
    { measure: "(c) idle trigger -> start latency p99, ms", values: c.map((x) => x.latency.p99), digits: 2 },
    { measure: "(c) CPU seconds (server side, whole run)", values: c.map((x) => x.usage.cpuSeconds), digits: 2 },
    { measure: "(c) CPU seconds (client side, whole run)", values: c.map((x) => x.usage.clientCpuSeconds), digits: 2 },
    { measure: "(c) peak RSS, MB (server side)", values: c.map((x) => x.usage.peakRssMb), digits: 0 },
    { measure: `(d) ${n(sizes.noopCount)} no-op tasks in bulk (TriggerMany / addBulk, chunks of ${n(sizes.bulkChunk)}): tasks/s`, values: d.map((x) => x.throughput), digits: 0 },
    { measure: "(d) trigger -> done latency p50, ms (from the chunk's send)", values: d.map((x) => x.latency.p50), digits: 1 },
    { measure: "(d) trigger -> done latency p99, ms", values: d.map((x) => x.latency.p99), digits: 1 },
    { measure: "(d) CPU seconds (server side)", values: d.map((x) => x.usage.cpuSeconds), digits: 2 },
    { measure: "(d) CPU seconds (client side: producer + observer)", values: d.map((x) => x.usage.clientCpuSeconds), digits: 2 },
    { measure: "(d) peak RSS, MB (server side)", values: d.map((x) => x.usage.peakRssMb), digits: 0 },
  ]
  const comparison: Report.Comparison = { systems: systems.map((s) => s.name), rows }

  const cpu = cpus()
  const machine = { cpu: cpu[0]?.model ?? "?", cores: cpu.length, memoryGb: round(totalmem() / 2 ** 30, 1), kernel: release(), node: process.version }
  const persistence = (s: System) => JSON.stringify((s.details["redisPersistence"] as Record<string, string>))
  const fairness = [
    `Same machine, same run: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Linux ${machine.kernel}, Node ${machine.node}; the four systems ran side by side and the workloads were interleaved (each repeat runs a system after the other); ${sizes.repeats} repeat(s) of (a) and (b), the run with the median throughput is shown.`,
    `Same client shape: the producer is this process, ${sizes.inFlight} triggers/adds in flight (a, b, b'); in bulk (d), chunks of ${n(sizes.bulkChunk)} (Tasklane TriggerMany, BullMQ Queue.addBulk), ${sizes.bulkInFlight} chunks in flight. Latency = trigger sent (for (d): its chunk sent) .. observer sees the task finish (a, b, b', d) or start (c).`,
    `Same observation: each system's observer is told of one event per task, the one counted. Tasklane: Subscribe over the unix socket with types = the final events (TaskDone, TaskFailed, TaskAborted, MaxIterationsReached; IterationStarted for (c)), filtered on the daemon, so no other event is encoded or sent. BullMQ: QueueEvents with listeners for completed/failed (active for (c)) only; it reads the queue's whole Redis event stream (added, waiting, active, completed, ...: XREAD cannot filter), which BullMQ writes whether anyone listens or not; the reading is the client's cost and shows in its client CPU.`,
    `Concurrency ${sizes.concurrency} on both (daemon --concurrency ${sizes.concurrency}; BullMQ Worker concurrency ${sizes.concurrency}). Server side: CPU seconds (utime+stime from /proc) and peak RSS (VmHWM, reset per workload) of Tasklane's daemon process, and of BullMQ's worker process + redis-server. Client side: CPU seconds of this process (producer and observer, process.cpuUsage()) over the same workload, reported apart.`,
    `Tasklane guarantees: ${Tasklane.guarantees}`,
    `BullMQ guarantees: ${BullMQ.guarantees(false)} Settings in force: ${persistence(systems[2]!)}.`,
    `BullMQ (fsync) guarantees: ${BullMQ.guarantees(true)} Settings in force: ${persistence(systems[3]!)}.`,
    `Tasklane runs task code inline (on the daemon's loop, as a BullMQ Worker runs its processor in its own process) and, in the "(worker)" column, on the daemon's worker-thread pool (--isolation worker, the daemon's default: a task's crash, leak or busy loop costs only that task; BullMQ's counterpart is a sandboxed processor in a child process, not measured here). CPU and RSS of the worker threads are the daemon process's.`,
    `(b) on BullMQ uses the documented "process step jobs" pattern: one job loops through ${sizes.steps} steps and saves its step with job.updateData after each of the first ${sizes.steps - 1} (a retry resumes there); Tasklane's steps20 answers continue ${sizes.steps - 1} times, then done, each iteration scheduled and logged durably.`,
  ]

  const strandedNotes = systems.flatMap((s) => [
    ...[...s.runs.noop, ...s.runs.steps].filter((r) => r.stranded > 0).map((r) => `${s.name}: ${r.stranded} of ${n(r.tasks)} tasks never finished in a throughput run (no progress for 30 s); that run's throughput counts only finished tasks.`),
    ...(s.runs.idle!.stranded > 0 ? [`${s.name}: ${s.runs.idle!.stranded} idle-latency samples never started within 10 s (left out).`] : []),
  ])
  const md: Array<string> = []
  md.push(`# Tasklane vs BullMQ: ${date}${quick ? " (QUICK smoke run, 1/10 sizes: not a record)" : ""}`)
  md.push("", "## Comparison (server side)", "", Report.comparisonTable(comparison))
  if (strandedNotes.length > 0) md.push("", "**Stranded tasks** (a correctness problem, not a speed figure):", "", ...strandedNotes.map((x) => `- ${x}`))
  md.push("", `(b') compares like with like: a Tasklane step is rescheduled through the scheduler and other tasks get a turn between steps, so its (b) figures stand in its columns; BullMQ's columns run the re-queue step variant (job.updateData + job.moveToWait(token) + throw WaitingError after each of the first ${sizes.steps - 1} steps).`)
  md.push("", "## What each guarantees, and fairness", "", ...fairness.map((f) => `- ${f}`))
  if (store !== undefined) {
    md.push("", "## Event store and replay (packages/core/bench/store.bench.ts)", "", Report.table(["measure", "median", "note"], store.rows.map((r) => [r.measure, r.value, r.note])), "", store.footer)
    if (store.timedOut !== undefined) md.push("", `**The store bench ${store.timedOut}.**`)
  }
  if (typeof pgStore === "string") md.push("", "## Event store on PostgreSQL (packages/core/bench/pg.bench.ts)", "", pgStore)
  else if (pgStore !== undefined) {
    md.push("", "## Event store on PostgreSQL (packages/core/bench/pg.bench.ts)", "", Report.table(["measure", "median", "note"], pgStore.rows.map((r) => [r.measure, r.value, r.note])), "", pgStore.footer)
    if (pgStore.timedOut !== undefined) md.push("", `**The PostgreSQL store bench ${pgStore.timedOut}.**`)
  }
  if (cluster !== undefined) md.push(...clusterSection(cluster))
  if (daemonBench !== undefined) {
    md.push("", `## Daemon bench (${daemonBench.command})`, "", Report.table(["measure", "value", "note"], daemonBench.rows.map((r) => [r.measure, r.value, r.note])))
    if (daemonBench.timedOut !== undefined) md.push("", `**The daemon bench ${daemonBench.timedOut}: its table is missing (it prints only at the end).**`)
  }
  if (profile !== undefined) {
    md.push("", `## CPU profile: Tasklane daemon, workload (a) (separate run under --cpu-prof, ${n(Math.round(profiledRun!.throughput))} tasks/s while profiled)`, "",
      `Main thread, ${profile.windowed ? "samples during the workload only (startup excluded)" : "whole profile (startup included: the workload window could not be matched)"}. Top 10 functions by self time; % of busy time (${n(profile.totalMs - profile.idleMs)} ms busy, ${n(profile.idleMs)} ms idle). Profile: ${profile.file.slice(root.length + 1)}.`, "",
      Report.table(["#", "function", "location", "self ms", "% busy", "mostly via (nearest caller in a file)"], profile.top.map((h, i) => [String(i + 1), `\`${h.function}\``, h.location, String(h.selfMs), String(h.percent), h.via])))
  } else {
    md.push("", "## CPU profile: no .cpuprofile was written (the daemon did not exit cleanly?)")
  }
  md.push("", `Total run time ${round((performance.now() - t0) / 1000, 0)} s.`)
  const markdown = md.join("\n")

  const svg = Report.chartSvg(`Tasklane vs BullMQ, ${date}${quick ? " (quick)" : ""}`, comparison.systems, [
    {
      heading: "Throughput (tasks/s, higher is better)",
      panels: [
        { title: `(a) ${n(sizes.noopCount)} no-op tasks`, unit: "tasks/s", values: a.map((x) => x.throughput) },
        { title: `(b) ${n(sizes.stepsCount)} x ${sizes.steps} steps`, unit: "tasks/s", values: b.map((x) => x.throughput) },
        { title: "(b') step rescheduled each time", unit: "steps/s", values: b2.map((x) => x.iterationsPerSecond) },
        { title: `(d) ${n(sizes.noopCount)} no-op, bulk`, unit: "tasks/s", values: d.map((x) => x.throughput) },
      ],
    },
    {
      heading: "p99 latency (ms, lower is better)",
      panels: [
        { title: "(a) trigger -> done", unit: "ms", values: a.map((x) => x.latency.p99) },
        { title: "(b) trigger -> done", unit: "ms", values: b.map((x) => x.latency.p99) },
        { title: "(c) idle trigger -> start", unit: "ms", values: c.map((x) => x.latency.p99) },
      ],
    },
  ])
  const json = {
    date,
    startedAt: startedAt.toISOString(),
    quick,
    sizes,
    machine,
    fairness,
    systems: systems.map((s) => ({ system: s.name, guarantees: s.guarantees, details: s.details, noop: s.runs.noop, steps: s.runs.steps, requeue: s.runs.requeue, bulk: s.runs.bulk, idle: s.runs.idle })),
    stranded: strandedNotes,
    comparison: { systems: comparison.systems, rows: rows.map((r) => ({ measure: r.measure, values: r.values.map((v) => round(v, r.digits + 1)), tasklaneOver: r.values.slice(1).map((v) => round(r.values[0]! / v, 3)) })) },
    store,
    daemonBench,
    cluster: typeof cluster === "string" ? { notRun: cluster } : cluster === undefined ? undefined : { ...cluster, markdown: undefined },
    profile: profile === undefined ? undefined : { ...profile, file: profile.file.slice(root.length + 1), profiledThroughput: profiledRun!.throughput },
  }
  // A quick smoke run never overwrites the day's record.
  const written = await Report.write(quick ? `${date}-quick` : date, json, markdown, svg)
  console.log(`\n${markdown}\n`)
  if (written.skipped !== undefined) console.log(`PNG chart skipped: ${written.skipped}; wrote the SVG instead.`)
  console.log(`wrote ${written.files.map((f) => f.slice(root.length + 1)).join(", ")}`)
}

try {
  await main()
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  await Cleanup.runAll()
}
