/**
 * The LevelDB entry of @tasklane/core (`@tasklane/core/level`): the event
 * store's LevelDB and memory layers. Kept out of the main entry so that only
 * what opens a store (the daemon's entry point, tests, benches) loads the
 * level packages; a PostgreSQL store sits beside it as its own entry.
 */
export * as LevelEventStore from "./LevelEventStore.ts"
