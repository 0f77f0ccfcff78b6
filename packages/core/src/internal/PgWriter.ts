/**
 * The writer of the PostgreSQL store: group commit over one dedicated
 * connection, one transaction per group (Effect side; the fold per append is
 * AppendGroup's `Group`, plain code, so the rules, errors and envelopes are
 * the LevelDB store's).
 *
 * Appends and schedule appends are queued; the writer takes everything
 * queued and commits it as one group while the next group queues. Every
 * group ends in one statement (`write`) that moves the head row by the
 * group's size and takes its positions from it, inserts the events, inserts
 * and updates the summaries, inserts the schedule records and sends one
 * NOTIFY (delivered at commit; a small group's events ride along, so other
 * nodes need not read them). Every writer of every node moves the head
 * row, so groups serialize on its row lock, held from that statement to its
 * commit and no longer (no round trip to the client while it is held), and
 * positions are gapless in commit order. The positions are the statement's,
 * not the client's: the texts it writes carry them (the envelope, and the
 * summary's context), so it writes each text around its position.
 *
 * A conflict or a refused transition fails only its own append and takes no
 * position: appends are checked in JS against the summaries before them
 * rather than with a savepoint each, which would cost two round trips per
 * append instead of none. Each changed summary is written only at the
 * version it was read at, and a new one only if its task does not exist, so
 * the write itself proves the summaries the group was folded on; if one
 * moved, the whole statement fails and writes nothing. Two ways to those
 * summaries:
 *   - optimistic (`optimistic`): the summaries this writer cached from its own
 *     commits or kept from the store's reads (`remember`), and those it has
 *     not read without a lock; the write proves them. A group with a refusal
 *     does not take it (the refusal may rest on a summary another node
 *     changed; nothing would prove it).
 *   - locked (`locked`), exact: a transaction takes the head row lock first,
 *     reads every summary the group needs, folds, writes. Refusals, failed
 *     proofs and the first group go this way.
 *
 * If a group fails, its accepted appends fail with a StoreError, nothing of it
 * is visible, the cache is dropped, and health turns `degraded` until a group
 * commits again. Exclusive work (a rebuild, a prune) runs between groups and
 * drops the cache. Closing stops new appends, commits everything queued, then
 * ends the fiber.
 */
import { Cause, Deferred, Effect, Exit, Fiber, Queue, type Scope } from "effect"
import type * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import type { AppendRequest, AppendResult, BatchInfo } from "../EventStore.ts"
import { IdempotencyKeyTaken, StoreError } from "../StoreErrors.ts"
import type * as Replay from "../Replay.ts"
import type { RecordedEvent } from "../TaskEvent.ts"
import { Group, parseState, StateCache, type AppendError, type AppendJob, type ScheduleJob } from "./AppendGroup.ts"
import { describe, sqlState, toStoreError } from "./PgError.ts"
import * as PgSchema from "./PgSchema.ts"
import * as Summary from "./PgSummary.ts"

type Message =
  | AppendJob
  | ScheduleJob
  | { readonly _tag: "exclusive"; readonly work: Effect.Effect<unknown, StoreError>; readonly deferred: Deferred.Deferred<unknown, StoreError> }
  | { readonly _tag: "close" }

/** What the write raises when a summary is not at the version the group folded it from. */
const summaryChanged = "a task summary changed since it was read"

/** The write failed on a proof (a summary changed, or a task or key exists already, SQLSTATE 23505): nothing was written, the group may go the locked way. */
const provenStale = (error: SqlError | StoreError): boolean => describe(error).includes(summaryChanged) || sqlState(error) === "23505"

/** The head row: the last position, the schedule log's head, the prune watermark. */
interface HeadRow {
  readonly position: number
  readonly scheduleHead: number
  readonly prunedThrough: number
}

const positionKey = `,"position":`

/**
 * An envelope's text split around its position (`head`, `tail`), for the
 * write to put the real one between; undefined if it is not where the
 * envelope writes it. Before it come the id and the stream, JSON strings in
 * which a quote is escaped, so the first `,"position":` is the key.
 */
const aroundPosition = (text: string, position: number): readonly [string, string] | undefined => {
  const at = text.indexOf(positionKey) + positionKey.length
  const digits = String(position)
  return at >= positionKey.length && text.startsWith(digits, at) && text[at + digits.length] === "," ? [text.slice(0, at), text.slice(at + digits.length)] : undefined
}

/** The writer's interface to the store. */
export interface Writer {
  readonly append: (request: AppendRequest) => Effect.Effect<AppendResult, AppendError>
  readonly appendSchedule: (encoded: ReadonlyArray<string>) => Effect.Effect<number, StoreError>
  /** Runs `work` alone between two groups (on the writer's connection). */
  readonly exclusive: <A>(work: Effect.Effect<A, StoreError>) => Effect.Effect<A, StoreError>
  /** A task's summary as this writer last committed or read it, if it has it (possibly older than the stored one: another node may have written since). */
  readonly cached: (stream: string) => Replay.TaskState | undefined
  /** Keeps a summary read from the store, unless this writer has a newer one (the next group folds on it; its write proves it). */
  readonly remember: (state: Replay.TaskState) => void
}

/** Starts the writer fiber on `sql` (a client of one connection); it lives as long as the scope. */
export const make = (options: {
  readonly sql: SqlClient.SqlClient
  readonly onBatch?: ((info: BatchInfo) => void) | undefined
  readonly cacheSize?: number | undefined
  /** After each commit (with the new head and the group's events), before the callers hear of it. */
  readonly onCommit: (head: number, events: ReadonlyArray<RecordedEvent>) => Effect.Effect<void>
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
     * Summaries as this writer last committed them (or as the store last read
     * them to append on, `remember`): exact while no other node writes their
     * tasks (a daemon mostly writes the tasks it runs), and proven by every
     * write that folds on them. Reads land here at any time, even while a
     * group is in flight: a group pins what it was folded on (`optimistic`).
     */
    const cache = new StateCache(options.cacheSize ?? 10_000)
    /** The head as this writer's last group left it (or its locked read found it): the next group is folded on it. */
    let expected: HeadRow | undefined
    const forget = () => {
      cache.clear()
      expected = undefined
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

    /** The streams of `appends` that may exist (not `fresh`) and `unknown` says to read. */
    const streamsToRead = (appends: ReadonlyArray<AppendJob>, unknown: (stream: string) => boolean): Array<string> => {
      const streams = new Set<string>()
      for (const job of appends) if (job.request.fresh !== true && unknown(job.request.stream)) streams.add(job.request.stream)
      return [...streams]
    }

    /** The summaries of `streams` and which of `keys` an existing task owns (no query when there is nothing to read). */
    const readStates = (streams: ReadonlyArray<string>, keys: ReadonlyArray<string>) =>
      streams.length === 0 && keys.length === 0
        ? Effect.succeed({ states: new Map<string, Replay.TaskState>(), taken: new Set<string>() })
        : Effect.map(
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

    /** What a group is folded on: each stream's summary before it, and the idempotency keys an existing task owns. */
    interface Inputs {
      readonly stateOf: (stream: string) => Replay.TaskState | null
      readonly taken: ReadonlySet<string>
    }

    /** Folds a group on `head` (AppendGroup's Group) and lays out its rows. */
    const prepare = (appends: ReadonlyArray<AppendJob>, schedules: ReadonlyArray<ScheduleJob>, head: HeadRow, { stateOf, taken }: Inputs) => {
      // No records: the events, their envelopes and the states after are mapped onto the tables here.
      const group = new Group(undefined, head.position)
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
      const created: Array<Summary.Row> = []
      const changed: Array<Summary.Row> = []
      const from: Array<number> = []
      // The first new task with a key not taken gets it (as AppendGroup's seal claims keys).
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
      return { group, created, changed, from, records, head, after }
    }
    type Prepared = ReturnType<typeof prepare>

    const empty = (p: Prepared) => p.group.events.length === 0 && p.records.length === 0
    const refuses = (p: Prepared) => p.group.entries.some((entry) => entry.outcome._tag === "refused")

    /**
     * Every write of a group in one statement, at the head it finds: it moves
     * the head row by the group's size (only while the head's prune watermark
     * is the one the group was folded at) and takes its positions from what
     * that row held, whatever the group was folded on: events, new and changed
     * summaries (each changed one only at the version it was read at; one that
     * moved aborts the statement), the schedule records, and one NOTIFY,
     * delivered at commit. The texts are written with their positions
     * replaced by the real ones (`head || position || tail`). Answers the head
     * the group was written after, or undefined when the watermark had moved
     * (nothing written).
     */
    const write = (p: Prepared): Effect.Effect<HeadRow | undefined, SqlError | StoreError> =>
      Effect.suspend((): Effect.Effect<HeadRow | undefined, SqlError | StoreError> => {
        const events = p.group.events
        const folded = p.head.position
        const heads: Array<string> = []
        const tails: Array<string> = []
        for (let i = 0; i < events.length; i++) {
          const position = events[i]!.position
          const split = aroundPosition(p.group.envelopes[i]!, position)
          if (split === undefined) return Effect.fail(new StoreError({ operation: "append", reason: `the envelope at position ${position} does not carry its position` }))
          heads.push(split[0])
          tails.push(split[1])
        }
        // One-time subplans: the head the statement found, and whether it found it (nothing is written otherwise).
        const base = sql`(SELECT base FROM hd)`
        const found = sql`EXISTS (SELECT 1 FROM hd)`
        const at: Summary.Positions = { base, folded, when: found }
        return Effect.map(
          sql<{ base: bigint; schedule_base: bigint; pruned_through: bigint }>`
            WITH hd AS (
              UPDATE tasklane_head SET position = position + ${events.length}, schedule_head = schedule_head + ${p.records.length}
              WHERE pruned_through = ${p.head.prunedThrough}
              RETURNING position - ${events.length} AS base, schedule_head - ${p.records.length} AS schedule_base, pruned_through
            ), ev AS (
              INSERT INTO tasklane_events (position, stream, version, envelope)
              SELECT ${base} + e.rel, e.stream, e.version, e.head || (${base} + e.rel)::text || e.tail
              FROM unnest(${Summary.array(events.map((e) => e.position - folded))}::int8[], ${Summary.array(events.map((e) => e.stream as string))}::text[],
                ${Summary.array(events.map((e) => e.version))}::int4[], ${Summary.array(heads)}::text[], ${Summary.array(tails)}::text[]) AS e(rel, stream, version, head, tail)
              WHERE ${found}
              RETURNING position, envelope
            ), ins AS (
              ${Summary.insertStatement(sql, p.created, at)}
            ), upd AS (
              ${Summary.updateStatement(sql, p.changed, p.from, at)}
            ), sch AS (
              INSERT INTO tasklane_schedules (seq, record)
              SELECT (SELECT schedule_base FROM hd) + r.rel, r.record
              FROM unnest(${Summary.array(p.records.map((_, i) => i + 1))}::int8[], ${Summary.array(p.records)}::text[]) AS r(rel, record)
              WHERE ${found}
            )
            SELECT base, schedule_base, pruned_through,
              CASE WHEN (SELECT count(*) FROM upd) <> ${p.changed.length} THEN tasklane_fail(${summaryChanged}) END AS checked,
              CASE WHEN ${events.length > 0}::bool THEN pg_notify(${PgSchema.channel}, (base + ${events.length})::text || ${carried(heads, tails)}) END AS notified
            FROM hd`,
          ([row]) => row === undefined ? undefined : { position: Number(row.base), scheduleHead: Number(row.schedule_base), prunedThrough: Number(row.pruned_through) },
        )
      })

    /**
     * What the NOTIFY carries after the head: the group's envelopes, each
     * after a newline (JSON text has none of its own), when they fit in a
     * payload (PgSchema.payloadBytes, counted by the database in bytes);
     * otherwise nothing, and the other nodes read them. Groups whose texts
     * alone are longer are not even counted.
     */
    const carried = (heads: ReadonlyArray<string>, tails: ReadonlyArray<string>) => {
      let chars = 0
      for (let i = 0; i < heads.length; i++) chars += heads[i]!.length + tails[i]!.length + 21
      return chars > PgSchema.payloadBytes
        ? sql`''`
        : sql`coalesce((SELECT CASE WHEN sum(octet_length(envelope) + 1) + 20 <= ${PgSchema.payloadBytes} THEN string_agg(chr(10) || envelope, '' ORDER BY position) END FROM ev), '')`
    }

    /**
     * The usual way, one statement with no lock taken first: the group is
     * folded on the head this writer expects and on the summaries it cached
     * from its own commits (those it has not are read first, without a lock),
     * and `write` takes the real head. If another node wrote meanwhile, the
     * positions differ and the group is folded again on the real head (only
     * positions change: the summaries were proven by the write). Answers
     * undefined, having written nothing, when that proof failed (a summary
     * another node changed, a task or key another node created), when an
     * append was refused (it may have been judged on such a summary), or when
     * a prune moved the watermark: the group then goes the locked way.
     */
    const optimistic = (appends: ReadonlyArray<AppendJob>, schedules: ReadonlyArray<ScheduleJob>, head: HeadRow) =>
      Effect.gen(function* () {
        const { states, taken } = yield* readStates(streamsToRead(appends, (stream) => cache.get(stream) === undefined), triggerKeys(appends))
        // Pinned at the first fold: a fold again must be on what the write proved, and the cache may change
        // meanwhile (`remember` keeps reads, and a read after the commit finds this very group's result).
        const pinned = new Map<string, Replay.TaskState | null>()
        const inputs: Inputs = {
          stateOf: (stream) => {
            let state = pinned.get(stream)
            if (state === undefined) {
              const cached = cache.get(stream)
              state = cached !== undefined ? cached : (states.get(stream) ?? null)
              pinned.set(stream, state)
            }
            return state
          },
          taken,
        }
        const p = prepare(appends, schedules, head, inputs)
        if (refuses(p)) return undefined
        if (empty(p)) return p
        const found = yield* write(p).pipe(Effect.catchIf(provenStale, () => Effect.succeed(undefined)))
        if (found === undefined) return undefined
        return found.position === head.position && found.scheduleHead === head.scheduleHead ? p : prepare(appends, schedules, found, inputs)
      })

    /**
     * The locked way, exact: one transaction that takes the head row lock,
     * reads every summary the group needs (no cache) and the idempotency keys,
     * folds on what it read, and writes.
     */
    const locked = (appends: ReadonlyArray<AppendJob>, schedules: ReadonlyArray<ScheduleJob>) =>
      sql.withTransaction(
        Effect.gen(function* () {
          const [row] = yield* sql<{ position: bigint; schedule_head: bigint; pruned_through: bigint }>`
            SELECT h.position, h.schedule_head, h.pruned_through FROM tasklane_head h FOR UPDATE`
          if (row === undefined) return yield* new StoreError({ operation: "append", reason: "the head row is missing (tasklane_head)" })
          const head: HeadRow = { position: Number(row.position), scheduleHead: Number(row.schedule_head), prunedThrough: Number(row.pruned_through) }
          const { states, taken } = yield* readStates(streamsToRead(appends, () => true), triggerKeys(appends))
          const p = prepare(appends, schedules, head, { stateOf: (stream) => states.get(stream) ?? null, taken })
          if (empty(p)) return p
          const found = yield* write(p)
          if (found?.position !== head.position) return yield* new StoreError({ operation: "append", reason: "the head row changed under its lock" })
          return p
        }),
      )

    const transact = (appends: ReadonlyArray<AppendJob>, schedules: ReadonlyArray<ScheduleJob>) =>
      Effect.flatMap(expected === undefined ? Effect.succeed(undefined) : optimistic(appends, schedules, expected), (p) =>
        p !== undefined ? Effect.succeed(p) : locked(appends, schedules))

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
        const { group, after } = exit.success
        expected = after
        for (const [stream, state] of group.states()) cache.set(stream, state)
        if (faulted) {
          faulted = false
          yield* options.onFault(undefined)
        }
        yield* options.onCommit(group.head, group.events)
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
      cached: (stream) => cache.get(stream) ?? undefined,
      remember: (state) => {
        const known = cache.get(state.context.taskId)
        if (known === undefined || known === null || known.context.version < state.context.version) cache.set(state.context.taskId, state)
      },
    }
  })
