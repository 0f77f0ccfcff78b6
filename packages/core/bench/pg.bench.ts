/**
 * PostgreSQL event store benchmark (`npx tsx packages/core/bench/pg.bench.ts`
 * from the repository root): durable appends through `PgEventStore.layer`,
 * each append resolved once its group's transaction committed (fsync on),
 * with 64 concurrent appenders each running its own task (a trigger, then
 * iterations of IterationStarted, ProgressUpdated, two TaskLogged,
 * IterationContinued), in the three shapes of store.bench.ts: one event per
 * append, runner-like (IterationStarted alone, then the other four), the
 * whole iteration in one append; plus one appender, and a raw reference: the
 * same envelopes inserted by multi-row INSERTs in committed transactions of
 * 64 rows, with no store around them (the ceiling of this disk and server).
 *
 * A private cluster (test/support/Postgres.ts: Debian's PostgreSQL, fsync on)
 * in a temp dir, a fresh database per run. Target (issue 14): >= 20,000
 * events/s with 64 appenders. Timings are wall clock on a shared machine:
 * run it twice, and say how busy the machine was.
 */
import { Effect, Redacted } from "effect"
import { PgClient } from "@effect/sql-pg"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as PgEventStore from "../src/PgEventStore.ts"
import * as Appenders from "./Appenders.ts"
import * as Postgres from "../test/support/Postgres.ts"

const cluster = await Postgres.start()

/** The server's current WAL position (`pg_current_wal_lsn`), in bytes. */
const walPosition = async () => {
  const [high, low] = (await cluster.psql("postgres", "SELECT pg_current_wal_lsn()")).trim().split("/")
  return Number.parseInt(high!, 16) * 2 ** 32 + Number.parseInt(low!, 16)
}

/**
 * One run: `appenders` tasks appended concurrently; durable events/s, events
 * per transaction and WAL bytes per transaction (what each commit writes and
 * fsyncs: a cost of the schema and statements that the machine's noise does
 * not blur; the server's background work during the run counts too).
 */
const durableRun = async (appenders: number, iterations: number, shape: Appenders.Shape) => {
  const url = await cluster.createDatabase()
  let batches = 0
  // The WAL is read once the store is open: its schema's migrations are not appends.
  const program = Effect.gen(function* () {
    const walBefore = yield* Effect.promise(walPosition)
    const result = yield* Appenders.run(appenders, iterations, shape, () => batches)
    return { ...result, walPerBatch: ((yield* Effect.promise(walPosition)) - walBefore) / batches }
  })
  return Effect.runPromise(program.pipe(Effect.provide(PgEventStore.layer({ url, onBatch: () => void (batches += 1) }))))
}

/** Raw reference: `transactions` committed transactions of `size` envelope rows each, one multi-row INSERT apiece; rows/s. */
const rawRun = async (size: number, transactions: number) => {
  const url = await cluster.createDatabase()
  const envelope = JSON.stringify({ id: "00000000-0000-7000-8000-000000000000", stream: "bench-1", version: 1, position: 1, type: "TaskLogged", at: 1, data: { level: "info", message: "indexed documents 1 to 100" }, v: 1 })
  return Effect.runPromise(
    Effect.gen(function* () {
      const sql = yield* PgClient.makeClient({ url: Redacted.make(url) })
      yield* sql`CREATE TABLE raw (position bigint PRIMARY KEY, stream text NOT NULL, version integer NOT NULL, envelope text NOT NULL)`
      let position = 0
      const started = performance.now()
      for (let t = 0; t < transactions; t++) {
        const positions = Array.from({ length: size }, () => ++position)
        yield* sql`INSERT INTO raw SELECT p, 'bench-1', p, ${envelope} FROM unnest(${positions}::int8[]) AS p`
      }
      return position / ((performance.now() - started) / 1000)
    }).pipe(Effect.scoped, Effect.provide(Reactivity.layer)),
  )
}

const repeat = Appenders.repeat
const { rows, row } = Appenders.makeTable()

const started = performance.now()
try {
  console.error("benchmarking the PostgreSQL store (about a minute)...")
  row("raw multi-row INSERT, 64 rows per committed transaction", await repeat(3, () => rawRun(64, 200)), "rows/s, reference ceiling")
  for (const shape of ["single", "runner", "iteration"] as const) {
    const perBatch: Array<number> = []
    const walPerBatch: Array<number> = []
    const rate = await repeat(3, async () => {
      const result = await durableRun(64, shape === "single" ? 20 : 40, shape)
      perBatch.push(result.perBatch)
      walPerBatch.push(result.walPerBatch)
      return result.rate
    })
    const wal = `${(Appenders.median(walPerBatch) / 1024).toFixed(1)} KB WAL per transaction`
    row(`durable appends, 64 appenders, ${shape} (${({ single: 1, runner: 2.5, iteration: 5 })[shape]} ev/append)`, rate, `events/s; ~${Math.round(Appenders.median(perBatch))} events, ${wal}`)
  }
  row("durable appends, 1 appender, iteration (5 ev/append)", await repeat(3, async () => (await durableRun(1, 50, "iteration")).rate), "events/s; one commit per append")
} finally {
  await cluster.stop()
}
console.table(rows)
console.log(`target: durable appends, 64 appenders >= 20,000 events/s (${((performance.now() - started) / 1000).toFixed(1)} s)`)
