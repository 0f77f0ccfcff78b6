/**
 * The event store contract: an append-only, globally ordered log of task
 * events with per-stream optimistic concurrency, live subscriptions, and the
 * task projections (summary + indexes) kept in the same atomic write.
 *
 * Lifecycle: a layer opens the store (LevelDB: takes the directory's lock),
 * recovers the head position and the stream versions, and serves appends
 * through a group-commit writer: appends that arrive while a write is in
 * flight are validated one after another and written together as one synced
 * batch. Closing the scope drains pending appends and releases the lock.
 *
 * Health (`health`, `healthChanges`; the shape is `StoreHealth`): `ok`, or
 * `degraded` once a write fails (a full disk): LevelDB then refuses every
 * later write, so appends fail at once with a StoreError naming the cause
 * while the store waits (250 ms, doubling to 5 s), checks the disk (free
 * space for a reopen, a test write) and reopens the database in this
 * process; then it is `ok` again and `healthChanges` says so (the moment to
 * retry work whose append failed). Nothing committed is lost; a failed
 * append fails its caller, though a record whose sync failed can reappear
 * after the reopen (its events are then published like any commit). Waiting
 * for space has no bound; other failures to reopen (5 in a row by default,
 * `LevelEventStore.RecoveryOptions`) turn it `failed` for good: the process
 * should exit and be restarted. The memory layer is always `ok`.
 *
 * Damage found at open (the LevelDB layer's checks: see LevelEventStore)
 * fails the layer with StoreDamaged, or, when accepted, is reported in
 * `health.damage`.
 *
 * Retention (`prune`, `retention`; the LevelPrune module says how): finished
 * tasks can be removed with their events, summaries, index entries and
 * idempotency keys. Positions are never reused. The store keeps a watermark,
 * `prunedThrough`: the highest position ever pruned (0 when nothing was).
 * Below it the log may have holes; above it the log is gapless. Reading or
 * subscribing from a position `p` with `1 <= p <= prunedThrough` fails with
 * {@link PositionPruned} (events at or after `p` may be gone, so a consumer
 * resuming there would silently miss them); from 0 (or less) means "from the
 * start of what is retained": retained events in order, holes accepted, then
 * live. A prune that overtakes a subscriber still catching up below the new
 * watermark ends its stream with PositionPruned too.
 *
 * The schedule log (`appendSchedule`, `readSchedules`): a second, small
 * log in the same store for the records of recurring schedules
 * (`ScheduleEvent`), numbered by its own gapless sequence from 1. It is not
 * the task log: it has no global positions, no streams, no projections and no
 * subscription, and prune, projection rebuilds and the damage checks leave it
 * alone (its records are never pruned, so a removed schedule's history stays
 * readable). Its appends go through the same group-commit writer as task
 * appends (written in the same synced batch as concurrent ones), so they are
 * durable before acknowledged and share the write-fault health and recovery.
 * A record is encoded with the `ScheduleEvent` Schema at append (one that does
 * not encode is a StoreError and nothing is written) and decoded at read (a
 * stored one that does not decode is a StoreError naming its sequence number).
 *
 * This module is the contract only: the service, its request and result
 * types and the options every layer takes. The errors are in `StoreErrors`.
 * Implementations depend on both; neither depends on an implementation, so
 * importing them (clients, the renderer, the daemon's services) loads no
 * storage code. Implementations: `LevelEventStore` (`@tasklane/core/level`:
 * `layer` over LevelDB, `layerMemory` the same code over an in-memory level),
 * its internals in `internal/Level*.ts`. Every implementation passes one
 * conformance suite (test/EventStoreConformance.ts).
 */
import { Context, type Effect, type Stream } from "effect"
import type { TaskId } from "./Ids.ts"
import type { StoreHealth } from "./StoreHealth.ts"
import type { ConcurrencyConflict, IdempotencyKeyTaken, InvalidTransition, PositionPruned, StoreError } from "./StoreErrors.ts"
import type { PrunableStatus } from "./StoreRetention.ts"
import type { ScheduleEvent } from "./ScheduleEvent.ts"
import type { NewEvent, RecordedEvent } from "./TaskEvent.ts"
import type { TaskState } from "./Replay.ts"
import type { TaskStatus } from "./TaskMachine.ts"

/** What a writer expects the stream's current version to be: a number, `"noStream"`, or `"any"`. */
export type ExpectedVersion = number | "noStream" | "any"

/** One append: events for one stream with the expected current version. */
export interface AppendRequest {
  readonly stream: TaskId
  readonly expectedVersion: ExpectedVersion
  readonly events: ReadonlyArray<NewEvent>
  /**
   * The stream id was minted just now by this process (a new random task
   * id), so the stream cannot exist yet: the writer skips looking it up.
   * Only for ids nobody else can know; `expectedVersion` still applies.
   */
  readonly fresh?: boolean
  /**
   * The new task's idempotency key must become its own: when another task
   * owns it already (or an earlier append of the same group claims it), the
   * append is refused with IdempotencyKeyTaken. Honored where several
   * processes write one store (PostgreSQL); the LevelDB store has one writing
   * process, whose daemon serializes triggers by key before they reach it,
   * and takes the append as if the flag were absent (the key then stays with
   * its first task).
   */
  readonly uniqueKey?: boolean
}

/** The result of an append: the stream's new version and the recorded events. */
export interface AppendResult {
  readonly version: number
  readonly events: ReadonlyArray<RecordedEvent>
  readonly state: TaskState
}

/** What to prune: finished tasks whose last final event is older than `before`. */
export interface PruneRequest {
  /** Prune tasks that finished before this time (ms since the epoch). */
  readonly before: number
  /** Final statuses to prune (default all four: done, error, aborted, maxIterations). */
  readonly statuses?: ReadonlyArray<PrunableStatus>
  /** Only count what would go; change nothing. */
  readonly dryRun?: boolean
  /**
   * Called once per task before its records are deleted, with the stored
   * envelopes as one JSON array (as `readStreamJson` gives them); a failure
   * stops the prune (tasks exported and deleted so far stay deleted).
   */
  readonly exportTask?: (task: TaskState, envelopesJson: string) => Effect.Effect<void, StoreError>
}

/** What a prune removed (or, dry, would remove). */
export interface PruneResult {
  readonly dryRun: boolean
  /** Tasks removed. */
  readonly tasks: number
  /** Events removed from the log. */
  readonly events: number
  /** Bytes of keys and values deleted (before LevelDB compaction reclaims them). */
  readonly bytes: number
  /** Finished tasks that matched but were kept: a child still unfinished, a hook still due. */
  readonly kept: number
  /** The first removed task ids (at most {@link pruneListLimit}). */
  readonly taskIds: ReadonlyArray<TaskId>
  /** The watermark after the prune. */
  readonly prunedThrough: number
  /** Wall time, ms. */
  readonly millis: number
}

/** How many task ids a {@link PruneResult} lists. */
export const pruneListLimit = 1000

/** The log's retained range and the store's size. */
export interface RetentionInfo {
  /** The highest pruned position (0: nothing was pruned). */
  readonly prunedThrough: number
  /** The first position still in the log (head + 1 when it holds none). */
  readonly oldestRetained: number
  /** Bytes the store takes: the LevelDB directory on disk, or the PostgreSQL store's tables (undefined in memory). */
  readonly sizeOnDisk: number | undefined
}

/** Filter for listing task summaries; at most one index is used (status, definition or parent), newest first. */
export interface TaskFilter {
  readonly status?: TaskStatus
  readonly definitionId?: string
  readonly parentId?: TaskId
  /** Tasks forked from this task (scans the chosen index). */
  readonly forkedFrom?: TaskId
  /** Case-insensitive substring of the task's id, name or definition id (scans the chosen index). */
  readonly search?: string
}

/** One page of task summaries and the cursor for the next page (absent on the last page). */
export interface TaskPage {
  readonly tasks: ReadonlyArray<TaskState>
  readonly cursor?: string
}

/** The event store service. */
export class EventStore extends Context.Service<
  EventStore,
  {
    /** Appends events to one stream atomically, with its projections; group-committed. */
    readonly append: (request: AppendRequest) => Effect.Effect<AppendResult, ConcurrencyConflict | InvalidTransition | IdempotencyKeyTaken | StoreError>
    /** The stream's events from `fromVersion` (1-based, inclusive). */
    readonly readStream: (stream: TaskId, fromVersion?: number) => Effect.Effect<ReadonlyArray<RecordedEvent>, StoreError>
    /**
     * The stream's stored envelopes from `fromVersion`, at most `limit`, as
     * one JSON array of the stored texts, verbatim (neither parsed nor
     * re-encoded here): what the History RPC sends. Readers decode each with
     * `TaskEvent.fromEnvelope`, as they would anyway.
     */
    readonly readStreamJson: (stream: TaskId, fromVersion?: number, limit?: number) => Effect.Effect<string, StoreError>
    /**
     * Events of all streams from a global position (1-based, inclusive), at
     * most `limit`; at or below the pruned watermark: {@link PositionPruned}
     * (0: from the first retained event).
     */
    readonly readAll: (fromPosition: number, limit?: number) => Effect.Effect<ReadonlyArray<RecordedEvent>, StoreError | PositionPruned>
    /**
     * Every event from `fromPosition`, then live ones as they commit, with no
     * gap and no duplicate; at or below the pruned watermark:
     * {@link PositionPruned} (0: everything retained, holes accepted).
     */
    readonly subscribe: (fromPosition: number) => Stream.Stream<RecordedEvent, StoreError | PositionPruned>
    /** The last committed global position (0 when empty). */
    readonly head: Effect.Effect<number>
    /** The task projection (its replayed state), if the stream exists. */
    readonly getTask: (stream: TaskId) => Effect.Effect<TaskState | undefined, StoreError>
    /**
     * The task projection to decide a command on and append at its version:
     * `getTask`'s, or one this store wrote itself and kept, which another
     * writer (another node of a cluster) may have moved past since. Never
     * newer than the stored one; an append at its version proves it (a moved
     * task is a ConcurrencyConflict). A decision that depends on it without
     * appending (a refusal, nothing to do) should read `getTask` again.
     */
    readonly getTaskToAppend: (stream: TaskId) => Effect.Effect<TaskState | undefined, StoreError>
    /** Task projections by index, newest first, paged by an opaque cursor. */
    readonly listTasks: (filter: TaskFilter, options?: { readonly limit?: number; readonly cursor?: string }) => Effect.Effect<TaskPage, StoreError>
    /** The task triggered with this idempotency key, if any. */
    readonly findByIdempotencyKey: (key: string) => Effect.Effect<TaskState | undefined, StoreError>
    /** Number of tasks in each status (for status bars and Info). */
    readonly countByStatus: Effect.Effect<Readonly<Record<TaskStatus, number>>, StoreError>
    /** Tasks whose hook is due but not recorded (to re-run after a restart). */
    readonly pendingHooks: Effect.Effect<ReadonlyArray<TaskState>, StoreError>
    /** Drops and recomputes every projection from the log. */
    readonly rebuildProjections: Effect.Effect<void, StoreError>
    /** Every projection record as `[key, value]` strings in key order (to compare rebuilds byte for byte). */
    readonly dumpProjections: Effect.Effect<ReadonlyArray<readonly [string, string]>, StoreError>
    /**
     * Removes finished tasks (see {@link PruneRequest}) with their events,
     * summaries, index entries and idempotency keys, in synced batches
     * through the writer (appends interleave between batches), then compacts
     * the database (LevelDB) so the space is reclaimed. Running and waiting
     * tasks, tasks with a due hook and tasks with an unfinished descendant
     * are never removed.
     */
    readonly prune: (request: PruneRequest) => Effect.Effect<PruneResult, StoreError>
    /** The pruned watermark, the oldest retained position and the size on disk. */
    readonly retention: Effect.Effect<RetentionInfo, StoreError>
    /**
     * Appends schedule records to the schedule log, in order, atomically and
     * durably (group-committed with task appends); answers the sequence number
     * of the last one (the schedule log's head; unchanged for none).
     */
    readonly appendSchedule: (records: ReadonlyArray<ScheduleEvent>) => Effect.Effect<number, StoreError>
    /** Every record of the schedule log, in sequence order. */
    readonly readSchedules: Effect.Effect<ReadonlyArray<ScheduleEvent>, StoreError>
    /** The store's health now: writable or not (and why), damage found. */
    readonly health: Effect.Effect<StoreHealth>
    /** The health now, then each change: e.g. `ok` again after a write fault, to retry what failed. */
    readonly healthChanges: Stream.Stream<StoreHealth>
  }
>()("@tasklane/core/EventStore") {}

/** One group commit, as reported to {@link LayerOptions.onBatch}. */
export interface BatchInfo {
  /** Appends taken in this group (accepted and refused). */
  readonly appends: number
  /** Events written by this group's one synced batch. */
  readonly events: number
  /** Appends of this group that were refused (conflict, invalid transition). */
  readonly refused: number
  /** Schedule records (the schedule log) written by this group's batch. */
  readonly scheduleRecords: number
  /** Milliseconds from the start of this group's synced write until it committed (metrics). */
  readonly durationMs: number
}

/**
 * Options every implementation's layer takes (each may add its own: the
 * LevelDB layer's are `LevelEventStore.Options`).
 */
export interface LayerOptions {
  /** Task states the writer keeps in memory (least recently used are dropped; default 10,000). */
  readonly cacheSize?: number
  /** Called after every durable group commit (tests and metrics). */
  readonly onBatch?: (info: BatchInfo) => void
}
