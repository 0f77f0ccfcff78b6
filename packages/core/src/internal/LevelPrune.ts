/**
 * Retention for the level store: removes finished tasks with everything the
 * store keeps of them, and keeps the global log consistent around the holes
 * that leaves. Outside the per-event path (Effect code reading and deleting in
 * chunks); the only per-read cost is one comparison with the watermark.
 *
 * What a prune removes, per task: its events (`e!`), its stream runs (`s!`),
 * its summary, its index entries (time, status, definition, parent, a due
 * hook, deleted), its idempotency key when the key points at it, and its
 * count in the status counters. Which tasks: a final status among the
 * requested ones (deleted tasks too), finished (`finishedAt`) before the
 * cutoff, no hook still due, and no descendant (children, their children,
 * ...) that is unfinished or has a hook due. Candidates are read from the
 * status indexes and the deleted index, tasks created before the cutoff only
 * (a task finished before the cutoff was created before it).
 *
 * Serialization: candidates are chosen and exported outside the writer; each
 * chunk of at most {@link CHUNK} tasks is then deleted by one synced batch run
 * alone in the writer (`Committer.exclusive`: after every append queued
 * before it is durable, before any later one is prepared). In there each
 * task's state is read again (the writer's cache, else the database) and a
 * task whose version moved since it was chosen is left for the next prune.
 * Pruned streams the writer has cached are cached as absent, so it forgets
 * their versions (the others read as absent from the database).
 * Appends interleave between chunks; memory stays bounded by one chunk. At
 * the end the LevelDB layer compacts the database so the space is given back
 * (after the background scan that follows an open, whose iterator would keep
 * the deleted records alive; a long read open meanwhile does the same, and
 * LevelDB's own compactions reclaim that space later).
 *
 * Positions: never reused (the head does not move back; it is kept in `m!head`
 * even when its event is pruned). The watermark `prunedThrough` (`m!pruned`,
 * written in each prune batch) is the highest position ever pruned: below it
 * the log may have holes, above it it is gapless. So the checks that insist
 * on a gapless log (open, background scan, rebuild, repair) accept holes at or
 * below the watermark, and the head is `max(last event, watermark)`.
 *
 * Reading from a pruned position: `readAll(p)` / `subscribe(p)` with
 * `1 <= p <= prunedThrough` fail with PositionPruned, because events at or
 * after `p` may be gone and a consumer resuming at `p` would silently miss
 * them. `p <= 0` means "from the start of what is retained": the retained
 * events in position order (holes accepted), then the gapless rest and live
 * events. The check is made again after each read, and the watermark is
 * raised before a prune batch deletes anything, so a read that a concurrent
 * prune overtook fails the same way instead of returning a hole.
 */
import { Clock, Effect, Option, Stream } from "effect"
import { pruneListLimit, type PruneRequest, type PruneResult, type RetentionInfo } from "../EventStore.ts"
import { PositionPruned, StoreError } from "../StoreErrors.ts"
import type { TaskId } from "../Ids.ts"
import type * as Replay from "../Replay.ts"
import { fromEnvelope, type RecordedEvent } from "../TaskEvent.ts"
import { finalStatuses, isFinal } from "../TaskMachine.ts"
import { storeError, type Db } from "./LevelDb.ts"
import * as Keys from "./RecordKeys.ts"
import { parseState, writeCounts, type View } from "./AppendGroup.ts"

/** Tasks deleted per synced batch. */
export const CHUNK = 256
/** Events read per page below the watermark. */
const PAGE = 1024
/** Deepest task tree searched for unfinished descendants. */
const MAX_DEPTH = 32
const MAX_TIME = 2 ** 48 - 1

/** The pruned watermark in memory (mutable; the store's single copy). */
export interface Watermark {
  prunedThrough: number
}

const attempt = <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, StoreError> =>
  Effect.tryPromise({ try: f, catch: (cause) => (cause instanceof StoreError ? cause : storeError(operation)(cause)) })

/** The stored watermark (0 when nothing was ever pruned). */
export const readPrunedThrough = async (db: Db): Promise<number> => {
  const value = await db.get(Keys.prunedThrough)
  return value === undefined ? 0 : Number(value)
}

/** Whether a hole in the log ending at `to` (inclusive) is explained by pruning. */
export const isPrunedHole = (prunedThrough: number, to: number): boolean => to <= prunedThrough

/** The first position in the log, or `head + 1` when it holds none. */
export const oldestRetained = async (db: Db, head: number): Promise<number> => {
  const [first] = await db.keys({ ...Keys.prefixRange(Keys.logPrefix), limit: 1 })
  return first === undefined ? head + 1 : Keys.positionOfLogKey(first)
}

/** The PositionPruned error for a request, with the current figures. */
const positionPruned = (db: Db, view: View, watermark: Watermark, requested: number) =>
  Effect.flatMap(attempt("readAll", () => oldestRetained(db, view.head)), (oldest) =>
    Effect.fail(new PositionPruned({ requested, prunedThrough: watermark.prunedThrough, oldestRetained: oldest })))

/** What the pruned-position rules need from the store. */
export interface Reads {
  readonly db: Db
  readonly view: View
  readonly watermark: Watermark
  /** Reads the log from a position (>= 1), at most `limit`, trusting it is gapless there. */
  readonly readAll: (fromPosition: number, limit?: number) => Effect.Effect<ReadonlyArray<RecordedEvent>, StoreError>
}

/** `readAll` with the pruned-position rules of the module header. */
export const checkedReadAll = ({ db, view, watermark, readAll }: Reads) =>
  (fromPosition: number, limit?: number): Effect.Effect<ReadonlyArray<RecordedEvent>, StoreError | PositionPruned> => {
    const from = Math.ceil(fromPosition)
    if (!(from >= 1)) return readAll(1, limit)
    const below = () => from <= watermark.prunedThrough
    if (below()) return positionPruned(db, view, watermark, from)
    return Effect.flatMap(readAll(from, limit), (events) => (below() ? positionPruned(db, view, watermark, from) : Effect.succeed(events)))
  }

/** The retained events at or below `through`, in position order, holes accepted. */
const retainedThrough = (db: Db, through: number): Stream.Stream<RecordedEvent, StoreError> =>
  Stream.paginate(1, (next: number) =>
    attempt("subscribe", async () => {
      const entries = await db.entries({ gte: Keys.log(next), lte: Keys.log(through), limit: PAGE })
      const events = entries.map(([, value]) => fromEnvelope(JSON.parse(value)))
      const last = events.at(-1)
      return [events, last === undefined || entries.length < PAGE ? Option.none<number>() : Option.some(last.position + 1)] as const
    }))

/**
 * `subscribe` with the pruned-position rules of the module header, over the
 * store's gapless subscription (`follow`, whose catch-up reads go through
 * {@link checkedReadAll}).
 */
export const checkedSubscribe = (
  reads: Reads,
  follow: (fromPosition: number) => Stream.Stream<RecordedEvent, StoreError | PositionPruned>,
) =>
  (fromPosition: number): Stream.Stream<RecordedEvent, StoreError | PositionPruned> =>
    Stream.unwrap(
      Effect.suspend(() => {
        const from = Math.ceil(fromPosition)
        const through = reads.watermark.prunedThrough
        if (from >= 1 && from <= through) return positionPruned(reads.db, reads.view, reads.watermark, from)
        if (from >= 1 || through === 0) return Effect.succeed(follow(Math.max(1, from)))
        return Effect.succeed(Stream.concat(retainedThrough(reads.db, through), Stream.suspend(() => follow(through + 1))))
      }),
    )

/** What a prune needs from the store. */
export interface Context extends Reads {
  /** Runs work alone in the writer (see LevelCommitter). */
  readonly exclusive: <A>(work: Effect.Effect<A, StoreError>) => Effect.Effect<A, StoreError>
  /** Done once the background scan after open ended (its iterator keeps deleted records from being compacted away). */
  readonly scanned: Effect.Effect<void>
}

/** One task chosen for removal, with what it occupies. */
interface Chosen {
  readonly state: Replay.TaskState
  readonly runs: ReadonlyArray<string>
  readonly positions: ReadonlyArray<number>
  readonly bytes: number
  /** The stored envelopes (only read when exporting). */
  readonly json: string | undefined
}

const streamOf = (state: Replay.TaskState): TaskId => state.context.taskId

/** The prune and retention operations of the store. */
export const make = ({ db, view, watermark, exclusive, readAll, scanned }: Context) => {
  const states = async (operation: string, streams: ReadonlyArray<string>) =>
    (await db.getMany(streams.map(Keys.task))).map((value) => (value === undefined ? undefined : parseState(operation, value)))

  /** Whether a task has a descendant that is unfinished or has a hook due. */
  const busyDescendant = async (stream: string, depth: number): Promise<boolean> => {
    const children = await db.entries(Keys.prefixRange(Keys.listPrefix.parent(stream)))
    if (children.length === 0) return false
    if (depth >= MAX_DEPTH) return true
    for (const child of await states("prune", children.map(([, id]) => id))) {
      if (child === undefined) continue
      if (!isFinal(child.status) || child.context.pendingHook !== undefined) return true
      if (await busyDescendant(streamOf(child), depth + 1)) return true
    }
    return false
  }

  /** What the task occupies: its stream runs, event positions, approximate bytes, and (exporting) its envelopes. */
  const occupied = async (state: Replay.TaskState, withJson: boolean): Promise<Chosen> => {
    const stream = streamOf(state)
    const runs = await db.entries(Keys.prefixRange(Keys.streamPrefix(stream)))
    const positions: Array<number> = []
    let bytes = Keys.task(stream).length + JSON.stringify(state).length
    for (const [key, value] of runs) {
      bytes += key.length + value.length
      const { position, count } = Keys.parseStreamRun(value)
      for (let i = 0; i < count; i++) positions.push(position + i)
    }
    const values = await db.getMany(positions.map(Keys.log))
    for (const value of values) bytes += 14 + (value?.length ?? 0)
    const json = withJson ? `[${values.filter((value) => value !== undefined).join(",")}]` : undefined
    return { state, runs: runs.map(([key]) => key), positions, bytes, json }
  }

  /** Deletes one chunk in one synced batch, alone in the writer; returns the tasks actually removed. */
  const remove = (chunk: ReadonlyArray<Chosen>): Effect.Effect<ReadonlyArray<Chosen>, StoreError> =>
    exclusive(
      attempt("prune", async () => {
        const streams = chunk.map((chosen) => streamOf(chosen.state))
        const uncached = streams.filter((stream) => view.cache.get(stream) === undefined)
        const read = new Map<string, number>(uncached.map((stream, i) => [stream, i]))
        const fromDb = uncached.length === 0 ? [] : await states("prune", uncached)
        const current = (stream: string) => {
          const cached = view.cache.get(stream)
          return cached !== undefined ? cached : fromDb[read.get(stream)!]
        }
        // Still as chosen: a task that moved meanwhile (a late hook, a delete) waits for the next prune.
        const removed = chunk.filter((chosen) => current(streamOf(chosen.state))?.context.version === chosen.state.context.version)
        if (removed.length === 0) return removed
        const keys = removed.map((chosen) => chosen.state.context.idempotencyKey)
        const owners = await db.getMany(keys.flatMap((key) => (key === undefined ? [] : [Keys.idempotency(key)])))
        const batch = db.batch()
        const counts = { ...view.counts }
        let highest = watermark.prunedThrough
        let owner = 0
        for (const { state, runs, positions } of removed) {
          const stream = streamOf(state)
          for (const position of positions) {
            batch.del(Keys.log(position))
            if (position > highest) highest = position
          }
          for (const run of runs) batch.del(run)
          batch.del(Keys.task(stream))
          for (const key of Keys.indexKeys(state)) batch.del(key)
          const key = state.context.idempotencyKey
          if (key !== undefined && owners[owner++] === stream) batch.del(Keys.idempotency(key))
          const status = Keys.countedStatus(state)
          if (status !== undefined) counts[status] -= 1
        }
        writeCounts(batch, view.counts, counts)
        batch.put(Keys.prunedThrough, String(highest))
        const before = watermark.prunedThrough
        // Raised before anything is deleted: a read racing this batch then fails instead of returning a hole.
        watermark.prunedThrough = highest
        try {
          await batch.write(true)
        } catch (cause) {
          watermark.prunedThrough = before
          throw cause
        }
        view.counts = counts
        // Forget what the writer cached of them (absent now); uncached ones read as absent anyway.
        for (const chosen of removed) if (view.cache.get(streamOf(chosen.state)) !== undefined) view.cache.set(streamOf(chosen.state), null)
        return removed
      }),
    )

  /**
   * Once per store: indexes the tasks deleted before the deleted index existed
   * (a scan of every summary, in chunks; the entries are written alone in the
   * writer, for summaries that still exist then). Index upkeep, not a
   * prune: a dry run does it too.
   */
  const indexDeleted: Effect.Effect<void, StoreError> = Effect.gen(function* () {
    if ((yield* attempt("prune", () => db.get(Keys.deletedIndexed))) !== undefined) return
    const cursor = db.iterator({ ...Keys.prefixRange(Keys.task("")), fillCache: false })
    yield* Effect.gen(function* () {
      for (;;) {
        const entries = yield* attempt("prune", () => cursor.nextv(PAGE))
        if (entries.length === 0) return
        const deleted = entries
          .filter(([, value]) => value.includes('"deleted":true'))
          .map(([, value]) => parseState("prune", value))
          .filter((state) => state.context.deleted === true)
        if (deleted.length > 0) {
          yield* exclusive(attempt("prune", async () => {
            const still = await db.getMany(deleted.map((state) => Keys.task(streamOf(state))))
            const batch = db.batch()
            deleted.forEach((state, i) => {
              if (still[i] !== undefined) batch.put(Keys.deletedPrefix + Keys.created(state.context), streamOf(state))
            })
            await batch.write(true)
          }))
        }
      }
    }).pipe(Effect.ensuring(Effect.promise(() => cursor.close().catch(() => undefined))))
    yield* attempt("prune", async () => {
      const batch = db.batch()
      batch.put(Keys.deletedIndexed, "1")
      await batch.write(true)
    })
  })

  const prune = (request: PruneRequest): Effect.Effect<PruneResult, StoreError> =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const dryRun = request.dryRun === true
      const before = Math.min(MAX_TIME, Math.floor(request.before))
      const totals = { tasks: 0, events: 0, bytes: 0, kept: 0 }
      const taskIds: Array<TaskId> = []
      const exporting = !dryRun && request.exportTask !== undefined
      yield* indexDeleted
      const take = (chosen: ReadonlyArray<Chosen>) => {
        for (const { state, positions, bytes } of chosen) {
          totals.tasks += 1
          totals.events += positions.length
          totals.bytes += bytes
          if (taskIds.length < pruneListLimit) taskIds.push(streamOf(state))
        }
      }
      const wanted: ReadonlyArray<string> = (request.statuses ?? finalStatuses).filter(isFinal)
      // Each status index, then the deleted tasks (listed in no status index) of those statuses.
      const sources = [
        ...wanted.map((status) => ({ prefix: Keys.listPrefix.status(status), accepts: (s: Replay.TaskState) => s.status === status && s.context.deleted !== true })),
        { prefix: Keys.deletedPrefix, accepts: (s: Replay.TaskState) => wanted.includes(s.status) && s.context.deleted === true },
      ]
      for (const { prefix, accepts } of before <= 0 || wanted.length === 0 ? [] : sources) {
        // The index orders by `MAX_TIME - createdAt`: created before the cutoff sorts after this key.
        const range = { gte: prefix + (MAX_TIME - before + 1).toString(16).padStart(12, "0"), lt: Keys.prefixEnd(prefix) }
        // Closed before the compaction below: an open iterator pins what it could still read.
        yield* Effect.acquireUseRelease(
          Effect.sync(() => db.iterator(range)),
          (cursor) =>
            Effect.gen(function* () {
              for (;;) {
                const entries = yield* attempt("prune", () => cursor.nextv(CHUNK))
                if (entries.length === 0) return
                const chosen = yield* attempt("prune", async () => {
                  const found = await Promise.all((await states("prune", entries.map(([, stream]) => stream))).map(async (state) => {
                    if (state === undefined || !accepts(state) || (state.context.finishedAt ?? state.context.updatedAt) >= before) return undefined
                    if (state.context.pendingHook !== undefined || (await busyDescendant(streamOf(state), 0))) {
                      totals.kept += 1
                      return undefined
                    }
                    return occupied(state, exporting)
                  }))
                  return found.filter((chosen): chosen is Chosen => chosen !== undefined)
                })
                if (dryRun) {
                  take(chosen)
                  continue
                }
                if (exporting) for (const { state, json } of chosen) yield* request.exportTask!(state, json!)
                const removed = yield* remove(chosen)
                totals.kept += chosen.length - removed.length
                take(removed)
              }
            }),
          (cursor) => Effect.promise(() => cursor.close().catch(() => undefined)),
        )
      }
      if (!dryRun && totals.tasks > 0 && db.disk !== undefined) yield* Effect.andThen(scanned, attempt("prune", () => db.disk!.compact()))
      const finished = yield* Clock.currentTimeMillis
      return { dryRun, ...totals, taskIds, prunedThrough: watermark.prunedThrough, millis: finished - started }
    })

  const retention: Effect.Effect<RetentionInfo, StoreError> = attempt("retention", async () => ({
    prunedThrough: watermark.prunedThrough,
    oldestRetained: await oldestRetained(db, view.head),
    sizeOnDisk: db.disk === undefined ? undefined : await db.disk.sizeOnDisk(),
  }))

  return { prune, retention, readAll: checkedReadAll({ db, view, watermark, readAll }) }
}
