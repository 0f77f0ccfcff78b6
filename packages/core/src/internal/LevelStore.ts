/**
 * The event store over any abstract-level database (LevelDB on disk, or in
 * memory): one implementation, so both layers behave identically.
 *
 * Lifecycle: `make` checks a store on disk for damage (LevelCheck: refused
 * with StoreDamaged unless accepted, then repaired), finishes an interrupted
 * rebuild if one is marked, recovers the head and the status counters, and
 * forks the writer (LevelCommitter: group commit, one synced batch per group;
 * it also reopens the database after a write fault). Reads go to the
 * database (task summaries to the writer's cache when present). On disk, two
 * more fibers: one records the committed head outside LevelDB at most once
 * a second (the checkpoint that reveals a cut log at the next open), one
 * scans every record once in the background and reports damage in the
 * health. Closing the scope lets the writer write everything queued, ends
 * subscriptions, records the final head (synced), then the database closes.
 *
 * Live events go to a sliding PubSub; a subscriber subscribes first, reads the
 * log up to the committed head, then follows live events, skipping those it
 * already read, from memory as long as its subscription holds them; if it
 * falls behind (sliding drops), it reads the gap from the log. So there is no
 * gap and no duplicate. Pruned positions (LevelPrune) fail reads and
 * subscriptions at or below the watermark with PositionPruned.
 *
 * The schedule log (`c!`, RecordKeys) is encoded here before it reaches the
 * writer (a record that does not encode fails its append, nothing queued)
 * and decoded at read, gapless from 1 (a hole or a record that does not
 * decode is a StoreError naming the sequence number).
 */
import { Deferred, Effect, Exit, Option, PubSub, type Scope, Stream, SubscriptionRef } from "effect"
import type { EventStore, LayerOptions, TaskFilter, TaskPage } from "../EventStore.ts"
import { type PositionPruned, StoreDamaged, StoreError } from "../StoreErrors.ts"
import type { TaskId } from "../Ids.ts"
import type * as Replay from "../Replay.ts"
import { StoreHealth } from "../StoreHealth.ts"
import { EventDecodeError, fromEnvelope, type RecordedEvent } from "../TaskEvent.ts"
import { storeError, type Db } from "./LevelDb.ts"
import * as Keys from "./RecordKeys.ts"
import * as Check from "./LevelCheck.ts"
import { rebuild } from "./LevelRebuild.ts"
import * as Committer from "./LevelCommitter.ts"
import * as Prune from "./LevelPrune.ts"
import * as ScheduleRecords from "./ScheduleRecords.ts"
import { emptyCounts, parseState, StateCache, type View } from "./AppendGroup.ts"
import { taskStatuses } from "../TaskMachine.ts"

const PAGE = 1024

const asStoreError = (operation: string) => (cause: unknown): StoreError =>
  cause instanceof StoreError
    ? cause
    : cause instanceof EventDecodeError
      ? new StoreError({ operation, reason: cause.message })
      : storeError(operation)(cause)

const attempt = <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, StoreError> =>
  Effect.tryPromise({ try: f, catch: asStoreError(operation) })

/** The log values a stream index points at; a missing one is a broken index. */
const present = (values: ReadonlyArray<string | undefined>): ReadonlyArray<string> => {
  if (values.includes(undefined)) throw new StoreError({ operation: "read", reason: "the stream index points at a missing log entry" })
  return values as ReadonlyArray<string>
}

const decodeEvents = (values: ReadonlyArray<string | undefined>): Array<RecordedEvent> =>
  present(values).map((value) => fromEnvelope(JSON.parse(value)))

/**
 * The events of live groups that continue the log exactly from `next`:
 * earlier ones (already read) are skipped; at a gap (the sliding PubSub
 * dropped groups) it stops, and the rest is read from the log.
 */
const continuing = (groups: ReadonlyArray<ReadonlyArray<RecordedEvent>>, next: number): Array<RecordedEvent> => {
  const events: Array<RecordedEvent> = []
  let expected = next
  for (const group of groups) {
    for (const event of group) {
      if (event.position < expected) continue
      if (event.position > expected) return events
      events.push(event)
      expected += 1
    }
  }
  return events
}

const recover = (db: Db, view: View, watermark: Prune.Watermark) =>
  attempt("open", async () => {
    view.cache.clear()
    const [last] = await db.keys({ ...Keys.prefixRange(Keys.logPrefix), reverse: true, limit: 1 })
    watermark.prunedThrough = await Prune.readPrunedThrough(db)
    // The head's own event may have been pruned (positions are never reused).
    view.head = Math.max(last === undefined ? 0 : Keys.positionOfLogKey(last), watermark.prunedThrough)
    const meta = await db.get(Keys.head)
    if ((meta === undefined ? 0 : Number(meta)) !== view.head) {
      throw new StoreError({ operation: "open", reason: `meta head ${meta} disagrees with the last log position ${view.head}` })
    }
    const [lastSchedule] = await db.keys({ ...Keys.prefixRange(Keys.schedulePrefix), reverse: true, limit: 1 })
    view.scheduleHead = lastSchedule === undefined ? 0 : Keys.seqOfScheduleKey(lastSchedule)
    const counts = await db.getMany(taskStatuses.map(Keys.count))
    taskStatuses.forEach((status, i) => (view.counts[status] = Number(counts[i] ?? 0)))
  })

/** The LevelDB layer's options: the contract's, and what only a store on disk has. */
export interface Options extends LayerOptions {
  /**
   * Open a damaged store anyway: keep a copy of it, repair it (RepairDB when
   * LevelDB cannot open it; the log cut after its last intact event;
   * projections rebuilt) and report the damage in `StoreHealth`. Default
   * false: damage fails the layer with StoreDamaged.
   */
  readonly acceptDamage?: boolean
  /** Reopening after a write fault: see the EventStore module header for the defaults. */
  readonly recovery?: Committer.RecoveryOptions
}

/** How often, at most, the committed head is recorded outside LevelDB. */
const CHECKPOINT_EVERY = "1 second"

/** Checks a store on disk at open: damage fails with StoreDamaged (and is remembered), or is repaired when accepted. */
const checkDisk = (db: Db, options: Options): Effect.Effect<ReadonlyArray<string>, StoreError | StoreDamaged> =>
  Effect.gen(function* () {
    const disk = db.disk
    if (disk === undefined) return []
    const findings = yield* Check.inspect(db, disk)
    if (findings.length === 0) return []
    if (options.acceptDamage !== true) {
      yield* Check.remember(disk, findings)
      return yield* new StoreDamaged({ directory: disk.directory, findings })
    }
    const damage = yield* Check.repair(db, disk, findings)
    yield* Effect.logWarning(`event store: accepted damage in ${disk.directory}:\n  - ${damage.join("\n  - ")}`)
    return damage
  })

/** Records the committed head outside LevelDB whenever it moved, then once more (synced) when the scope closes. */
const keepCheckpoint = (db: Db, view: View): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    const disk = db.disk
    if (disk === undefined) return
    let recorded = -1
    const write = (sync: boolean) =>
      Effect.suspend(() => {
        const head = view.head
        if (head === recorded && !sync) return Effect.void
        return Effect.tryPromise(() => disk.writeCheckpoint(head, sync)).pipe(
          Effect.tap(() => Effect.sync(() => (recorded = head))),
          Effect.catch((error) => Effect.logDebug("event store: the head checkpoint was not written", error)),
        )
      })
    yield* write(false)
    yield* Effect.addFinalizer(() => write(true))
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(CHECKPOINT_EVERY), write(false))))
  })

/** Builds the store over an open database; the writer lives as long as the scope. */
export const make = (db: Db, options: Options = {}): Effect.Effect<EventStore["Service"], StoreError | StoreDamaged, Scope.Scope> =>
  Effect.gen(function* () {
    const view: View = { head: 0, scheduleHead: 0, counts: emptyCounts(), cache: new StateCache(options.cacheSize ?? 10_000) }
    const watermark: Prune.Watermark = { prunedThrough: 0 }
    const applyRebuild = Effect.map(rebuild(db), (rebuilt) => {
      view.head = rebuilt.head
      view.counts = rebuilt.counts
      view.cache.clear()
    })
    const damage = yield* checkDisk(db, options)
    if ((yield* attempt("open", () => db.get(Keys.rebuilding))) !== undefined) yield* applyRebuild
    yield* recover(db, view, watermark)
    const health = yield* SubscriptionRef.make(new StoreHealth({ status: "ok", damage }))

    const pubsub = yield* PubSub.sliding<ReadonlyArray<RecordedEvent>>(PAGE)
    yield* Effect.addFinalizer(() => PubSub.shutdown(pubsub))
    // Added before the writer, so it runs after the writer's finalizer wrote everything queued.
    yield* keepCheckpoint(db, view)
    const committer = yield* Committer.make({ db, view, options, pubsub, health, rebuild: applyRebuild, reload: recover(db, view, watermark) })
    // The background scan's iterator pins what it may still read: a prune compacts once it is done.
    const scanned = Deferred.makeUnsafe<void>()
    if (db.disk !== undefined) {
      const scan = Effect.flatMap(Check.scrub(db), (found) =>
        found.length === 0
          ? Effect.void
          : Effect.andThen(
            SubscriptionRef.update(health, (h) => new StoreHealth({ ...h, damage: [...h.damage, ...found] })),
            Effect.logError(`event store: the background scan found damage:\n  - ${found.join("\n  - ")}`),
          ))
      yield* Effect.forkScoped(Effect.ensuring(scan, Deferred.succeed(scanned, undefined)))
    } else Deferred.doneUnsafe(scanned, Exit.void)

    /** The log values of one stream from `fromVersion` (1-based, inclusive), in version order, at most `limit`. */
    const readStreamValues = async (stream: TaskId, fromVersion = 1, limit = Infinity): Promise<ReadonlyArray<string | undefined>> => {
      const from = Math.max(1, Math.ceil(fromVersion))
      const prefix = Keys.streamPrefix(stream)
      // The run holding `from` starts at or before it; every run holds at least one event.
      const [start] = await db.keys({ gte: prefix, lte: Keys.streamEvent(stream, from), reverse: true, limit: 1 })
      const runs = await db.entries({ gte: start ?? prefix, lt: Keys.prefixEnd(prefix), ...(Number.isFinite(limit) ? { limit: limit + 1 } : {}) })
      const keys: Array<string> = []
      for (const [key, value] of runs) {
        const version = Keys.versionOfStreamKey(key)
        const { position, count } = Keys.parseStreamRun(value)
        for (let i = Math.max(0, from - version); i < count && keys.length < limit; i++) keys.push(Keys.log(position + i))
      }
      return db.getMany(keys)
    }

    const readAllGapless = (fromPosition: number, limit?: number) =>
      limit !== undefined && limit <= 0
        ? Effect.succeed([])
        : attempt("readAll", async () => {
            const range = { gte: Keys.log(Math.max(1, Math.ceil(fromPosition))), lt: Keys.prefixEnd(Keys.logPrefix) }
            const entries = await db.entries(limit === undefined ? range : { ...range, limit })
            return decodeEvents(entries.map(([, value]) => value))
          })

    const retention = Prune.make({ db, view, watermark, readAll: readAllGapless, exclusive: committer.exclusive, scanned: Deferred.await(scanned) })
    const readAll = retention.readAll

    const readStates = (operation: string, streams: ReadonlyArray<string>) =>
      attempt(operation, async () => {
        const values = await db.getMany(streams.map(Keys.task))
        return values.flatMap((value) => (value === undefined ? [] : [parseState(operation, value)]))
      })

    const getTask = (stream: TaskId) => {
      const cached = view.cache.get(stream)
      if (cached !== undefined) return Effect.succeed(cached ?? undefined)
      return attempt("getTask", () => db.get(Keys.task(stream))).pipe(
        Effect.flatMap((value) => (value === undefined ? Effect.succeed(undefined) : Effect.try({ try: () => parseState("getTask", value), catch: asStoreError("getTask") }))),
      )
    }

    const matches = (filter: TaskFilter) => {
      const needle = filter.search?.toLowerCase()
      const found = (text: string | undefined) => text !== undefined && text.toLowerCase().includes(needle!)
      return (state: Replay.TaskState) =>
        (filter.status === undefined || state.status === filter.status) &&
        (filter.definitionId === undefined || state.context.definitionId === filter.definitionId) &&
        (filter.parentId === undefined || state.context.parentId === filter.parentId) &&
        (filter.forkedFrom === undefined || state.context.forkedFrom?.taskId === filter.forkedFrom) &&
        (!needle || found(state.context.taskId) || found(state.context.name) || found(state.context.definitionId))
    }

    const listTasks = (filter: TaskFilter, options?: { readonly limit?: number; readonly cursor?: string }) =>
      Effect.suspend(() => {
        const limit = Math.max(1, Math.floor(options?.limit ?? 50))
        const prefix =
          filter.parentId !== undefined ? Keys.listPrefix.parent(filter.parentId)
          : filter.definitionId !== undefined ? Keys.listPrefix.definition(filter.definitionId)
          : filter.status !== undefined ? Keys.listPrefix.status(filter.status)
          : Keys.listPrefix.all()
        const after = options?.cursor === undefined ? undefined : Keys.decodeCursor(options.cursor)
        if (options?.cursor !== undefined && after === undefined) {
          return Effect.fail(new StoreError({ operation: "listTasks", reason: `invalid cursor ${JSON.stringify(options.cursor)}` }))
        }
        const keep = matches(filter)
        return attempt("listTasks", async (): Promise<TaskPage> => {
          const found: Array<{ readonly state: Replay.TaskState; readonly suffix: string }> = []
          const cursor = db.iterator(after === undefined ? Keys.prefixRange(prefix) : { gt: prefix + after, lt: Keys.prefixEnd(prefix) })
          try {
            while (found.length <= limit) {
              const entries = await cursor.nextv(limit + 1)
              if (entries.length === 0) break
              const values = await db.getMany(entries.map(([, stream]) => Keys.task(stream)))
              entries.forEach(([key], i) => {
                const value = values[i]
                if (value === undefined) return
                const state = parseState("listTasks", value)
                if (keep(state)) found.push({ state, suffix: key.slice(prefix.length) })
              })
            }
          } finally {
            await cursor.close()
          }
          const page = found.slice(0, limit)
          const tasks = page.map((entry) => entry.state)
          return found.length > limit ? { tasks, cursor: Keys.encodeCursor(page[page.length - 1]!.suffix) } : { tasks }
        })
      })

    /**
     * Catch-up from the log, then live events from the PubSub, subscribed
     * before the first read. Events the subscription already holds are used
     * before the log is asked: a subscriber a few groups behind reads them
     * from memory, not back from disk.
     */
    const subscribe = (fromPosition: number): Stream.Stream<RecordedEvent, StoreError | PositionPruned> =>
      Stream.unwrap(
        Effect.gen(function* () {
          const subscription = yield* PubSub.subscribe(pubsub)
          const pull = (next: number): Effect.Effect<readonly [ReadonlyArray<RecordedEvent>, Option.Option<number>], StoreError | PositionPruned> =>
            Effect.gen(function* () {
              for (;;) {
                const held = continuing(yield* PubSub.takeUpTo(subscription, Number.MAX_SAFE_INTEGER), next)
                if (held.length > 0) return [held, Option.some(next + held.length)] as const
                if (next <= view.head) {
                  const events = yield* readAll(next, PAGE)
                  if (events.length > 0) return [events, Option.some(next + events.length)] as const
                }
                const live = continuing(yield* PubSub.takeAll(subscription), next)
                if (live.length > 0) return [live, Option.some(next + live.length)] as const
              }
            })
          return Stream.paginate(Math.max(1, Math.ceil(fromPosition)), pull)
        }),
      )

    return {
      append: committer.append,
      readStream: (stream, fromVersion) =>
        attempt("readStream", async () => decodeEvents(await readStreamValues(stream, fromVersion))),
      readStreamJson: (stream, fromVersion, limit) =>
        attempt("readStreamJson", async () => `[${present(await readStreamValues(stream, fromVersion, limit)).join(",")}]`),
      readAll,
      subscribe: Prune.checkedSubscribe({ db, view, watermark, readAll: readAllGapless }, subscribe),
      head: Effect.sync(() => view.head),
      getTask,
      // The one writing process: what it cached is what is stored.
      getTaskToAppend: getTask,
      listTasks,
      findByIdempotencyKey: (key) =>
        attempt("findByIdempotencyKey", () => db.get(Keys.idempotency(key))).pipe(
          Effect.flatMap((stream) => (stream === undefined ? Effect.succeed(undefined) : getTask(stream as TaskId))),
        ),
      countByStatus: Effect.sync(() => ({ ...view.counts })),
      pendingHooks: attempt("pendingHooks", () => db.entries(Keys.prefixRange(Keys.hookPrefix))).pipe(
        Effect.flatMap((entries) => readStates("pendingHooks", entries.map(([, stream]) => stream))),
      ),
      rebuildProjections: committer.rebuild,
      prune: retention.prune,
      retention: retention.retention,
      dumpProjections: attempt("dumpProjections", () => db.entries(Keys.prefixRange(Keys.projectionPrefix))),
      appendSchedule: (records) =>
        records.length === 0 ? Effect.sync(() => view.scheduleHead) : Effect.flatMap(ScheduleRecords.encode(records), committer.appendSchedule),
      readSchedules: attempt("readSchedules", async () => ScheduleRecords.decode((await db.entries(Keys.prefixRange(Keys.schedulePrefix))).map(([key, record]) => [Keys.seqOfScheduleKey(key), record] as const))),
      health: SubscriptionRef.get(health),
      healthChanges: SubscriptionRef.changes(health),
    }
  })
