/**
 * The appenders workload both store benches run (store.bench.ts on LevelDB,
 * pg.bench.ts on PostgreSQL): `appenders` tasks appended concurrently, each
 * a trigger (a fresh stream, as the daemon appends it) and then
 * `iterations` iterations of a reindexing task's events, appended in the
 * given shape.
 */
import { Effect } from "effect"
import { EventStore } from "../src/EventStore.ts"
import type { DefinitionId, EventId, TaskId } from "../src/Ids.ts"
import * as TaskEvent from "../src/TaskEvent.ts"

export const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

let seq = 0
const newEvent = (event: TaskEvent.TaskEvent): TaskEvent.NewEvent => {
  seq += 1
  return { id: `00000000-0000-7000-8000-${String(seq).padStart(12, "0")}` as EventId, at: 1_700_000_000_000 + seq, event }
}

export const iterationEvents = (n: number): Array<TaskEvent.TaskEvent> => [
  new TaskEvent.IterationStarted({ iteration: n, attempt: 1 }),
  new TaskEvent.ProgressUpdated({ progress: { completed: n * 100, total: 1_000_000 } }),
  new TaskEvent.TaskLogged({ level: "info", message: `indexed documents ${n * 100 - 99} to ${n * 100}` }),
  new TaskEvent.TaskLogged({ level: "info", message: "page done", data: { page: n, cursor: `c${n}` } }),
  new TaskEvent.IterationContinued({ input: { folder: "/catalog", cursor: n * 100, batchSize: 100 } }),
]

/** How an iteration's events are appended: one by one, as the runner does (start, then the rest), or all at once. */
export type Shape = "single" | "runner" | "iteration"
const split = (events: Array<TaskEvent.TaskEvent>, shape: Shape): Array<Array<TaskEvent.TaskEvent>> =>
  shape === "single" ? events.map((e) => [e]) : shape === "runner" ? [events.slice(0, 1), events.slice(1)] : [events]

/** Runs the workload on the store in context; durable events/s, and events per commit (`batches` counts the store's onBatch calls). */
export const run = (appenders: number, iterations: number, shape: Shape, batches: () => number) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const task = (w: number) =>
      Effect.gen(function* () {
        const taskId = `bench-${w}` as TaskId
        const trigger = new TaskEvent.TaskTriggered({ taskId, definitionId: "reindex" as DefinitionId, input: { folder: "/catalog" }, maxIterations: 1e9 })
        let version = (yield* store.append({ stream: taskId, expectedVersion: "noStream", events: [newEvent(trigger)], fresh: true })).version
        for (let n = 1; n <= iterations; n++) {
          for (const events of split(iterationEvents(n), shape)) {
            version = (yield* store.append({ stream: taskId, expectedVersion: version, events: events.map(newEvent) })).version
          }
        }
      })
    const started = performance.now()
    yield* Effect.forEach(Array.from({ length: appenders }, (_, w) => w), task, { concurrency: "unbounded", discard: true })
    const seconds = (performance.now() - started) / 1000
    const events = yield* store.head
    return { rate: events / seconds, perBatch: events / batches() }
  })

/** The median of `runs` runs of `f`, one after another. */
export const repeat = async (runs: number, f: () => Promise<number>) => {
  const values: Array<number> = []
  for (let i = 0; i < runs; i++) values.push(await f())
  return median(values)
}

/** The rows a bench prints as its table (`pnpm bench` reads them back); each row is also shown as it is measured. */
export const makeTable = () => {
  const rows: Array<{ measure: string; "median /s": string; note: string }> = []
  const row = (measure: string, rate: number, note = "") => {
    rows.push({ measure, "median /s": Math.round(rate).toLocaleString("en-US"), note })
    console.error(`  ${measure}: ${Math.round(rate).toLocaleString("en-US")}/s ${note}`)
  }
  return { rows, row }
}
