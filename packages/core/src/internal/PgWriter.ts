/**
 * The writer of the PostgreSQL store: group commit over one dedicated
 * connection, one transaction per group (Effect side; the fold per append is
 * AppendGroup's `Group`, plain code, so the rules, errors and envelopes are
 * the LevelDB store's).
 *
 * Appends and schedule appends are queued; the writer takes everything
 * queued and commits it as one group while the next group queues. Every
 * group ends in one statement (`write`) that moves the head row, inserts the
 * events, inserts and updates the summaries, inserts the schedule records and
 * sends one NOTIFY (delivered at commit) — and does all of it only if the head
 * row is still the one the group was folded on. Every writer of every
 * instance moves the head row, so groups serialize on it and positions are
 * gapless in commit order. A conflict or a refused transition fails only its
 * own append and takes no position: appends are checked in JS against the
 * summaries, exact because no other group can commit in between (the head
 * condition), rather than with a savepoint each, which would cost two round
 * trips per append instead of none.
 *
 * Two ways to a group's summaries:
 *   - fast: while the head row is what this writer last wrote, the summaries
 *     it cached from its own commits are exact; a group that needs nothing
 *     else (no stream it has not cached, no idempotency key to look up) is
 *     folded on them and written by the one statement, as its own
 *     transaction. If another instance wrote meanwhile, the head condition
 *     fails, nothing is written, and the group goes the locked way.
 *   - locked: a transaction takes the head row lock (`FOR UPDATE`), reads the
 *     summaries it has not cached and the idempotency keys it needs, folds,
 *     and writes. Cached summaries are trusted first even after another
 *     instance wrote (see `locked`); the write proves them.
 * A changed summary is also written only at the version it was read at; one
 * that moved anyway (another instance wrote it since this writer cached it,
 * or a writer outside the store) aborts the whole statement.
 *
 * If a group fails, its accepted appends fail with a StoreError, nothing of it
 * is visible, the cache is dropped, and health turns `degraded` until a group
 * commits again. Exclusive work (a rebuild, a prune) runs between groups and
 * drops the cache. Closing stops new appends, commits everything queued, then
 * ends the fiber.
 */
import { Cause, Data, Deferred, Effect, Exit, Fiber, Queue, type Scope } from "effect"
import type * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import type { AppendRequest, AppendResult, BatchInfo } from "../EventStore.ts"
import { IdempotencyKeyTaken, StoreError } from "../StoreErrors.ts"
import type * as Replay from "../Replay.ts"
import { emptyCounts, Group, parseState, StateCache, type AppendError, type AppendJob, type Records, type ScheduleJob } from "./AppendGroup.ts"
import * as Keys from "./RecordKeys.ts"
import { describe, toStoreError } from "./PgError.ts"
import { channel } from "./PgSchema.ts"
import * as Summary from "./PgSummary.ts"

type Message =
  | AppendJob
  | ScheduleJob
  | { readonly _tag: "exclusive"; readonly work: Effect.Effect<unknown, StoreError>; readonly deferred: Deferred.Deferred<unknown, StoreError> }
  | { readonly _tag: "close" }

/** Collects the envelopes a Group writes, by position; the group's other records are the key layout's, mapped onto tables elsewhere (PgSummary). */
/** What the write raises when a summary is not at the version the group folded it from. */
const summaryChanged = "a task summary changed under the head lock"

/** The group was folded on a cached summary that another instance changed since: it goes again, reading every summary. */
class StaleCache extends Data.TaggedError("StaleCache")<{}> {}

class Envelopes implements Records {
  readonly byPosition = new Map<number, string>()
  put(key: string, value: string): void {
    if (key.startsWith(Keys.logPrefix)) this.byPosition.set(Keys.positionOfLogKey(key), value)
  }
  del(): void {}
}

/** The writer's interface to the store. */
export interface Writer {
  readonly append: (request: AppendRequest) => Effect.Effect<AppendResult, AppendError>
  readonly appendSchedule: (encoded: ReadonlyArray<string>) => Effect.Effect<number, StoreError>
  /** Runs `work` alone between two groups (on the writer's connection). */
  readonly exclusive: <A>(work: Effect.Effect<A, StoreError>) => Effect.Effect<A, StoreError>
}

/** Starts the writer fiber on `sql` (a client of one connection); it lives as long as the scope. */
export const make = (options: {
  readonly sql: SqlClient.SqlClient
  readonly onBatch?: ((info: BatchInfo) => void) | undefined
  readonly cacheSize?: number | undefined
  /** After each commit (with the new head), before the callers hear of it. */
  readonly onCommit: (head: number) => Effect.Effect<void>
  /** A commit failed (the error), or one succeeded after a failure (undefined). */
  readonly onFault: (error: StoreError | undefined) => Effect.Effect<void>
}): Effect.Effect<Writer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { sql } = options
    const queue = yield* Queue.unbounded<Message>()
    let closed = false
    let faulted = false
    const closedError = new StoreError({ operation: "append", reason: "the event store is closed" })
    /**
     * Summaries as this writer last committed them, valid only while the head
     * row is still what its last commit wrote (`lastWritten`): then no other
     * instance has written since, and a group needs no read of the summaries.
     */
    const cache = new StateCache(options.cacheSize ?? 10_000)
    let lastWritten: HeadRow | undefined
    const forget = () => {
      cache.clear()
      lastWritten = undefined
    }

    /** The idempotency key a trigger append carries, if any. */
    const triggerKey = (job: AppendJob): string | undefined => {
      for (const { event } of job.request.events) if (event._tag === "TaskTriggered") return event.idempotencyKey
      return undefined
    }

    /** The idempotency keys the triggers among `appends` carry (looked up with the states, before the fold). */
    const triggerKeys = (appends: ReadonlyArray<AppendJob>): Array<string> => {
      const keys = new Set<string>()
      for (const job of appends) {
        for (const { event } of job.request.events) if (event._tag === "TaskTriggered" && event.idempotencyKey !== undefined) keys.add(event.idempotencyKey)
      }
      return [...keys]
    }

    /** The summaries of `streams` and which of `keys` an existing task owns. */
    const readStates = (streams: ReadonlyArray<string>, keys: ReadonlyArray<string>) =>
      Effect.map(
        sql<{ state: string | null; key: string | null }>`SELECT state, NULL AS key FROM tasklane_tasks WHERE stream = ANY(${Summary.array(streams)}::text[])
          UNION ALL SELECT NULL, idempotency_key FROM tasklane_tasks WHERE idempotency_key = ANY(${Summary.array(keys)}::text[])`,
        (rows) => {
          const states = new Map<string, Replay.TaskState>()
          const taken = new Set<string>()
          for (const row of rows) {
            if (row.state !== null) {
              const state = parseState("append", row.state)
              states.set(state.context.taskId, state)
            } else if (row.key !== null) taken.add(row.key)
          }
          return { states, taken }
        },
      )

    /** A head row as text, `position:schedule_head:pruned_through`, to compare. */
    interface HeadRow {
      readonly position: number
      readonly scheduleHead: number
      readonly prunedThrough: number
    }
    const rowText = (h: HeadRow) => `${h.position}:${h.scheduleHead}:${h.prunedThrough}`

    /** Folds a group on `head` with the given summaries (AppendGroup's Group) and lays out its rows. */
    const prepare = (
      appends: ReadonlyArray<AppendJob>,
      schedules: ReadonlyArray<ScheduleJob>,
      head: HeadRow,
      stateOf: (stream: string) => Replay.TaskState | null,
      taken: ReadonlySet<string>,
    ) => {
      const envelopes = new Envelopes()
      const group = new Group(envelopes, head.position)
      // A trigger that must own its key is refused when the key has an owner, or an earlier append here claims it.
      const keyed = new Set<string>()
      for (const job of appends) {
        const key = job.request.uniqueKey === true ? triggerKey(job) : undefined
        if (key !== undefined && (taken.has(key) || keyed.has(key))) {
          group.refuse(job, new IdempotencyKeyTaken({ stream: job.request.stream, key }))
          continue
        }
        if (key !== undefined) keyed.add(key)
        group.add(job, group.knows(job.request.stream) ? null : stateOf(job.request.stream))
      }
      for (const job of schedules) group.addSchedule(job, head.scheduleHead)
      const sealed = group.seal(emptyCounts(), (key) => taken.has(key))
      const created: Array<Summary.Row> = []
      const changed: Array<Summary.Row> = []
      const from: Array<number> = []
      // The same order as the seal's claims: the first new task with a key not taken gets it.
      const claimed = new Set<string>()
      for (const [stream, state] of group.after) {
        const before = group.before.get(stream) ?? null
        if (before === null) {
          const key = state.context.idempotencyKey
          const claims = key !== undefined && !taken.has(key) && !claimed.has(key)
          if (claims) claimed.add(key)
          created.push({ state, idempotencyKey: claims ? key : null })
        } else {
          changed.push({ state, idempotencyKey: null })
          from.push(before.context.version)
        }
      }
      const records = group.schedules.flatMap(({ job }) => job.encoded)
      const after: HeadRow = { position: group.head, scheduleHead: head.scheduleHead + records.length, prunedThrough: head.prunedThrough }
      return { group, sealed, envelopes, created, changed, from, records, head, after }
    }
    type Prepared = ReturnType<typeof prepare>

    const empty = (p: Prepared) => p.group.events.length === 0 && p.records.length === 0

    /**
     * Every write of a group in one statement: the head row (only if it still
     * is `p.head`: answers false and writes nothing otherwise), events, new and
     * changed summaries (each changed one only at the version it was read at;
     * one that moved aborts the statement: a writer outside the store), the
     * schedule records, and one NOTIFY, delivered at commit.
     */
    const write = (p: Prepared): Effect.Effect<boolean, SqlError> => {
      const events = p.group.events
      const seqs = p.records.map((_, i) => p.head.scheduleHead + 1 + i)
      const exists = sql`EXISTS (SELECT 1 FROM hd)`
      return Effect.map(
        sql<{ locked: number }>`
          WITH hd AS (
            UPDATE tasklane_head SET position = ${p.after.position}, schedule_head = ${p.after.scheduleHead}
            WHERE position = ${p.head.position} AND schedule_head = ${p.head.scheduleHead} AND pruned_through = ${p.head.prunedThrough}
            RETURNING 1
          ), ev AS (
            INSERT INTO tasklane_events (position, stream, version, envelope)
            SELECT * FROM unnest(${Summary.array(events.map((e) => e.position))}::int8[], ${Summary.array(events.map((e) => e.stream as string))}::text[],
              ${Summary.array(events.map((e) => e.version))}::int4[], ${Summary.array(events.map((e) => p.envelopes.byPosition.get(e.position)!))}::text[])
            WHERE ${exists}
          ), ins AS (
            INSERT INTO tasklane_tasks SELECT * FROM ${Summary.insertRows(sql, p.created)} WHERE ${exists}
          ), upd AS (
            ${Summary.updateStatement(sql, p.changed, p.from, exists)}
          ), sch AS (
            INSERT INTO tasklane_schedules (seq, record) SELECT * FROM unnest(${Summary.array(seqs)}::int8[], ${Summary.array(p.records)}::text[]) WHERE ${exists}
          )
          SELECT (SELECT count(*) FROM hd)::int4 AS locked,
            CASE WHEN ${exists} AND (SELECT count(*) FROM upd) <> ${p.changed.length}
              THEN tasklane_fail(${summaryChanged}) END AS checked,
            (SELECT pg_notify(${channel}, ${String(p.after.position)}) WHERE ${events.length > 0}::bool AND ${exists}) AS notified`,
        ([row]) => row?.locked === 1,
      )
    }

    /**
     * The fast path, while the cache is exact (the head row is what this
     * writer last wrote) and the group needs nothing read (every stream cached
     * or fresh, no idempotency key to look up): the group is folded on the
     * cached head and written by one statement in its own transaction, no
     * lock taken first. If another instance wrote meanwhile, the statement's
     * head condition fails, nothing is written, and the group goes the
     * locked way; so does a group with nothing to write but refusals (no
     * statement checked the cache then). Answers undefined when it does not
     * apply or lost.
     */
    // Whether the head had moved when the last locked group took it (others write too: a cluster).
    let othersWrote = false

    const fast = (appends: ReadonlyArray<AppendJob>, schedules: ReadonlyArray<ScheduleJob>) =>
      Effect.gen(function* () {
        // Another instance wrote before the last locked group: it likely has again, and the attempt would cost a round trip for nothing.
        if (lastWritten === undefined || othersWrote || triggerKeys(appends).length > 0) return undefined
        if (appends.some((job) => job.request.fresh !== true && cache.get(job.request.stream) === undefined)) return undefined
        const p = prepare(appends, schedules, lastWritten, (stream) => cache.get(stream) ?? null, new Set())
        // Nothing to write checks no head: a refusal judged on the cache alone may be stale (another instance wrote), so the locked way judges it again.
        if (empty(p)) return p.group.entries.some((entry) => entry.outcome._tag === "refused") ? undefined : p
        return (yield* write(p)) ? p : undefined
      })

    /**
     * The locked way: one transaction that takes the head lock, reads what it
     * needs, folds and writes. With `trustCache`, the summaries cached from
     * this writer's own commits are used even though another instance wrote
     * since (in a cluster each daemon mostly writes the tasks it runs, so they
     * are usually still exact): a changed summary makes the conditional write
     * fail, and a refusal judged on one is not trusted; either way the group
     * is {@link StaleCache} and goes again without the cache.
     */
    const locked = (appends: ReadonlyArray<AppendJob>, schedules: ReadonlyArray<ScheduleJob>, trustCache: boolean) =>
      sql.withTransaction(
        Effect.gen(function* () {
          const keys = triggerKeys(appends)
          // The lock; what this transaction reads after it is what the last group before it committed.
          const [row] = yield* sql<{ position: bigint; schedule_head: bigint; pruned_through: bigint }>`
            SELECT h.position, h.schedule_head, h.pruned_through FROM tasklane_head h FOR UPDATE`
          if (row === undefined) return yield* new StoreError({ operation: "append", reason: "the head row is missing (tasklane_head)" })
          const head: HeadRow = { position: Number(row.position), scheduleHead: Number(row.schedule_head), prunedThrough: Number(row.pruned_through) }
          const moved = lastWritten === undefined || rowText(head) !== rowText(lastWritten)
          othersWrote = moved
          if (moved && !trustCache) cache.clear()
          const cachedFor = (job: AppendJob) => job.request.fresh !== true && cache.get(job.request.stream) !== undefined
          const streams = [...new Set(appends.filter((job) => job.request.fresh !== true && !cachedFor(job)).map((job) => job.request.stream as string))]
          const { states, taken } = streams.length > 0 || keys.length > 0
            ? yield* readStates(streams, keys)
            : { states: new Map<string, Replay.TaskState>(), taken: new Set<string>() }
          const p = prepare(appends, schedules, head, (stream) => {
            const cached = cache.get(stream)
            return cached !== undefined ? cached : (states.get(stream) ?? null)
          }, taken)
          if (moved && p.group.entries.some(({ job, outcome }) => outcome._tag === "refused" && cachedFor(job))) return yield* new StaleCache()
          const written = empty(p) ? true : yield* write(p).pipe(
            Effect.catchIf((error) => moved && describe(error).includes(summaryChanged), () => Effect.fail(new StaleCache())),
          )
          if (!written) return yield* new StoreError({ operation: "append", reason: "the head row changed under its lock" })
          return p
        }),
      )

    const transact = (appends: ReadonlyArray<AppendJob>, schedules: ReadonlyArray<ScheduleJob>) =>
      Effect.flatMap(fast(appends, schedules), (p) =>
        p !== undefined
          ? Effect.succeed(p)
          : locked(appends, schedules, true).pipe(Effect.catchTag("StaleCache", () => locked(appends, schedules, false))))

    const commitGroup = (appends: ReadonlyArray<AppendJob>, schedules: ReadonlyArray<ScheduleJob>) =>
      Effect.gen(function* () {
        const startedAt = performance.now()
        // A stored summary that does not parse throws inside the fold: every failure becomes the group's StoreError.
        const exit = yield* Effect.result(transact(appends, schedules).pipe(Effect.catchCause((cause) => Effect.fail(toStoreError("append")(Cause.squash(cause))))))
        if (exit._tag === "Failure") {
          forget()
          const error = exit.failure
          faulted = true
          yield* options.onFault(error)
          for (const job of appends) Deferred.doneUnsafe(job.deferred, Exit.fail(error))
          for (const job of schedules) Deferred.doneUnsafe(job.deferred, Exit.fail(new StoreError({ operation: "appendSchedule", reason: error.reason })))
          return
        }
        const { group, sealed, after } = exit.success
        lastWritten = after
        for (const [stream, state] of sealed.states) cache.set(stream, state)
        if (faulted) {
          faulted = false
          yield* options.onFault(undefined)
        }
        yield* options.onCommit(group.head)
        const refused = group.entries.filter((entry) => entry.outcome._tag === "refused").length
        options.onBatch?.({
          appends: group.entries.length,
          events: group.events.length,
          refused,
          scheduleRecords: group.schedules.reduce((sum, { job }) => sum + job.encoded.length, 0),
          durationMs: performance.now() - startedAt,
        })
        for (const { job, outcome } of group.entries) {
          Deferred.doneUnsafe(job.deferred, outcome._tag === "accepted" ? Exit.succeed(outcome.result) : Exit.fail(outcome.error))
        }
        for (const { job, seq } of group.schedules) Deferred.doneUnsafe(job.deferred, Exit.succeed(seq))
      })

    /** Commits one takeAll in order: groups split around exclusive work; answers true at close. */
    const handle = (messages: ReadonlyArray<Message>) =>
      Effect.gen(function* () {
        let appends: Array<AppendJob> = []
        let schedules: Array<ScheduleJob> = []
        const flush = Effect.suspend(() => {
          if (appends.length === 0 && schedules.length === 0) return Effect.void
          const [a, s] = [appends, schedules]
          appends = []
          schedules = []
          return commitGroup(a, s)
        })
        for (const message of messages) {
          if (message._tag === "append") appends.push(message)
          else if (message._tag === "schedule") schedules.push(message)
          else if (message._tag === "exclusive") {
            yield* flush
            // Exclusive work (a rebuild, a prune) rewrites summaries: nothing cached survives it.
            forget()
            Deferred.doneUnsafe(message.deferred, yield* Effect.exit(message.work))
          } else {
            yield* flush
            return true
          }
        }
        yield* flush
        return false
      })

    const fiber = yield* Effect.forkScoped(
      Effect.gen(function* () {
        for (;;) if (yield* handle(yield* Queue.takeAll(queue))) return
      }),
    )
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        Queue.offerUnsafe(queue, { _tag: "close" })
        return Effect.asVoid(Fiber.await(fiber))
      }),
    )

    const enqueue = <A, E>(message: (deferred: Deferred.Deferred<A, E>) => Message, error: E): Effect.Effect<A, E> =>
      Effect.suspend(() => {
        if (closed) return Effect.fail(error)
        const deferred = Deferred.makeUnsafe<A, E>()
        Queue.offerUnsafe(queue, message(deferred))
        return Deferred.await(deferred)
      })

    return {
      append: (request) => enqueue<AppendResult, AppendError>((deferred) => ({ _tag: "append", request, deferred }), closedError),
      appendSchedule: (encoded) =>
        enqueue<number, StoreError>((deferred) => ({ _tag: "schedule", encoded, deferred }), new StoreError({ operation: "appendSchedule", reason: closedError.reason })),
      exclusive: <A>(work: Effect.Effect<A, StoreError>) =>
        enqueue<unknown, StoreError>((deferred) => ({ _tag: "exclusive", work, deferred }), closedError) as Effect.Effect<A, StoreError>,
    }
  })
