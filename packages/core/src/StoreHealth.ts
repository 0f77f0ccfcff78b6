/**
 * The event store's health as the store reports it (`EventStore.health`) and
 * the daemon sends it to clients (`Info`): a plain Schema class, browser-safe,
 * so the UI can show it without loading the store.
 */
import { Schema } from "effect"

/**
 * What the store says about itself: whether it can write now, and damage it
 * found and accepted when it opened. `ok`: writable. `degraded`: writes fail
 * (`error`, since `since`); appends fail with a StoreError at once while the
 * store retries to reopen the database. `failed`: it gave up reopening; the
 * process should exit so a supervisor restarts it.
 */
export class StoreHealth extends Schema.Class<StoreHealth>("StoreHealth")({
  status: Schema.Literals(["ok", "degraded", "failed"]),
  /** Why writing fails (degraded, failed). */
  error: Schema.optional(Schema.String),
  /** When writing started to fail (ms since the epoch). */
  since: Schema.optional(Schema.Number),
  /** Damage found (at open, or by the background scan of every record afterwards), one sentence each. */
  damage: Schema.Array(Schema.String),
}) {}

