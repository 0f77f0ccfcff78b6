/**
 * The LevelDB implementation of the `EventStore` contract, and the memory
 * store (the same code over memory-level). Reached only through the
 * `@tasklane/core/level` entry, which the daemon's entry point (and tests,
 * benches) import: the main entry and `@tasklane/core/client` never load
 * this module or the level packages. It depends on the contract
 * (`EventStore`), the errors (`StoreErrors`) and `internal/Level*.ts`; none of
 * those imports it back. How the store behaves (group commit, health,
 * retention) is described in the EventStore module header; how the LevelDB
 * side works, in the internal modules' headers (LevelStore first).
 *
 * Damage at open (on disk only; memory has none to damage): a write-ahead
 * log cut or damaged, a table that does not read, a stored head or task
 * summaries that disagree with the log's last events fail the layer with
 * StoreDamaged, listing what was found (and remembered for the next open,
 * since LevelDB's recovery discards the evidence). With `acceptDamage` the
 * store is copied beside itself, repaired (RepairDB; the log cut after its
 * last intact event; projections rebuilt) and opens with the findings in
 * `health.damage`. The checks at open are cheap (the last 1,000 events, a
 * head checkpoint kept outside LevelDB); every record is read once more in
 * the background after open, and what that finds is added to
 * `health.damage`.
 */
import { Effect, Layer } from "effect"
import { EventStore, type LayerOptions } from "./EventStore.ts"
import type { StoreDamaged, StoreError, StoreLocked } from "./StoreErrors.ts"
import * as Db from "./internal/LevelDb.ts"
import * as Store from "./internal/LevelStore.ts"

/** The LevelDB layer's options: the contract's {@link LayerOptions}, plus `acceptDamage` and `recovery`. */
export type Options = Store.Options

/** How the LevelDB store retries after a write fault. */
export type { RecoveryOptions } from "./internal/LevelCommitter.ts"

/**
 * The LevelDB store in `directory` (created if missing); another process
 * holding it fails with StoreLocked, damage found at open with StoreDamaged
 * unless accepted.
 */
export const layer = (options: Options & { readonly directory: string }): Layer.Layer<EventStore, StoreLocked | StoreDamaged | StoreError> =>
  Layer.effect(
    EventStore,
    Effect.flatMap(Db.openClassic(options.directory, { repair: options.acceptDamage === true }), (db) => Store.make(db, options)),
  )

/** A fresh in-memory store with options; same implementation as {@link layer}. */
export const layerMemoryWith = (options: LayerOptions): Layer.Layer<EventStore, StoreError> =>
  Layer.effect(
    EventStore,
    // A memory database has no disk to check, so it is never found damaged.
    Effect.flatMap(Db.openMemory, (db) => Store.make(db, options).pipe(Effect.catchTag("StoreDamaged", (damaged) => Effect.die(damaged)))),
  )

/** A fresh in-memory store (for unit tests and tools); same implementation as {@link layer}. */
export const layerMemory: Layer.Layer<EventStore, StoreError> = layerMemoryWith({})
