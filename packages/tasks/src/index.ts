/**
 * @tasklane/tasks: the public task authoring API. `TaskDefinition` holds the
 * task contract and its helpers; `Config` (and `defineConfig`, re-exported for
 * `tasklane.config.ts` files) describes a daemon configuration.
 */
export * as Config from "./Config.ts"
export { defineConfig } from "./Config.ts"
export * as TaskDefinition from "./TaskDefinition.ts"
