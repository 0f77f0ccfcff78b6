/**
 * What the daemon does about its event store's health. The store reports and
 * logs faults itself (a failed write: `degraded`, appends refused while it
 * reopens the database; damage accepted at open), and Info carries its
 * health to `tasklane daemon status` and the UI. The daemon only has to act
 * when the store gives up (`failed`: the database could not be reopened, see
 * `LevelEventStore.RecoveryOptions`): {@link untilStoreFails} then fails with
 * {@link StoreFailed}, the daemon stops gracefully and exits with
 * {@link exitCodes}`.storeFailed` so that a supervisor restarts it. So
 * does a cluster node that lost its PostgreSQL database (`Cluster.lost`:
 * no heartbeat for half a lease, or the event log could not be followed):
 * other nodes may be taking its work over.
 */
import { Context, Effect, Schema, Stream } from "effect"
import type { EventStore } from "@tasklane/core"

/** Exit codes of the foreground daemon besides 0 (stopped) and 1 (could not start). */
export const exitCodes = {
  /** The store is damaged and the damage was not accepted (EX_DATAERR: restarting does not help). */
  storeDamaged: 65,
  /** The store gave up writing (EX_TEMPFAIL: a restart may help). */
  storeFailed: 75,
} as const

/** The event store cannot write any more and gave up reopening its database. */
export class StoreFailed extends Schema.TaggedError<StoreFailed>()("StoreFailed", {
  /** The LevelDB store's directory. */
  directory: Schema.optional(Schema.String),
  /** The PostgreSQL store's URL, without its password. */
  url: Schema.optional(Schema.String),
  reason: Schema.String,
}) {
  override get message() {
    return `the event store ${this.url === undefined ? `in ${this.directory}` : `at ${this.url}`} cannot write: ${this.reason}. ` +
      `Stopping with exit code ${exitCodes.storeFailed} so that a supervisor restarts the daemon`
  }
}

/** Where the daemon's store is, as {@link StoreFailed} names it: a LevelDB directory or a URL without its password. */
export class Location extends Context.Service<Location, { readonly directory: string } | { readonly url: string }>()(
  "@tasklane/daemon/StoreWatch/Location",
) {}

/** Waits until the store reports `failed` or the cluster node lost its database, then fails with {@link StoreFailed}; never succeeds. */
export const untilStoreFails = (
  store: EventStore.EventStore["Service"],
  location: Location["Service"],
  lost: Effect.Effect<string> = Effect.never,
): Effect.Effect<never, StoreFailed> =>
  Effect.raceFirst(
    store.healthChanges.pipe(
      Stream.filter((health) => health.status === "failed"),
      Stream.runHead,
      Effect.flatMap((failed) =>
        failed._tag === "Some" ? Effect.fail(new StoreFailed({ ...location, reason: failed.value.error ?? "unknown error" })) : Effect.never
      ),
    ),
    Effect.flatMap(lost, (reason) => Effect.fail(new StoreFailed({ ...location, reason }))),
  )

/** The exit code for a failure of the daemon program. */
export const exitCodeOf = (error: { readonly _tag?: string }): number =>
  error._tag === "StoreDamaged" ? exitCodes.storeDamaged : error._tag === "StoreFailed" ? exitCodes.storeFailed : 1
