/**
 * The shape of a task definition class (Webiny's `ITaskDefinition`, v6): its
 * metadata, its `run`, its optional lifecycle hooks and input schema, and the
 * defaults the daemon applies to omitted metadata.
 *
 * A task class `implements TaskDefinition.Interface<Input, Output>`, takes its
 * Effect services as constructor parameters, and is registered with
 * `createImplementation`. Note: `implements` does not type method parameters
 * from the interface, so annotate them (`{ task }: LifecycleHookParams`).
 */
import type { Schema } from "effect"
import type { Controller } from "./Controller.ts"
import type { MaybeEffect } from "./MaybeEffect.ts"
import type { Result } from "./Result.ts"
import type { RetryPolicy } from "./Retry.ts"
import type { TaskSnapshot } from "./TaskSnapshot.ts"

/** What `run` receives: the iteration's input and the controller. */
export interface RunParams<Input = any, Output = any> {
  readonly input: Input
  readonly controller: Controller<Input, Output>
}

/** What `onBeforeTrigger` receives; throwing (or failing) refuses the trigger. */
export interface BeforeTriggerParams<Input = any> {
  readonly input: Input
  readonly definitionId: string
  readonly parentId?: string | undefined
}

/** What `onDone`, `onError`, `onAbort` and `onMaxIterations` receive. */
export interface LifecycleHookParams<Input = any, Output = any> {
  readonly task: TaskSnapshot<Input, Output>
}

/** What a hook may return: nothing, a Promise, or an Effect. */
export type HookResult = MaybeEffect<void>

/** A task definition class's instance shape. */
export interface Interface<Input = any, Output = any> {
  /** Unique camelCase id (`/^[a-z][a-zA-Z0-9]*$/`); stored with every task. */
  readonly id: string
  /** Human title shown by clients; must not be empty. */
  readonly title: string
  readonly description?: string | undefined
  /** Iterations before the task ends as `maxIterations`; default 50. */
  readonly maxIterations?: number | undefined
  /** Whether `controller.logger` lines are stored; default true. */
  readonly databaseLogs?: boolean | undefined
  /** A private definition is left out of definition listings and only other tasks can trigger it (its tasks are listed); default false. */
  readonly isPrivate?: boolean | undefined
  /** Hard timeout of one iteration in seconds; default 900. */
  readonly timeout?: number | undefined
  /** Default threshold of `isCloseToTimeout()` in seconds; default 180; must be below `timeout`. */
  readonly closeToTimeout?: number | undefined
  /** Opt-in retry of failed iterations; default none. */
  readonly retry?: RetryPolicy | undefined
  /** Most iterations of this definition running at once (within the daemon's global limit); default unlimited. */
  readonly concurrency?: number | undefined
  /** One iteration: answer with `controller.response.*`, as a value, Promise or Effect. */
  run(params: RunParams<Input, Output>): MaybeEffect<Result<Output>>
  /** Runs before a task is stored; throw or fail to refuse the trigger. */
  onBeforeTrigger?(params: BeforeTriggerParams<Input>): HookResult
  /** Runs after the task ended as done. */
  onDone?(params: LifecycleHookParams<Input, Output>): HookResult
  /** Runs after the task ended as error. */
  onError?(params: LifecycleHookParams<Input, Output>): HookResult
  /** Runs after the task ended as aborted. */
  onAbort?(params: LifecycleHookParams<Input, Output>): HookResult
  /** Runs after the task ended as maxIterations. */
  onMaxIterations?(params: LifecycleHookParams<Input, Output>): HookResult
  /** The Effect Schema the trigger input is decoded with (all errors reported by field path). */
  createInputValidation?(): Schema.Codec<Input, unknown>
}

/** The values the daemon uses for omitted metadata. */
export const defaults = {
  maxIterations: 50,
  databaseLogs: true,
  isPrivate: false,
  timeout: 900,
  closeToTimeout: 180,
} as const
