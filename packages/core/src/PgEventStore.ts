/**
 * The event store on PostgreSQL: the same `EventStore` contract as the
 * LevelDB store, for several daemons sharing one history (DESIGN §8). It is
 * loaded only through `@tasklane/core/postgres`, so a process that does not
 * ask for PostgreSQL never loads it or its client.
 *
 * The tables (internal/PgSchema), the group-committing writer that batches
 * concurrent appends into one transaction serialized on a one-row head
 * (internal/PgWriter), and reads, subscriptions woken by LISTEN/NOTIFY with a
 * slow poll as fallback (internal/PgStore) are described in their modules.
 * `LayerOptions.acceptDamage` and `recovery` are LevelDB matters and are
 * ignored here. Several instances (daemons) may share one database: that is
 * cluster mode, whose node rows and claims are `PgCluster`'s.
 */
import { Context, Effect, Layer } from "effect"
import { EventStore } from "./EventStore.ts"
import type { TaskState } from "./Replay.ts"
import type { StoreError } from "./StoreErrors.ts"
import * as PgStore from "./internal/PgStore.ts"

/** Options of the PostgreSQL store: a connection URL (`url`) plus the shared layer options. */
export type PgLayerOptions = PgStore.Options

/**
 * Task summaries read outside the store, kept for the next append on their
 * task (a cluster claim reads the claimed task's: its start then needs no
 * read of its own). Like what `getTaskToAppend` keeps, the append proves it.
 */
export class KeptStates extends Context.Service<KeptStates, { readonly keep: (state: TaskState) => void }>()("tasklane/PgEventStore/KeptStates") {}

/** The PostgreSQL store at `url`; a database that cannot be reached or migrated fails with a StoreError. */
export const layer = (options: PgLayerOptions): Layer.Layer<EventStore | KeptStates, StoreError> =>
  Layer.effectContext(Effect.map(PgStore.make(options), ({ store, keep }) => Context.make(EventStore, store).pipe(Context.add(KeptStates, { keep }))))
