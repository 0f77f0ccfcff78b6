/**
 * The event store's errors, shared by the contract (`EventStore`) and every
 * implementation of it (LevelDB and memory in `LevelEventStore`, PostgreSQL
 * beside it), in a module of their own so that an implementation depends on
 * the contract and on this module, and the contract on nothing of an
 * implementation (effect's cluster storage splits `MessageStorage`,
 * `SqlMessageStorage` and `ClusterError` the same way). Plain Schema,
 * browser-safe: `PositionPruned` crosses the RPC edge and the UI imports it
 * through `@tasklane/core/client`.
 */
import { Schema } from "effect"
import { TaskId } from "./Ids.ts"

/** The stream's version was not the expected one; nothing was written. */
export class ConcurrencyConflict extends Schema.TaggedError<ConcurrencyConflict>()("ConcurrencyConflict", {
  stream: TaskId,
  expected: Schema.Union([Schema.Number, Schema.Literals(["noStream", "any"])]),
  actual: Schema.Number,
}) {
  override get message() {
    return `stream ${this.stream} is at version ${this.actual}, expected ${this.expected}`
  }
}

/**
 * A new task's idempotency key already has an owner, and the append asked
 * for the key (`AppendRequest.uniqueKey`); nothing was written. The owner is
 * found with `findByIdempotencyKey`.
 */
export class IdempotencyKeyTaken extends Schema.TaggedError<IdempotencyKeyTaken>()("IdempotencyKeyTaken", {
  stream: TaskId,
  key: Schema.String,
}) {
  override get message() {
    return `the idempotency key "${this.key}" already belongs to another task (${this.stream} was not created)`
  }
}

/** The events do not fold on the stream's state (the machine refused one); nothing was written. */
export class InvalidTransition extends Schema.TaggedError<InvalidTransition>()("InvalidTransition", {
  stream: TaskId,
  position: Schema.Number,
  state: Schema.String,
  event: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `stream ${this.stream}: ${this.event} is not accepted in state ${this.state} (${this.reason})`
  }
}

/** Another process holds the data directory. */
export class StoreLocked extends Schema.TaggedError<StoreLocked>()("StoreLocked", {
  directory: Schema.String,
}) {
  override get message() {
    return `the data directory ${this.directory} is in use by another Tasklane process`
  }
}

/** The storage failed (I/O, corruption, a stored record that does not decode). */
export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  operation: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `event store ${this.operation} failed: ${this.reason}`
  }
}

/**
 * The store found damage when it opened (a lost or damaged write-ahead log,
 * a damaged table, projections that disagree with the log) and was not told
 * to accept it (`acceptDamage` of the LevelDB layer); nothing was changed.
 */
export class StoreDamaged extends Schema.TaggedError<StoreDamaged>()("StoreDamaged", {
  directory: Schema.String,
  /** What was found, one sentence each. */
  findings: Schema.Array(Schema.String),
}) {
  override get message() {
    return `the event store in ${this.directory} is damaged:\n  - ${this.findings.join("\n  - ")}\n` +
      "Tasks whose last events were lost would run again. Restore the directory from a backup, or accept the damage: " +
      "start the daemon with --accept-store-damage (it keeps a copy of the damaged store beside it, cuts the log after " +
      "its last intact event, rebuilds the task summaries from the log, and reports what was lost)."
  }
}

/**
 * The position asked for is at or below the pruned watermark: events from it
 * on may have been pruned. Start from 0 for "the start of what is retained",
 * or from a position above `prunedThrough`.
 */
export class PositionPruned extends Schema.TaggedError<PositionPruned>()("PositionPruned", {
  requested: Schema.Number,
  /** The highest pruned position: the log is gapless above it. */
  prunedThrough: Schema.Number,
  /** The first position still in the log (head + 1 when it holds none). */
  oldestRetained: Schema.Number,
}) {
  override get message() {
    return `position ${this.requested} is at or below the pruned watermark ${this.prunedThrough}: events from there may have been pruned ` +
      `(the oldest retained position is ${this.oldestRetained}; read from 0 for everything retained, or from above ${this.prunedThrough})`
  }
}
