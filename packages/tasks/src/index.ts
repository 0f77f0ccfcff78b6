/**
 * @tasklane/tasks: the public task authoring API. `TaskDefinition` holds the
 * task contract and its helpers; `TaskHandler` the handler half of a split
 * definition (Webiny v6); `Config` (and `defineConfig`, re-exported for
 * `tasklane.config.ts` files) describes a daemon configuration.
 */
export * as Config from "./Config.ts"
export { defineConfig } from "./Config.ts"
export * as TaskDefinition from "./TaskDefinition.ts"
export * as TaskHandler from "./TaskHandler.ts"
