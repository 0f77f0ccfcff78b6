/**
 * @tasklane/tasks/host: what hosts of task code use — the daemon, its worker
 * threads, `replay-test` and the test kit — and task authors do not: running
 * one iteration of a definition (`Iteration`) and storable wake times
 * (`WakeAt`).
 */
export * as Iteration from "./host/Iteration.ts"
export * as WakeAt from "./host/WakeAt.ts"
