/**
 * Retention benchmark (`npx tsx packages/core/bench/prune.bench.ts [tasks]`):
 * fills a LevelDB store with 100,000 finished tasks (by default) that ended
 * 40 days ago, plus 1,000 finished yesterday and 100 still waiting, then
 * prunes everything older than 30 days and prints:
 * - the size of the store on disk before and after (after the compaction the
 *   prune runs);
 * - how long the prune took and what it removed;
 * - in a fresh process each time (the second open of each state, so both
 *   find LevelDB's write-ahead log already turned into tables), as a restarted daemon would be: how long
 *   the store takes to open, the RSS once open, and the time of the first
 *   page of `ls` (all tasks; by status) and of `show` (getTask) and `history`
 *   (readStreamJson) of a retained task, medians of 25 runs; the size on disk
 *   is read after that process closed the store.
 *
 * Every task: TaskTriggered, IterationStarted, ProgressUpdated, two
 * TaskLogged, TaskDone (7 events with the HookCompleted of some). Timings
 * are wall clock on a shared machine.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import * as EventStore from "../src/EventStore.ts"
import * as LevelEventStore from "../src/LevelEventStore.ts"
import type { DefinitionId, EventId, TaskId } from "../src/Ids.ts"
import * as TaskEvent from "../src/TaskEvent.ts"

const DAY = 86_400_000
const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`

let seq = 0
const newEvent = (event: TaskEvent.TaskEvent, at: number): TaskEvent.NewEvent => {
  seq += 1
  return { id: `00000000-0000-7000-8000-${String(seq).padStart(12, "0")}` as EventId, at, event }
}
const taskId = (kind: string, n: number) => `${kind}-${String(n).padStart(7, "0")}` as TaskId

/** One task's appends: trigger + start in one, the iteration's facts, the outcome (or a continue for a waiting one). */
const appends = (id: TaskId, at: number, finish: boolean): Array<Array<TaskEvent.NewEvent>> => [
  [
    newEvent(new TaskEvent.TaskTriggered({ taskId: id, definitionId: "reindex" as DefinitionId, input: { folder: "/catalog", batchSize: 100 }, maxIterations: 50 }), at),
    newEvent(new TaskEvent.IterationStarted({ iteration: 1, attempt: 1 }), at),
  ],
  [
    newEvent(new TaskEvent.ProgressUpdated({ progress: { completed: 100, total: 100 } }), at + 5),
    newEvent(new TaskEvent.TaskLogged({ level: "info", message: "indexed documents 1 to 100" }), at + 6),
    newEvent(new TaskEvent.TaskLogged({ level: "info", message: "page done", data: { page: 1, cursor: "c1" } }), at + 7),
  ],
  finish
    ? [newEvent(new TaskEvent.TaskDone({ output: { indexed: 100 }, hookDue: false }), at + 10)]
    : [newEvent(new TaskEvent.IterationContinued({ input: { folder: "/catalog", cursor: 100 }, wakeAt: at + 30 * DAY }), at + 10)],
]

const fill = (directory: string, old: number, now: number) =>
  Effect.gen(function* () {
    const store = yield* EventStore.EventStore
    const write = (id: TaskId, at: number, finish: boolean) =>
      Effect.gen(function* () {
        let version: EventStore.ExpectedVersion = "noStream"
        for (const events of appends(id, at, finish)) version = (yield* store.append({ stream: id, expectedVersion: version, events })).version
      })
    const jobs: Array<readonly [TaskId, number, boolean]> = []
    for (let n = 0; n < old; n++) jobs.push([taskId("old", n), now - 40 * DAY + n, true])
    for (let n = 0; n < 1000; n++) jobs.push([taskId("recent", n), now - DAY + n, true])
    for (let n = 0; n < 100; n++) jobs.push([taskId("waiting", n), now - 40 * DAY + n, false])
    yield* Effect.forEach(jobs, ([id, at, finish]) => write(id, at, finish), { concurrency: 1024, discard: true })
    return yield* store.head
  }).pipe(Effect.provide(LevelEventStore.layer({ directory })))

/** Measured in a fresh process: open time, RSS once open, list / show / history times. */
const measure = (directory: string) =>
  Effect.gen(function* () {
    const opened = performance.now()
    return yield* Effect.gen(function* () {
      const store = yield* EventStore.EventStore
      const openMs = performance.now() - opened
      const time = (effect: Effect.Effect<unknown, unknown>) =>
        Effect.gen(function* () {
          const runs: Array<number> = []
          for (let i = 0; i < 25; i++) {
            const started = performance.now()
            yield* effect
            runs.push(performance.now() - started)
          }
          return median(runs)
        })
      const recent = taskId("recent", 500)
      const listAll = yield* time(store.listTasks({}, { limit: 100 }))
      const listDone = yield* time(store.listTasks({ status: "done" }, { limit: 100 }))
      const show = yield* time(store.getTask(recent))
      const history = yield* time(store.readStreamJson(recent))
      ;(globalThis as { gc?: () => void }).gc?.()
      const rss = process.memoryUsage().rss
      return { openMs, rss, listAll, listDone, show, history, size: 0, counts: yield* store.countByStatus }
    }).pipe(Effect.provide(LevelEventStore.layer({ directory })))
  })

type Measured = Effect.Success<ReturnType<typeof measure>>

/** Bytes of the directory's files, read while no process has the store open. */
const sizeOf = async (directory: string) => {
  let total = 0
  for (const name of await fs.readdir(directory)) total += (await fs.stat(path.join(directory, name))).size
  return total
}

const inChild = async (directory: string): Promise<Measured> => {
  const out = execFileSync(process.execPath, [...process.execArgv, "--expose-gc", import.meta.filename, "--measure", directory], { encoding: "utf8" })
  const measured: Measured = JSON.parse(out.trim().split("\n").pop()!)
  return { ...measured, size: await sizeOf(directory) }
}

const main = async () => {
  if (process.argv[2] === "--measure") {
    const result = await Effect.runPromise(measure(process.argv[3]!))
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return
  }
  const old = Number(process.argv[2] ?? 100_000)
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "tasklane-prune-bench-"))
  try {
    const now = Date.now()
    const filled = performance.now()
    const head = await Effect.runPromise(fill(directory, old, now))
    console.log(`filled ${old} old finished + 1000 recent finished + 100 waiting tasks: ${head} events in ${((performance.now() - filled) / 1000).toFixed(1)} s`)
    // The first open after the fill turns LevelDB's write-ahead log into a table: measure the second.
    await inChild(directory)
    const before = await inChild(directory)
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const store = yield* EventStore.EventStore
        const pruned = yield* store.prune({ before: now - 30 * DAY })
        return { ...pruned, sizeAfter: (yield* store.retention).sizeOnDisk! }
      }).pipe(Effect.provide(LevelEventStore.layer({ directory }))),
    )
    console.log(
      `prune: ${result.tasks} tasks, ${result.events} events, ${mb(result.bytes)} of records, kept ${result.kept}, ` +
        `in ${(result.millis / 1000).toFixed(1)} s (${Math.round(result.tasks / (result.millis / 1000))} tasks/s, compaction included); watermark ${result.prunedThrough}; ` +
        `size on disk right after: ${mb(result.sizeAfter)}`,
    )
    await inChild(directory)
    const after = await inChild(directory)
    const row = (name: string, f: (m: Measured) => string) => console.log(`${name.padEnd(28)}${f(before).padStart(14)}${f(after).padStart(14)}`)
    console.log(`${"".padEnd(28)}${"before".padStart(14)}${"after".padStart(14)}`)
    row("size on disk", (m) => mb(m.size))
    row("open (ms)", (m) => m.openMs.toFixed(0))
    row("RSS once open", (m) => mb(m.rss))
    row("ls, first 100 (ms)", (m) => m.listAll.toFixed(2))
    row("ls --status done (ms)", (m) => m.listDone.toFixed(2))
    row("show (ms)", (m) => m.show.toFixed(3))
    row("history (ms)", (m) => m.history.toFixed(3))
    row("tasks done / continue", (m) => `${m.counts.done} / ${m.counts.continue}`)
  } finally {
    if (process.env.KEEP === undefined) await fs.rm(directory, { recursive: true, force: true }); else console.log(directory)
  }
}

void main()
