/**
 * Event store and replay benchmark (`pnpm --filter @tasklane/core bench`).
 *
 * Prints one table, medians of several runs:
 * - raw classic-level: synced chained batches of envelope-sized puts (the
 *   disk's ceiling on this machine; the only place outside the store that
 *   touches LevelDB's API, on purpose);
 * - durable appends through `LevelEventStore.layer` (each append resolves once its
 *   group's synced batch is written) with 1 and 64 concurrent appenders, each
 *   running its own task: a trigger, then iterations of IterationStarted,
 *   ProgressUpdated, two TaskLogged, IterationContinued, appended
 *   (a) one event per append, (b) runner-like: IterationStarted alone, then
 *   the other four together, (c) the whole iteration in one append;
 * - the replay fold (`Replay.replay`) over one long realistic stream.
 *
 * Targets (issue): >= 100,000 durable events/s with 64 appenders, fold >=
 * 500,000 events/s. Timings are wall clock on a shared machine: run it twice.
 */
import { ClassicLevel } from "classic-level"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import * as LevelEventStore from "../src/LevelEventStore.ts"
import type { DefinitionId, EventId, TaskId } from "../src/Ids.ts"
import * as Replay from "../src/Replay.ts"
import * as TaskEvent from "../src/TaskEvent.ts"
import * as Appenders from "./Appenders.ts"


const withTempDir = async <A>(f: (directory: string) => Promise<A>): Promise<A> => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "tasklane-bench-"))
  try {
    return await f(directory)
  } finally {
    await fs.rm(directory, { recursive: true, force: true })
  }
}

/** One run: `appenders` tasks appended concurrently; returns durable events/s and events per synced batch. */
const durableRun = (appenders: number, iterations: number, shape: Appenders.Shape) =>
  withTempDir(async (directory) => {
    let batches = 0
    const program = Appenders.run(appenders, iterations, shape, () => batches)
    return Effect.runPromise(program.pipe(Effect.provide(LevelEventStore.layer({ directory, onBatch: () => void (batches += 1) }))))
  })

/** Raw classic-level: synced chained batches of `size` envelope-sized puts; entries/s. */
const rawRun = (size: number, batchesPerRun: number) =>
  withTempDir(async (directory) => {
    const db = new ClassicLevel<string, string>(directory, { keyEncoding: "utf8", valueEncoding: "utf8" })
    await db.open()
    const value = JSON.stringify({ id: "00000000-0000-7000-8000-000000000000", stream: "bench-1", version: 1, position: 1, type: "TaskLogged", at: 1, data: { level: "info", message: "indexed documents 1 to 100" }, v: 1 })
    let position = 0
    const started = performance.now()
    for (let b = 0; b < batchesPerRun; b++) {
      const batch = db.batch()
      for (let i = 0; i < size; i++) batch.put(`e!${(++position).toString(16).padStart(12, "0")}`, value)
      await batch.write({ sync: true })
    }
    const rate = position / ((performance.now() - started) / 1000)
    await db.close()
    return rate
  })

/** A long realistic stream: one trigger and `iterations` iterations of four events. */
const longStream = (iterations: number): Array<TaskEvent.RecordedEvent> => {
  const taskId = "fold-1" as TaskId
  const events: Array<TaskEvent.RecordedEvent> = []
  const push = (event: TaskEvent.TaskEvent) => {
    const version = events.length + 1
    events.push({ id: `e${version}` as EventId, stream: taskId, version, position: version, at: 1_700_000_000_000 + version, event })
  }
  push(new TaskEvent.TaskTriggered({ taskId, definitionId: "reindex" as DefinitionId, input: { cursor: 0 }, maxIterations: 1e9 }))
  for (let n = 1; n <= iterations; n++) for (const e of Appenders.iterationEvents(n).filter((_, i) => i !== 3)) push(e)
  return events
}

const foldRun = (events: ReadonlyArray<TaskEvent.RecordedEvent>) => {
  const started = performance.now()
  const state = Replay.replay(events)
  const seconds = (performance.now() - started) / 1000
  if (state instanceof Replay.ReplayError) throw state
  return events.length / seconds
}

const repeat = Appenders.repeat
const { rows, row } = Appenders.makeTable()

const started = performance.now()
console.error("benchmarking (about 30-50 s)...")
row("raw classic-level synced batch puts (512/batch)", await repeat(5, () => rawRun(512, 100)), "entries/s, reference ceiling")
row("raw classic-level synced batch puts (64/batch)", await repeat(5, () => rawRun(64, 200)), "entries/s")
for (const shape of ["single", "runner", "iteration"] as const) {
  const perBatch: Array<number> = []
  const rate = await repeat(3, async () => {
    const result = await durableRun(64, shape === "single" ? 60 : 150, shape)
    perBatch.push(result.perBatch)
    return result.rate
  })
  row(`durable appends, 64 appenders, ${shape} (${({ single: 1, runner: 2.5, iteration: 5 })[shape]} ev/append)`, rate, `events/s; ~${Math.round(Appenders.median(perBatch))} events per synced batch`)
}
row("durable appends, 1 appender, single (1 ev/append)", await repeat(3, async () => (await durableRun(1, 100, "single")).rate), "events/s; one fsync per append")
row("durable appends, 1 appender, iteration (5 ev/append)", await repeat(3, async () => (await durableRun(1, 100, "iteration")).rate), "events/s")
const stream = longStream(25_000)
foldRun(stream)
row(`replay fold (Replay.replay, ${stream.length.toLocaleString("en-US")}-event stream)`, await repeat(5, async () => foldRun(stream)), "events/s")
console.table(rows)
console.log(`targets: durable 64 appenders >= 100,000 events/s; fold >= 500,000 events/s (${((performance.now() - started) / 1000).toFixed(1)} s)`)
