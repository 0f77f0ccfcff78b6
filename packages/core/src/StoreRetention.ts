/**
 * The event store's retention vocabulary as clients see it: the statuses a
 * prune may remove. Plain Schema, browser-safe (the RPC contract and the UI
 * import it without the store). The error for a read from a pruned position,
 * `PositionPruned`, is with the other store errors in `StoreErrors`.
 */
import { Schema } from "effect"

/** The statuses a prune may remove: the final ones. */
export const PrunableStatus = Schema.Literals(["done", "error", "aborted", "maxIterations"])
/** A final status a prune may remove. */
export type PrunableStatus = typeof PrunableStatus.Type
