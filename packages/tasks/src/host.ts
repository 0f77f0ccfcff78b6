/**
 * @tasklane/tasks/host: what hosts of task code use — the daemon, its worker
 * threads, `replay-test` and the test kit — and task authors do not.
 * `TaskDefinition` is the authoring namespace plus the host's half (loading
 * definitions, input codecs, the live controller, calling task code);
 * `Iteration` runs one iteration of a definition; `WakeAt` makes wake times
 * storable. Authors import `@tasklane/tasks`, which exports none of this.
 */
export * as Iteration from "./host/Iteration.ts"
export * as TaskDefinition from "./host/TaskDefinition.ts"
export * as WakeAt from "./host/WakeAt.ts"
