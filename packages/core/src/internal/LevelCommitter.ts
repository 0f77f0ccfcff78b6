/**
 * The writer fiber of the level store: group commit with one write in flight.
 *
 * Appends are queued. While a batch is being written (synced), the writer
 * already validates and batches the appends that arrive, as the next group,
 * against the state the in-flight batch will leave. When the write completes,
 * the writer commits it to the view, publishes its events, completes its
 * callers, and starts writing the next group at once. If the disk is idle and
 * a backlog is being prepared, a group is started as soon as it holds
 * {@link SPLIT_EVENTS} events, so preparing the rest overlaps with the write.
 *
 * If a write fails, its accepted appends fail with the StoreError, and so
 * does the group prepared on top of it. On disk the store is then
 * *degraded*: LevelDB's log is in an unknown state and it refuses every later
 * write, so appends fail at once (with the error and since when) until a
 * reopen succeeds. A recovery fiber waits (250 ms, doubling up to 5 s),
 * probes the disk (free space, a test write), and asks the writer to reopen
 * the database between two groups; the writer then recovers the view from
 * disk (a record whose sync failed may have come back: its events are
 * published like any commit) and the store is `ok` again. Waiting for free
 * space has no bound (a restart would not help); any other failure counts,
 * and after `maxFailures` (5) in a row the health turns `failed`, appends are
 * refused for good, and the process should exit. In memory a failed write
 * only fails its appends: the group behind it is validated again.
 *
 * Schedule appends (the schedule log) are a second job kind: they join the
 * open group like task appends, are written in its synced batch, and
 * succeed or fail with it; while the store is degraded they fail at once.
 *
 * A rebuild, or other exclusive work (one batch of a prune), waits until
 * nothing is in flight, then runs alone. Closing stops
 * new appends, writes everything queued, then ends the fiber.
 */
import { Cause, Clock, Deferred, Effect, Exit, Fiber, PubSub, Queue, Scope, SubscriptionRef } from "effect"
import type { AppendRequest, AppendResult, LayerOptions } from "../EventStore.ts"
import { StoreError } from "../StoreErrors.ts"
import type * as Replay from "../Replay.ts"
import { StoreHealth } from "../StoreHealth.ts"
import { fromEnvelope, type RecordedEvent } from "../TaskEvent.ts"
import { isOutOfSpace, storeError, type Batch, type Db } from "./LevelDb.ts"
import * as Keys from "./RecordKeys.ts"
import { commit, Group, parseState, type AppendError, type AppendJob, type ScheduleJob, type Sealed, type View } from "./AppendGroup.ts"

/** Start writing a group once it holds this many events if the disk is idle (the rest is prepared meanwhile). */
const SPLIT_EVENTS = 256

type Message =
  | AppendJob
  | ScheduleJob
  | { readonly _tag: "rebuild"; readonly deferred: Deferred.Deferred<void, StoreError> }
  | { readonly _tag: "exclusive"; readonly work: Effect.Effect<unknown, StoreError>; readonly deferred: Deferred.Deferred<unknown, StoreError> }
  | { readonly _tag: "reopen"; readonly deferred: Deferred.Deferred<void, StoreError> }
  | { readonly _tag: "written"; readonly seq: number }
  | { readonly _tag: "close" }

interface InFlight {
  readonly group: Group<Batch>
  readonly sealed: Sealed
  readonly seq: number
  readonly startedAt: number
  readonly done: Deferred.Deferred<void, StoreError>
  /** Set as soon as the write settles, so the writer can notice it between two appends. */
  exit?: Exit.Exit<void, StoreError>
}

/** Yield to the event loop after this many appends, so a settled write is noticed promptly. */
const YIELD_EVERY = 8

/** The writer's entry points. */
export interface Committer {
  readonly append: (request: AppendRequest) => Effect.Effect<AppendResult, AppendError>
  /** Appends encoded schedule records to the schedule log; answers the sequence number of the last. */
  readonly appendSchedule: (encoded: ReadonlyArray<string>) => Effect.Effect<number, StoreError>
  readonly rebuild: Effect.Effect<void, StoreError>
  /** Runs `work` alone: after every queued append before it is durable, before any after it is prepared. */
  readonly exclusive: <A>(work: Effect.Effect<A, StoreError>) => Effect.Effect<A, StoreError>
}

const attempt = <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, StoreError> =>
  Effect.tryPromise({ try: f, catch: (cause) => (cause instanceof StoreError ? cause : storeError(operation)(cause)) })

const errorOf = (cause: Cause.Cause<StoreError>): StoreError => {
  const error = Cause.findErrorOption(cause)
  return error._tag === "Some" ? error.value : new StoreError({ operation: "append", reason: Cause.pretty(cause) })
}

const settle = (group: Group<Batch>, failure?: StoreError): void => {
  for (const { job, outcome } of group.entries) {
    const exit: Exit.Exit<AppendResult, AppendError> =
      outcome._tag === "refused" ? Exit.fail(outcome.error) : failure !== undefined ? Exit.fail(failure) : Exit.succeed(outcome.result)
    Deferred.doneUnsafe(job.deferred, exit)
  }
  for (const { job, seq } of group.schedules) Deferred.doneUnsafe(job.deferred, failure !== undefined ? Exit.fail(failure) : Exit.succeed(seq))
}

/** How the store retries after a write fault (LevelDB layer; the module header of EventStore gives the defaults). */
export interface RecoveryOptions {
  /** First wait before a reopen attempt (default 250 ms); it doubles after each failed attempt. */
  readonly initialDelayMillis?: number
  /** Longest wait between attempts (default 5 s). */
  readonly maxDelayMillis?: number
  /** Consecutive failed attempts, not counting waits for free space, before the store reports `failed` (default 5). */
  readonly maxFailures?: number
}

/** What the writer needs from the store around it. */
export interface Context {
  readonly db: Db
  readonly view: View
  readonly options: LayerOptions & { readonly recovery?: RecoveryOptions }
  readonly pubsub: PubSub.PubSub<ReadonlyArray<RecordedEvent>>
  readonly health: SubscriptionRef.SubscriptionRef<StoreHealth>
  /** Recomputes the projections from the log (runs alone). */
  readonly rebuild: Effect.Effect<void, StoreError>
  /** Reads the view back from the database after a reopen. */
  readonly reload: Effect.Effect<void, StoreError>
}

const iso = (ms: number) => new Date(ms).toISOString()

/** Forks the writer for the scope; `rebuild` runs when nothing is in flight. */
export const make = ({ db, view, options, pubsub, health, rebuild, reload }: Context): Effect.Effect<Committer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Scope.Scope
    const queue = yield* Queue.unbounded<Message>()
    /** The write failure that made the store degraded, and since when; undefined while writable. */
    let fault: { readonly error: StoreError; readonly since: number } | undefined
    let open: Group<Batch> | undefined
    let inflight: InFlight | undefined
    let seq = 0
    let closed = false
    let closedError = new StoreError({ operation: "append", reason: "the event store is closed" })
    /** States committed while the current batch of messages is handled, so a cache eviction cannot hide them. */
    const recent = new Map<string, Replay.TaskState | null>()

    /** A stream's state before the open group, if known without reading the database. */
    const known = (stream: string): Replay.TaskState | null | undefined => {
      const speculative = inflight?.sealed.states.get(stream)
      return speculative !== undefined ? speculative : view.cache.get(stream)
    }

    /** Seals the open group and starts its write; only when no write is in flight. */
    const startOpen: Effect.Effect<void> = Effect.gen(function* () {
      const group = open
      if (group === undefined || inflight !== undefined) return
      open = undefined
      const keys = group.newKeys()
      const owners = keys.length === 0 ? Exit.succeed([]) : yield* Effect.exit(attempt("append", () => db.getMany(keys.map(Keys.idempotency))))
      if (owners._tag === "Failure" || (group.events.length === 0 && group.schedules.length === 0)) {
        settle(group, owners._tag === "Failure" ? errorOf(owners.cause) : undefined)
        return yield* Effect.promise(() => group.batch.close())
      }
      const taken = new Set(keys.filter((_, i) => owners.value[i] !== undefined))
      const sealed = group.seal(view.counts, (key) => taken.has(key))
      const current: InFlight = { group, sealed, seq: ++seq, startedAt: performance.now(), done: Deferred.makeUnsafe<void, StoreError>() }
      inflight = current
      // Start the write now (not in a forked fiber, which would start only when this one yields).
      const written = (exit: Exit.Exit<void, StoreError>) => {
        current.exit = exit
        Deferred.doneUnsafe(current.done, exit)
        Queue.offerUnsafe(queue, { _tag: "written", seq: current.seq })
      }
      group.batch.write(true).then(
        () => written(Exit.void),
        (cause: unknown) => written(Exit.fail(storeError("append")(cause))),
      )
    })

    /**
     * A committed stream's state read from the database (null: absent), for a
     * stream that was cached when its chunk began and was evicted by a commit
     * of other streams since: never guess "absent".
     */
    const readState = (stream: string): Effect.Effect<Replay.TaskState | null, StoreError> =>
      attempt("append", async () => {
        const value = await db.get(Keys.task(stream))
        return value === undefined ? null : parseState("append", value)
      })

    const addChunk = (jobs: ReadonlyArray<AppendJob>): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (fault !== undefined) {
          const refused = Exit.fail(faultError(fault))
          for (const job of jobs) Deferred.doneUnsafe(job.deferred, refused)
          return
        }
        const missing = [...new Set(jobs.filter((job) => job.request.fresh !== true).map((job) => job.request.stream))]
          .filter((s) => !open?.knows(s) && known(s) === undefined)
        // The state of each stream read here, as of now (null: absent).
        const loaded = new Map<string, Replay.TaskState | null>()
        if (missing.length > 0) {
          const read = yield* Effect.exit(
            attempt("append", async () => {
              const values = await db.getMany(missing.map(Keys.task))
              missing.forEach((stream, i) => loaded.set(stream, values[i] === undefined ? null : parseState("append", values[i])))
            }),
          )
          if (read._tag === "Failure") {
            for (const job of jobs) Deferred.doneUnsafe(job.deferred, Exit.fail(errorOf(read.cause)))
            return
          }
        }
        let added = 0
        for (const job of jobs) {
          // The disk went idle: commit the finished write and start writing what is prepared.
          if (inflight?.exit !== undefined) yield* Effect.andThen(finishInflight, startOpen)
          open ??= new Group(db.batch(), inflight?.sealed.head ?? view.head)
          const stream = job.request.stream
          // Newest first: the open group, the write in flight and the cache, what committed since
          // this batch of messages began (the cache may have evicted it), what was read above.
          // A fresh stream (an id minted just now) is absent without asking.
          let before = open.knows(stream) ? null : (known(stream) ?? recent.get(stream) ?? (job.request.fresh === true ? null : loaded.get(stream)))
          if (before === undefined) {
            const read = yield* Effect.exit(readState(stream))
            if (read._tag === "Failure") {
              Deferred.doneUnsafe(job.deferred, Exit.fail(errorOf(read.cause)))
              continue
            }
            before = read.value
          }
          open.add(job, before)
          if (inflight === undefined && open.events.length >= SPLIT_EVENTS) yield* startOpen
          if (++added % YIELD_EVERY === 0) yield* Effect.yieldNow
        }
      })

    /** Adds one schedule append to the open group (refused at once while degraded). */
    const addSchedule = (job: ScheduleJob): void => {
      if (fault !== undefined) return void Deferred.doneUnsafe(job.deferred, Exit.fail(faultError(fault)))
      open ??= new Group(db.batch(), inflight?.sealed.head ?? view.head)
      open.addSchedule(job, inflight?.sealed.scheduleHead ?? view.scheduleHead)
    }

    const finishInflight: Effect.Effect<void> = Effect.gen(function* () {
      const current = inflight
      if (current === undefined) return
      const exit = current.exit ?? (yield* Effect.exit(Deferred.await(current.done)))
      inflight = undefined
      if (exit._tag === "Success") {
        commit(view, current.sealed)
        for (const [stream, state] of current.sealed.states) recent.set(stream, state)
        if (current.group.events.length > 0) yield* PubSub.publish(pubsub, current.group.events)
        const refused = current.group.entries.filter((entry) => entry.outcome._tag === "refused").length
        const scheduleRecords = current.group.schedules.reduce((sum, { job }) => sum + job.encoded.length, 0)
        options.onBatch?.({ appends: current.group.entries.length, events: current.group.events.length, refused, scheduleRecords, durationMs: performance.now() - current.startedAt })
        settle(current.group)
        return
      }
      const error = errorOf(exit.cause)
      // Degraded before the callers hear of the failure, so what they see next agrees.
      if (db.disk !== undefined) yield* enterFault(error)
      settle(current.group, error)
      const stale = open
      open = undefined
      if (stale === undefined) return
      yield* Effect.promise(() => stale.batch.close())
      yield* addChunk(stale.entries.map((entry) => entry.job))
      for (const { job } of stale.schedules) addSchedule(job)
    })

    const faultError = (current: { readonly error: StoreError; readonly since: number }) =>
      new StoreError({
        operation: "append",
        reason: `the store cannot write since ${iso(current.since)} (${current.error.reason}); it reopens the database once writing works again`,
      })

    /** Degraded: appends fail at once; a recovery fiber reopens the database when the disk allows it. */
    const enterFault = (error: StoreError): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (fault !== undefined) return
        const since = yield* Clock.currentTimeMillis
        fault = { error, since }
        yield* SubscriptionRef.update(health, (h) => new StoreHealth({ ...h, status: "degraded", error: error.message, since }))
        yield* Effect.logError("event store: a write failed; appends fail until the database is reopened", error)
        yield* Effect.forkIn(recover(since), scope)
      })

    const recovery = { initialDelayMillis: 250, maxDelayMillis: 5_000, maxFailures: 5, ...options.recovery }

    /** Waits, probes, and asks the writer to reopen, until it works or fails too often. */
    const recover = (since: number): Effect.Effect<void> =>
      Effect.gen(function* () {
        const disk = db.disk!
        let delay = recovery.initialDelayMillis
        let failures = 0
        for (;;) {
          yield* Effect.sleep(delay)
          delay = Math.min(delay * 2, recovery.maxDelayMillis)
          const probe = yield* Effect.exit(attempt("reopen", () => disk.probeWritable()))
          const reopened = probe._tag === "Failure" ? probe : yield* Effect.exit(enqueue<void, StoreError>((deferred) => ({ _tag: "reopen", deferred })))
          if (reopened._tag === "Success") return
          const error = errorOf(reopened.cause)
          failures = isOutOfSpace(error.reason) ? 0 : failures + 1
          if (failures >= recovery.maxFailures) {
            closed = true
            closedError = new StoreError({
              operation: "append",
              reason: `the store gave up writing after ${failures} failed attempts to reopen the database since ${iso(since)}: ${error.reason}`,
            })
            yield* SubscriptionRef.update(health, (h) => new StoreHealth({ ...h, status: "failed", error: closedError.message }))
            return yield* Effect.logError("event store: the database cannot be reopened; appends are refused for good", closedError)
          }
          yield* SubscriptionRef.update(health, (h) => new StoreHealth({ ...h, error: `${fault?.error.message ?? ""} (retrying: ${error.reason})` }))
        }
      })

    /** Between two groups: reopens the database, reads the view back, publishes what came back, and is writable again. */
    const reopen: Effect.Effect<void, StoreError> = Effect.gen(function* () {
      const disk = db.disk!
      const before = view.head
      yield* attempt("reopen", () => disk.reopen())
      yield* reload
      recent.clear()
      const notes = yield* attempt("reopen", () => disk.recoveryNotes())
      if (view.head > before) {
        const events = yield* attempt("reopen", async () =>
          (await db.entries({ gt: Keys.log(before), lte: Keys.log(view.head) })).map(([, value]) => fromEnvelope(JSON.parse(value)))
        )
        yield* PubSub.publish(pubsub, events)
        yield* Effect.logWarning(`event store: ${events.length} event(s) of appends reported as failed were found committed after the reopen`)
      }
      fault = undefined
      yield* SubscriptionRef.update(health, (h) =>
        new StoreHealth({
          status: "ok",
          damage: [...h.damage, ...notes.map((note) => `LevelDB's recovery after a write fault dropped part of its write-ahead log (${note})`)],
        }))
      yield* Effect.logInfo("event store: the database was reopened and is writable again")
    })

    const drain: Effect.Effect<void> = Effect.gen(function* () {
      while (inflight !== undefined || open !== undefined) yield* inflight !== undefined ? finishInflight : startOpen
    })

    /** Processes one takeAll; returns true when the writer should stop. */
    const handle = (messages: ReadonlyArray<Message>): Effect.Effect<boolean> =>
      Effect.gen(function* () {
        recent.clear()
        let chunk: Array<AppendJob> = []
        for (const message of messages) {
          if (message._tag === "append") {
            chunk.push(message)
            continue
          }
          if (chunk.length > 0) yield* addChunk(chunk)
          chunk = []
          if (message._tag === "schedule") {
            addSchedule(message)
          } else if (message._tag === "written") {
            if (inflight?.seq === message.seq) yield* finishInflight
          } else if (message._tag === "rebuild") {
            yield* drain
            Deferred.doneUnsafe(message.deferred, yield* Effect.exit(rebuild))
          } else if (message._tag === "reopen") {
            yield* drain
            Deferred.doneUnsafe(message.deferred, yield* Effect.exit(reopen))
          } else if (message._tag === "exclusive") {
            yield* drain
            Deferred.doneUnsafe(message.deferred, yield* Effect.exit(fault === undefined ? message.work : Effect.fail(faultError(fault))))
          } else {
            yield* drain
            return true
          }
        }
        if (chunk.length > 0) yield* addChunk(chunk)
        if (inflight === undefined && open !== undefined) yield* startOpen
        return false
      })

    /** A defect in the writer (a bug): the view can no longer be trusted, so the store refuses everything from now on. */
    const failEverything = (cause: Cause.Cause<unknown>, messages: ReadonlyArray<Message>) => {
      closed = true
      closedError = new StoreError({ operation: "append", reason: `the writer failed, reopen the store: ${Cause.pretty(cause)}` })
      for (const group of [inflight?.group, open]) if (group !== undefined) settle(group, closedError)
      const failed = Exit.fail(closedError)
      for (const message of messages) {
        if (message._tag === "append") Deferred.doneUnsafe(message.deferred, failed)
        else if (message._tag === "rebuild" || message._tag === "reopen") Deferred.doneUnsafe(message.deferred, failed)
        else if (message._tag === "schedule") Deferred.doneUnsafe(message.deferred, failed)
        else if (message._tag === "exclusive") Deferred.doneUnsafe(message.deferred, failed)
      }
      inflight = undefined
      open = undefined
      return Effect.logError("event store writer failed; pending and future appends are refused", cause)
    }

    const loop: Effect.Effect<void> = Effect.gen(function* () {
      for (;;) {
        const messages = yield* Queue.takeAll(queue)
        const stop = yield* handle(messages).pipe(Effect.catchCause((cause) => Effect.as(failEverything(cause, messages), closed)))
        if (stop) return
      }
    })
    const writer = yield* Effect.forkScoped(loop)
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        Queue.offerUnsafe(queue, { _tag: "close" })
        return Effect.asVoid(Fiber.await(writer))
      }),
    )

    const enqueue = <A, E>(message: (deferred: Deferred.Deferred<A, E>) => Message): Effect.Effect<A, E | StoreError> =>
      Effect.suspend((): Effect.Effect<A, E | StoreError> => {
        if (closed) return Effect.fail(closedError)
        const deferred = Deferred.makeUnsafe<A, E>()
        Queue.offerUnsafe(queue, message(deferred))
        return Deferred.await(deferred)
      })

    return {
      append: (request) => enqueue<AppendResult, AppendError>((deferred) => ({ _tag: "append", request, deferred })),
      appendSchedule: (encoded) => enqueue<number, StoreError>((deferred) => ({ _tag: "schedule", encoded, deferred })),
      rebuild: enqueue<void, StoreError>((deferred) => ({ _tag: "rebuild", deferred })),
      exclusive: <A>(work: Effect.Effect<A, StoreError>) =>
        enqueue<unknown, StoreError>((deferred) => ({ _tag: "exclusive", work, deferred })) as Effect.Effect<A, StoreError>,
    }
  })
