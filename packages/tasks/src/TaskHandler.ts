/**
 * The `TaskHandler` namespace: the behaviour half of a task definition split
 * as Webiny v6 splits it. The definition class keeps the metadata and points
 * at its handler (`handler = MyHandler`); the handler class has `run`, the
 * hooks and `createInputValidation`, and takes the Effect services they need.
 *
 * ```ts
 * class CleanupHandler implements TaskHandler.Interface<{ folder: string }> {
 *   constructor(private readonly files: Context.Service.Shape<typeof Files>) {}
 *   async run({ input, controller }: TaskHandler.RunParams<{ folder: string }>) { ... }
 * }
 * class Cleanup implements TaskDefinition.Interface {
 *   readonly id = "cleanup"
 *   readonly title = "Cleanup"
 *   readonly handler = TaskHandler.createImplementation({ implementation: CleanupHandler, dependencies: [Files] })
 * }
 * export default TaskDefinition.createImplementation({ implementation: Cleanup })
 * ```
 */
export { createHandlerImplementation as createImplementation } from "./Implementation.ts"
export type { Handler as Interface, LifecycleHookParams, RunParams } from "./Interface.ts"
export type { Result } from "./Result.ts"
