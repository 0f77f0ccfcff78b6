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
import { Layer } from "effect"
import { EventStore } from "./EventStore.ts"
import type { StoreError } from "./StoreErrors.ts"
import * as PgStore from "./internal/PgStore.ts"

/** Options of the PostgreSQL store: a connection URL (`url`) plus the shared layer options. */
export type PgLayerOptions = PgStore.Options

/** The PostgreSQL store at `url`; a database that cannot be reached or migrated fails with a StoreError. */
export const layer = (options: PgLayerOptions): Layer.Layer<EventStore, StoreError> => Layer.effect(EventStore, PgStore.make(options))
