/**
 * One store instance per database, until cluster mode lands (issue 14): the
 * instance takes a session advisory lock on a connection of its own and
 * holds it, with that connection, for as long as the store is open. The
 * cluster protocol (claims, heartbeats, fencing) is what will make several
 * daemons on one database safe; without it two daemons would each recover
 * and run the same tasks.
 *
 * Lifecycle: `acquire` opens the connection, tries the lock once (a holder
 * means another instance: {@link DatabaseInUse}, naming it from its
 * connection's `application_name`, where each holder records who it is), and
 * then checks the connection every few seconds; when the check fails the
 * lock may be gone with the session, and `onLost` is told (the store turns
 * `failed`, and the daemon stops so that a supervisor restarts it). Closing
 * the scope closes the connection, which releases the lock.
 *
 * Effect side: a few statements at open and a ping now and then.
 */
import { Duration, Effect, Redacted, Schema, type Scope } from "effect"
import { PgClient } from "@effect/sql-pg"
import * as Reactivity from "effect/reactivity/Reactivity"
import { StoreError } from "../StoreErrors.ts"
import { describe, toStoreError } from "./PgError.ts"

/** Any constant below 2^31 (so pg_locks shows it as `objid`, `classid` 0); not the migrations' key. */
const KEY = 714_205_014

/** Connections holding the lock name themselves `tasklane-lock <holder>`. */
const prefix = "tasklane-lock "

/** How often the lock's connection is checked. */
const checkEvery = Duration.seconds(5)

/** Another store instance (another daemon) holds the database's lock. */
export class DatabaseInUse extends Schema.TaggedError<DatabaseInUse>()("DatabaseInUse", {
  /** Who holds it, as that instance recorded it (e.g. `pid 123 on host-a`); absent when it cannot be read. */
  holder: Schema.optional(Schema.String),
}) {
  override get message() {
    return `another tasklane daemon is using this database${this.holder === undefined ? "" : ` (${this.holder})`}; ` +
      "cluster mode is not available yet: run one daemon per database"
  }
}

/** Options of {@link acquire}. */
export interface Options {
  readonly url: string
  /** Who this instance is, as others see it in {@link DatabaseInUse} (cut to fit PostgreSQL's 63-byte application name). */
  readonly holder: string
  /** Called once when the lock's connection fails (the lock may be gone). */
  readonly onLost: (reason: string) => Effect.Effect<void>
}

/** Takes the lock for the scope's lifetime, or fails with DatabaseInUse; touches nothing stored. */
export const acquire = (options: Options): Effect.Effect<void, DatabaseInUse | StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* PgClient.makeClient({ url: Redacted.make(options.url), applicationName: (prefix + options.holder).slice(0, 63) }).pipe(
      Effect.provide(Reactivity.layer),
      Effect.mapError(toStoreError("open")),
    )
    const [row] = yield* sql<{ locked: boolean }>`SELECT pg_try_advisory_lock(${KEY}) AS locked`.pipe(Effect.mapError(toStoreError("open")))
    if (row?.locked !== true) {
      const holders = yield* sql<{ name: string }>`SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = ${KEY} AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`.pipe(
        Effect.orElseSucceed(() => []),
      )
      const name = holders[0]?.name
      return yield* new DatabaseInUse(name !== undefined && name.startsWith(prefix) ? { holder: name.slice(prefix.length) } : {})
    }
    yield* Effect.forkScoped(
      Effect.sleep(checkEvery).pipe(
        Effect.andThen(sql`SELECT 1`),
        Effect.forever,
        // Failures only: the scope closing interrupts this fiber, which is no loss of the lock.
        Effect.catch((error) => options.onLost(describe(error))),
      ),
    )
  })
