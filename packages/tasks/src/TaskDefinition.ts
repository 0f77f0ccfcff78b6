/**
 * The `TaskDefinition` namespace: what a task author uses, following
 * Webiny's background-task API (v6) — the class contract (`Interface`,
 * `Metadata`, hooks and their params), what `run` receives (`RunParams`,
 * `Controller`) and answers (`Result`), the input schema contract, and
 * `createImplementation`.
 *
 * What hosts of task code do with a definition (load and validate it, decode
 * its input, build the live controller, call its code) is not here: that is
 * `@tasklane/tasks/host`, so a task's imports carry nothing of the daemon.
 */
export type {
  ContinueOptions,
  Controller,
  ControllerLogger,
  ControllerResponse,
  ControllerRuntime,
  ControllerState,
  ControllerTask,
  LogLevel,
  Progress,
  TriggerParams,
} from "./Controller.ts"
export { type ErrorDetails, type ErrorInfo, type ErrorInput, toErrorInfo } from "./ErrorInfo.ts"
export {
  type CheckConstructor,
  type CheckRunnable,
  type ConstructorMismatch,
  createImplementation,
  type HandlerRequirements,
  type Implementation,
  type MissingRun,
  type ServiceShapes,
} from "./Implementation.ts"
export {
  type CreateInputValidationParams,
  type InputIssue,
  type InputValidation,
  InvalidInput,
  type Validator,
  type ValidatorRecord,
} from "./InputValidation.ts"
export {
  type BeforeTriggerParams,
  defaults,
  type DefinitionInfo,
  type Handler,
  type HookResult,
  type Hooks,
  type Info,
  type Interface,
  type Isolation,
  type LifecycleHookParams,
  type Metadata,
  type Runnable,
  type RunParams,
  type ScheduleDeclaration,
  type Task,
  type TaskCreateData,
  type TaskInput,
  type TaskOutput,
} from "./Interface.ts"
export { InvalidDefinition } from "./InvalidDefinition.ts"
export type { MaybeEffect } from "./MaybeEffect.ts"
export { Result } from "./Result.ts"
export type { Backoff, RetryPolicy } from "./Retry.ts"
export { type TaskSnapshot, type TaskStatus, webinyTaskStatus, type WebinyTaskStatus } from "./TaskSnapshot.ts"
