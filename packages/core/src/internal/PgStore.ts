/**
 * The event store over PostgreSQL (the `EventStore` contract; tables in
 * PgSchema, the writer in PgWriter, summaries in PgSummary). Effect side:
 * every operation is a few SQL statements.
 *
 * Lifecycle: `make` opens two clients to the database, a pool for reads and
 * LISTEN (a few connections) and one connection for the writer, brings the
 * schema up to date (Migrator), reads the head row, and forks the writer and
 * the head watcher. Several instances (daemons) may share one database:
 * their writers serialize on the head row, so the log stays one gapless
 * sequence in commit order. Closing the scope commits everything queued,
 * then closes the connections.
 *
 * The known head (`head`) moves on this instance's commits at once, on
 * other instances' commits by their NOTIFY (payload: their new head, and a
 * small group's events, which go straight into RecentEvents), and,
 * as a fallback for a lost notification or a dropped LISTEN connection, by
 * polling the head row every second. The newest events are kept in memory
 * (RecentEvents): this instance's groups as they commit, and what other
 * instances committed, carried by their NOTIFY or else read once by one
 * reader whenever the known head passes them. Subscribers take events from
 * there, and read the log themselves only when they are further behind;
 * when there is nothing yet they wait for the run to grow. The log is read
 * straight from the table: the group that took positions p..q committed
 * before any later one could move the head row, so a reader that sees
 * position q+1 sees everything before it (no skipped sequence gap).
 * `head` on one instance can trail another instance's commits by the time
 * their NOTIFY takes to arrive (at worst, one poll).
 *
 * Pruned positions (PgPrune) fail reads and strict subscriptions at or below
 * the watermark with PositionPruned, as in the LevelDB store. Health is
 * `degraded` (with the error) after a commit failed and `ok` again once one
 * succeeds; `damage` is always empty (there is no LevelDB-style open check:
 * PostgreSQL recovers its own WAL), and `recovery` / `acceptDamage` options
 * do not apply.
 */
import { Cause, Effect, Option, Queue, Redacted, type Scope, Stream, SubscriptionRef } from "effect"
import { PgClient } from "@effect/sql-pg"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as SqlClient from "effect/sql/SqlClient"
import type { EventStore, LayerOptions, TaskFilter, TaskPage } from "../EventStore.ts"
import { PositionPruned, StoreError } from "../StoreErrors.ts"
import type { TaskId } from "../Ids.ts"
import * as Replay from "../Replay.ts"
import { StoreHealth } from "../StoreHealth.ts"
import { fromEnvelope, type RecordedEvent } from "../TaskEvent.ts"
import { taskStatuses } from "../TaskMachine.ts"
import { emptyCounts, parseState } from "./AppendGroup.ts"
import * as Keys from "./RecordKeys.ts"
import { toStoreError } from "./PgError.ts"
import * as ScheduleRecords from "./ScheduleRecords.ts"
import * as Prune from "./PgPrune.ts"
import * as PgSchema from "./PgSchema.ts"
import * as Summary from "./PgSummary.ts"
import * as Writer from "./PgWriter.ts"
import { RecentEvents } from "./RecentEvents.ts"

const PAGE = 1024

/** Options of the PostgreSQL store: a connection URL plus the shared layer options. */
export interface Options extends LayerOptions {
  /** `postgres://user:password@host:port/database` (the schema is created or migrated at open). */
  readonly url: string
  /** Read connections in the pool (default 4); the writer holds one more. */
  readonly maxConnections?: number
  /** How often the head row is polled in case a notification was missed, ms (default 1,000). */
  readonly pollMillis?: number
  /** How many of the newest events are kept for subscribers (default 4,096). */
  readonly recentEvents?: number
}

/** Runs a query effect; every failure, a thrown decode error included, is a StoreError for `operation`. */
const attempt = <A, E, R>(operation: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, StoreError, R> =>
  Effect.catchCause(effect, (cause) => Effect.fail(toStoreError(operation)(Cause.squash(cause))))

const decodeEvent = (envelope: string): RecordedEvent => fromEnvelope(JSON.parse(envelope))

/** The states in a stream of events in position order, folded from scratch; claims each idempotency key for its first task. */
const foldLog = (events: ReadonlyArray<RecordedEvent>): Array<Summary.Row> => {
  const streams = new Map<string, Array<RecordedEvent>>()
  for (const e of events) {
    const list = streams.get(e.stream)
    if (list === undefined) streams.set(e.stream, [e])
    else list.push(e)
  }
  const claimed = new Set<string>()
  const rows: Array<Summary.Row> = []
  for (const [stream, list] of streams) {
    const state = Replay.replay(list)
    if (state instanceof Replay.ReplayError) throw new StoreError({ operation: "rebuildProjections", reason: `stream ${stream}: ${state.message}` })
    const key = state.context.idempotencyKey
    const claims = key !== undefined && !claimed.has(key)
    if (claims) claimed.add(key)
    rows.push({ state, idempotencyKey: claims ? key : null })
  }
  return rows
}

/** The store, and `keep`: a summary read elsewhere (a cluster claim) for the next append on its task, as `getTaskToAppend` keeps what it reads. */
export interface Opened {
  readonly store: EventStore["Service"]
  readonly keep: (state: Replay.TaskState) => void
}

/** Opens the store; it lives as long as the scope. */
export const make = (options: Options): Effect.Effect<Opened, StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const health = yield* SubscriptionRef.make(new StoreHealth({ status: "ok", damage: [] }))
    const url = Redacted.make(options.url)
    const [sql, writerSql] = yield* Effect.all([
      PgClient.make({ url, maxConnections: options.maxConnections ?? 4, applicationName: "tasklane" }),
      PgClient.makeClient({ url, applicationName: "tasklane-writer" }),
    ]).pipe(Effect.provide(Reactivity.layer), Effect.mapError(toStoreError("open")))
    yield* attempt("open", Effect.provideService(PgSchema.run, SqlClient.SqlClient, writerSql))
    const [row] = yield* attempt("open", sql<{ position: bigint; pruned_through: bigint }>`SELECT position, pruned_through FROM tasklane_head`)
    const committed = yield* SubscriptionRef.make(Number(row?.position ?? 0))
    // The pruned watermark: raised by this instance's prunes at once, by others' through the poll.
    const watermark = { prunedThrough: Number(row?.pruned_through ?? 0) }
    const advance = (head: number) => SubscriptionRef.update(committed, (known) => Math.max(known, head))
    // The newest events, and the end of their run (what wakes subscribers).
    const recent = new RecentEvents(options.recentEvents ?? 4096, Number(row?.position ?? 0))
    const recentEnd = yield* SubscriptionRef.make(recent.end)
    // Wakes the reader of other nodes' commits: a head learned beyond the run (NOTIFY, poll), or a group of this node's after a gap.
    const behind = yield* Queue.sliding<void>(1)
    const learn = (head: number) => Effect.andThen(advance(head), Effect.sync(() => head > recent.end && Queue.offerUnsafe(behind, undefined)))

    const writer = yield* Writer.make({
      sql: writerSql,
      onBatch: options.onBatch,
      cacheSize: options.cacheSize,
      // The run first: the reader of other nodes' commits wakes only for a head beyond it.
      onCommit: (head, events) => Effect.andThen(recent.add(events) ? SubscriptionRef.set(recentEnd, recent.end) : Effect.void, learn(head)),
      onFault: (error) =>
        SubscriptionRef.set(
          health,
          error === undefined
            ? new StoreHealth({ status: "ok", damage: [] })
            : new StoreHealth({ status: "degraded", error: error.message, since: Date.now(), damage: [] }),
        ),
    })

    /** The events a NOTIFY carried, if they continue the run: taken into it (what does not, or did not come along, the reader reads). */
    const takeCarried = (envelopes: ReadonlyArray<string>) => {
      let events: Array<RecordedEvent>
      try {
        events = envelopes.map(decodeEvent)
      } catch {
        return Effect.void
      }
      return recent.add(events) ? SubscriptionRef.set(recentEnd, recent.end) : Effect.void
    }

    // The head watcher: NOTIFY from every instance (with the events of a small group), the head row polled as a fallback.
    const listen = Effect.scoped(
      Effect.gen(function* () {
        const notifications = yield* sql.listen(PgSchema.channel)
        for (;;) {
          const notification = PgSchema.parsePayload((yield* Queue.take(notifications)).payload)
          if (notification === undefined) continue
          // This node's own groups are in the run already (unless the NOTIFY overtook the writer's answer).
          if (notification.head > recent.end && notification.envelopes.length > 0) yield* takeCarried(notification.envelopes)
          yield* learn(notification.head)
        }
      }),
    )
    yield* Effect.forkScoped(
      Effect.forever(
        listen.pipe(
          Effect.catchCause((cause) => Effect.andThen(Effect.logDebug("event store: LISTEN failed, relying on the poll until it is back", cause), Effect.sleep("1 second"))),
        ),
      ),
    )
    const poll = sql<{ position: bigint; pruned_through: bigint }>`SELECT position, pruned_through FROM tasklane_head`.pipe(
      Effect.flatMap(([head]) => {
        if (head === undefined) return Effect.void
        watermark.prunedThrough = Math.max(watermark.prunedThrough, Number(head.pruned_through))
        return learn(Number(head.position))
      }),
      Effect.catchCause((cause) => Effect.logDebug("event store: polling the head failed", cause)),
    )
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(options.pollMillis ?? 1000), poll)))

    const oldestRetained = attempt(
      "retention",
      Effect.map(sql<{ oldest: bigint | null; head: bigint }>`SELECT (SELECT min(position) FROM tasklane_events) AS oldest, position AS head FROM tasklane_head`, ([r]) =>
        r?.oldest != null ? Number(r.oldest) : Number(r?.head ?? 0) + 1),
    )

    /** Fails with PositionPruned when `position` (>= 1) is at or below the watermark (events from there may be gone). */
    const checkPruned = (position: number) =>
      position >= 1 && position <= watermark.prunedThrough
        ? Effect.flatMap(oldestRetained, (oldest) =>
          Effect.fail(new PositionPruned({ requested: position, prunedThrough: watermark.prunedThrough, oldestRetained: oldest })))
        : Effect.void

    const readAllRaw = (fromPosition: number, limit: number) =>
      attempt(
        "readAll",
        Effect.map(
          sql<{ envelope: string }>`SELECT envelope FROM tasklane_events WHERE position >= ${Math.max(1, Math.ceil(fromPosition))} ORDER BY position LIMIT ${limit}`,
          (rows) => rows.map((r) => decodeEvent(r.envelope)),
        ),
      )

    const readAll = (fromPosition: number, limit?: number) =>
      limit !== undefined && limit <= 0
        ? Effect.succeed([])
        : Effect.gen(function* () {
          const from = Math.ceil(fromPosition)
          yield* checkPruned(from)
          const events = yield* readAllRaw(from, limit ?? Number.MAX_SAFE_INTEGER)
          // A prune that overtook the read may have left a hole in what it returned.
          yield* checkPruned(from)
          return events
        })

    // The one reader of what other instances committed: whenever the known head passes the run, it reads on from the run's end.
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          yield* Queue.take(behind)
          if ((yield* SubscriptionRef.get(committed)) <= recent.end) return
          const events = yield* readAllRaw(recent.end + 1, PAGE)
          // Nothing there, or a gap before what is: positions a prune took.
          if (!recent.add(events)) recent.restart(events, yield* SubscriptionRef.get(committed))
          else if (events.length === 0) recent.restart([], yield* SubscriptionRef.get(committed))
          yield* SubscriptionRef.set(recentEnd, recent.end)
          // A page at a time: more to read goes round again.
          if ((yield* SubscriptionRef.get(committed)) > recent.end) Queue.offerUnsafe(behind, undefined)
        }).pipe(
          Effect.catchCause((cause) =>
            Effect.andThen(Effect.logDebug("event store: reading the newest events failed", cause), Effect.andThen(Effect.sleep("1 second"), Effect.sync(() => Queue.offerUnsafe(behind, undefined))))
          ),
        ),
      ),
    )

    const subscribe = (fromPosition: number): Stream.Stream<RecordedEvent, StoreError | PositionPruned> =>
      Stream.unwrap(
        Effect.gen(function* () {
          // From 0: everything retained, holes accepted. From a position: gapless, or PositionPruned.
          const strict = Math.ceil(fromPosition) >= 1
          if (strict) yield* checkPruned(Math.ceil(fromPosition))
          const pull = (next: number): Effect.Effect<readonly [ReadonlyArray<RecordedEvent>, Option.Option<number>], StoreError | PositionPruned> =>
            Effect.gen(function* () {
              for (;;) {
                const held = recent.from(next, PAGE)
                let events = held ?? []
                if (held === undefined) {
                  // Before the newest events: read the log.
                  events = yield* readAllRaw(next, PAGE)
                  if (strict) yield* checkPruned(next)
                }
                const last = events.at(-1)
                if (last !== undefined) return [events, Option.some(last.position + 1)] as const
                // Nothing at or after `next` yet (or only holes a prune left): wait for the run to pass it.
                const seen = Math.max(recent.end, next - 1)
                yield* Stream.runHead(Stream.filter(SubscriptionRef.changes(recentEnd), (end) => end > seen))
              }
            })
          return Stream.paginate(Math.max(1, Math.ceil(fromPosition)), pull)
        }),
      )

    const readStreamRows = (operation: string, stream: TaskId, fromVersion = 1, limit?: number) =>
      attempt(
        operation,
        Effect.map(
          sql<{ envelope: string }>`SELECT envelope FROM tasklane_events WHERE stream = ${stream} AND version >= ${Math.max(1, Math.ceil(fromVersion))}
            ORDER BY version LIMIT ${limit ?? Number.MAX_SAFE_INTEGER}`,
          (rows) => rows.map((r) => r.envelope),
        ),
      )

    const states = (operation: string, rows: ReadonlyArray<{ readonly state: string }>) => rows.map((r) => parseState(operation, r.state))

    const getTask = (stream: TaskId) =>
      attempt("getTask", Effect.map(sql<{ state: string }>`SELECT state FROM tasklane_tasks WHERE stream = ${stream}`, (rows) => states("getTask", rows)[0]))

    const listTasks = (filter: TaskFilter, page?: { readonly limit?: number; readonly cursor?: string }) =>
      Effect.suspend(() => {
        const limit = Math.max(1, Math.floor(page?.limit ?? 50))
        let after = page?.cursor === undefined ? undefined : Keys.decodeCursor(page.cursor)
        if (page?.cursor !== undefined && after === undefined) {
          return Effect.fail(new StoreError({ operation: "listTasks", reason: `invalid cursor ${JSON.stringify(page.cursor)}` }))
        }
        const needle = filter.search?.toLowerCase()
        const found = (text: string | undefined) => text !== undefined && text.toLowerCase().includes(needle!)
        // Indexed filters in SQL; the two that scan (forkedFrom, search) here, as the LevelDB store does.
        const keep = (state: Replay.TaskState) =>
          (filter.forkedFrom === undefined || state.context.forkedFrom?.taskId === filter.forkedFrom) &&
          (!needle || found(state.context.taskId) || found(state.context.name) || found(state.context.definitionId))
        const scans = filter.forkedFrom !== undefined || !!needle
        return attempt(
          "listTasks",
          Effect.gen(function* () {
            const kept: Array<{ readonly state: Replay.TaskState; readonly key: string }> = []
            for (;;) {
              const conditions = [sql`listed`]
              if (filter.status !== undefined) conditions.push(sql`status = ${filter.status}`)
              if (filter.definitionId !== undefined) conditions.push(sql`definition_id = ${filter.definitionId}`)
              if (filter.parentId !== undefined) conditions.push(sql`parent_id = ${filter.parentId}`)
              if (after !== undefined) conditions.push(sql`created_key > ${after}`)
              const batch = scans ? Math.max(PAGE, limit + 1) : limit + 1
              const rows = yield* sql<{ state: string; created_key: string }>`SELECT state, created_key FROM tasklane_tasks
                WHERE ${sql.and(conditions)} ORDER BY created_key LIMIT ${batch}`
              for (const row of rows) {
                const state = parseState("listTasks", row.state)
                if (keep(state)) kept.push({ state, key: row.created_key })
              }
              if (rows.length < batch || kept.length > limit) break
              after = rows.at(-1)!.created_key
            }
            const shown = kept.slice(0, limit)
            const tasks = shown.map((entry) => entry.state)
            return kept.length > limit ? ({ tasks, cursor: Keys.encodeCursor(shown.at(-1)!.key) } satisfies TaskPage) : ({ tasks } satisfies TaskPage)
          }),
        )
      })

    const rebuildProjections = writer.exclusive(
      attempt(
        "rebuildProjections",
        writerSql.withTransaction(
          Effect.gen(function* () {
            yield* writerSql`SELECT position FROM tasklane_head FOR UPDATE`
            const rows = yield* writerSql<{ envelope: string }>`SELECT envelope FROM tasklane_events ORDER BY position`
            const summaries = foldLog(rows.map((r) => decodeEvent(r.envelope)))
            yield* writerSql`DELETE FROM tasklane_tasks`
            for (let i = 0; i < summaries.length; i += PAGE) yield* Summary.insert(writerSql, summaries.slice(i, i + PAGE))
          }),
        ),
      ),
    )

    const store: EventStore["Service"] = {
      append: writer.append,
      readStream: (stream, fromVersion) => Effect.flatMap(readStreamRows("readStream", stream, fromVersion), (rows) => attempt("readStream", Effect.sync(() => rows.map(decodeEvent)))),
      readStreamJson: (stream, fromVersion, limit) => Effect.map(readStreamRows("readStreamJson", stream, fromVersion, limit), (rows) => `[${rows.join(",")}]`),
      readAll,
      subscribe,
      head: SubscriptionRef.get(committed),
      getTask,
      // What this node wrote or read last of a task, if it still has it: the tasks a node runs are mostly written by it alone (saves a read a command).
      getTaskToAppend: (stream) => Effect.suspend(() => {
        const cached = writer.cached(stream)
        return cached !== undefined ? Effect.succeed(cached) : Effect.tap(getTask(stream), (state) => Effect.sync(() => state !== undefined && writer.remember(state)))
      }),
      listTasks,
      findByIdempotencyKey: (key) =>
        attempt("findByIdempotencyKey", Effect.map(sql<{ state: string }>`SELECT state FROM tasklane_tasks WHERE idempotency_key = ${key}`, (rows) => states("findByIdempotencyKey", rows)[0])),
      countByStatus: attempt(
        "countByStatus",
        Effect.map(sql<{ status: string; n: bigint }>`SELECT status, count(*) AS n FROM tasklane_tasks WHERE listed GROUP BY status`, (rows) => {
          const counts = emptyCounts()
          for (const row of rows) if ((taskStatuses as ReadonlyArray<string>).includes(row.status)) counts[row.status as keyof typeof counts] = Number(row.n)
          return counts
        }),
      ),
      pendingHooks: attempt(
        "pendingHooks",
        Effect.map(sql<{ state: string }>`SELECT state FROM tasklane_tasks WHERE pending_hook IS NOT NULL ORDER BY stream`, (rows) => states("pendingHooks", rows)),
      ),
      rebuildProjections,
      dumpProjections: attempt("dumpProjections", Summary.dump(sql, (json) => parseState("dumpProjections", json))),
      prune: Prune.make({
        sql,
        writerSql,
        exclusive: writer.exclusive,
        pruned: (prunedThrough) => void (watermark.prunedThrough = Math.max(watermark.prunedThrough, prunedThrough)),
        prunedThrough: () => watermark.prunedThrough,
      }),
      retention: Effect.gen(function* () {
        const oldest = yield* oldestRetained
        const [size] = yield* attempt(
          "retention",
          sql<{ bytes: bigint }>`SELECT sum(pg_total_relation_size(c.oid))::int8 AS bytes FROM pg_class c
            WHERE c.relname IN ('tasklane_events', 'tasklane_tasks', 'tasklane_head', 'tasklane_schedules') AND c.relkind = 'r'`,
        )
        return { prunedThrough: watermark.prunedThrough, oldestRetained: oldest, sizeOnDisk: size?.bytes == null ? undefined : Number(size.bytes) }
      }),
      appendSchedule: (records) =>
        records.length === 0
          ? attempt("appendSchedule", Effect.map(sql<{ seq: bigint }>`SELECT schedule_head AS seq FROM tasklane_head`, ([r]) => Number(r?.seq ?? 0)))
          : Effect.flatMap(ScheduleRecords.encode(records), writer.appendSchedule),
      readSchedules: attempt(
        "readSchedules",
        Effect.map(sql<{ seq: bigint; record: string }>`SELECT seq, record FROM tasklane_schedules ORDER BY seq`, (rows) =>
          ScheduleRecords.decode(rows.map((row) => [Number(row.seq), row.record] as const))),
      ),
      health: SubscriptionRef.get(health),
      healthChanges: SubscriptionRef.changes(health),
    }
    return { store, keep: writer.remember }
  })
