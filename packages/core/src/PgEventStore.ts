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
 * ignored here. {@link layerExclusive} is the store as the only one on its
 * database (a session advisory lock, internal/PgLock): what one daemon needs
 * until cluster mode lands.
 */
import { Effect, Layer } from "effect"
import { EventStore } from "./EventStore.ts"
import type { StoreError } from "./StoreErrors.ts"
import * as PgLock from "./internal/PgLock.ts"
import * as PgStore from "./internal/PgStore.ts"

/** Options of the PostgreSQL store: a connection URL (`url`) plus the shared layer options. */
export type PgLayerOptions = Omit<PgStore.Options, "exclusive">

/** Another instance holds the database's lock ({@link layerExclusive} only): it names that instance when it can. */
export const DatabaseInUse = PgLock.DatabaseInUse
/** See {@link DatabaseInUse}. */
export type DatabaseInUse = PgLock.DatabaseInUse

/** The PostgreSQL store at `url`; a database that cannot be reached or migrated fails with a StoreError. */
export const layer = (options: PgLayerOptions): Layer.Layer<EventStore, StoreError> =>
  Layer.effect(
    EventStore,
    // Only an exclusive store takes the lock, so only it can be refused.
    PgStore.make(options).pipe(Effect.catchTag("DatabaseInUse", (inUse) => Effect.die(inUse))),
  )

/**
 * The PostgreSQL store as the only instance on its database (what one
 * daemon needs until cluster mode): fails with DatabaseInUse while another
 * holds it; `holder` (e.g. `pid 123 on host-a`) is what such another sees.
 */
export const layerExclusive = (options: PgLayerOptions & { readonly holder: string }): Layer.Layer<EventStore, StoreError | DatabaseInUse> => {
  const { holder, ...rest } = options
  return Layer.effect(EventStore, PgStore.make({ ...rest, exclusive: { holder } }))
}
