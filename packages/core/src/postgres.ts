/**
 * The PostgreSQL entry of @tasklane/core (`@tasklane/core/postgres`): the
 * event store on a PostgreSQL database, beside the LevelDB entry
 * (`@tasklane/core/level`). Kept out of the main entry so that nothing
 * loads the PostgreSQL client unless a store on PostgreSQL is asked for.
 */
export * as PgEventStore from "./PgEventStore.ts"
export * as PgCluster from "./PgCluster.ts"
