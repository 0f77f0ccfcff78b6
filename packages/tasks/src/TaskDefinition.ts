/**
 * The `TaskDefinition` namespace: everything a task author (and the daemon's
 * loader and runner) uses, following Webiny's background-task API (v6).
 *
 * Authors: `Interface`, `RunParams`, `Controller`, `Result`, hook params,
 * `createImplementation`. Daemon: `loadDefinitions` / `validateDefinitions`,
 * `decodeInput`, `makeController`, `toEffect`, `retryDelaySeconds`,
 * `describeUnstorableContinue`.
 */
export * from "./Controller.ts"
export * from "./Definition.ts"
export * from "./ErrorInfo.ts"
export * from "./Implementation.ts"
export * from "./InputValidation.ts"
export * from "./JsonCheck.ts"
export * from "./Interface.ts"
export * from "./LiveController.ts"
export * from "./MaybeEffect.ts"
export * from "./Result.ts"
export * from "./Retry.ts"
export * from "./TaskSnapshot.ts"
