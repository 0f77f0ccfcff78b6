/**
 * The event store's retention vocabulary as clients see it: the error for a
 * read from a pruned position and the statuses a prune may remove. Plain
 * Schema, browser-safe (the RPC contract and the UI import it without the
 * store); `EventStore` re-exports both.
 */
import { Schema } from "effect"

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

/** The statuses a prune may remove: the final ones. */
export const PrunableStatus = Schema.Literals(["done", "error", "aborted", "maxIterations"])
/** A final status a prune may remove. */
export type PrunableStatus = typeof PrunableStatus.Type
