/**
 * The shape of a task definition class (Webiny's `ITaskDefinition`, v6): its
 * metadata, its `run`, its optional lifecycle hooks and input schema, and the
 * defaults the daemon applies to omitted metadata.
 *
 * A task class `implements TaskDefinition.Interface<Input, Output>`, takes its
 * Effect services as constructor parameters, and is registered with
 * `createImplementation`. Note: `implements` does not type method parameters
 * from the interface, so annotate them (`{ task }: LifecycleHookParams`).
 *
 * Webiny v6 may split a definition in two: the class holds the metadata and
 * `handler = TaskHandler.createImplementation({ implementation, dependencies })`,
 * whose class holds `run`, the hooks and `createInputValidation` ({@link Handler}).
 * The daemon builds both and runs the handler's methods ({@link Runnable}).
 */
import type { Controller } from "./Controller.ts"
import type { Implementation } from "./Implementation.ts"
import type { CreateInputValidationParams, InputValidation } from "./InputValidation.ts"
import type { MaybeEffect } from "./MaybeEffect.ts"
import type { Result } from "./Result.ts"
import type { RetryPolicy } from "./Retry.ts"
import type { TaskSnapshot } from "./TaskSnapshot.ts"

/** What `run` receives: the iteration's input and the controller. */
export interface RunParams<Input = any, Output = any> {
  readonly input: Input
  readonly controller: Controller<Input, Output>
}

/** The definition facts hooks receive (Webiny's `TaskDefinition.Info`), defaults applied. */
export interface DefinitionInfo {
  readonly id: string
  readonly title: string
  readonly description?: string | undefined
  readonly maxIterations: number
  readonly databaseLogs: boolean
  readonly isPrivate: boolean
}

/** The task about to be created, as Webiny's `onBeforeTrigger` gets it in `params.data`. */
export interface TaskCreateData<Input = any> {
  readonly definitionId: string
  /** The name given, else the definition's title. */
  readonly name: string
  readonly input: Input
  readonly parentId?: string | undefined
}

/** What `onBeforeTrigger` receives (built by `beforeTriggerParams`); throwing (or failing) refuses the trigger. */
export interface BeforeTriggerParams<Input = any> {
  /** The decoded input. */
  readonly input: Input
  readonly definitionId: string
  /** The name given with the trigger, if any. */
  readonly name?: string | undefined
  readonly parentId?: string | undefined
  /** The same facts as Webiny passes them. */
  readonly data: TaskCreateData<Input>
  readonly definition: DefinitionInfo
}

/** What `onDone`, `onError`, `onAbort` and `onMaxIterations` receive (built by `lifecycleHookParams`). */
export interface LifecycleHookParams<Input = any, Output = any> {
  readonly task: TaskSnapshot<Input, Output>
  readonly definition: DefinitionInfo
}

/** What a hook may return: nothing, a Promise, or an Effect. */
export type HookResult = MaybeEffect<void>

/** A task definition's metadata (Webiny's `TaskDefinition.Metadata`, plus Tasklane's limits). */
export interface Metadata {
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
  /**
   * Where `run()` and the hooks execute: `"worker"`, a pooled worker thread
   * with a memory limit, killed at the timeout (a crash, leak or busy loop
   * costs only this task); `"inline"`, the daemon's own event loop (fastest,
   * for trusted code). Default: the daemon's (`--isolation`, config `isolation`).
   */
  readonly isolation?: Isolation | undefined
  /** Heap limit in MB of the worker that runs this task (`isolation: "worker"`); default: the daemon's `--worker-memory`. */
  readonly memoryLimitMb?: number | undefined
  /** Re-runs of an iteration the daemon died in before the task fails as `crashedDaemon`; default 1. */
  readonly maxCrashRetries?: number | undefined
  /**
   * Recurring schedules this definition declares (a Tasklane extension; Webiny has none, so it is optional).
   * The daemon keeps them in step with the class at every start: see {@link ScheduleDeclaration}.
   */
  readonly schedules?: ReadonlyArray<ScheduleDeclaration> | undefined
}

/**
 * A schedule declared on a definition: `name` (letters, digits, `-`, `_`; unique within the definition) and
 * `cron` (5 fields, or 6 with seconds first) in `tz` (IANA zone; default UTC), triggered with `input`
 * (default `{}`, checked against the definition's input schema when the daemon starts). `overlap` (default
 * `skip`) and `catchUp` (default `one`) mean what `tasklane schedule add --overlap/--catch-up` mean.
 */
export interface ScheduleDeclaration<Input = any> {
  readonly name: string
  readonly cron: string
  readonly tz?: string | undefined
  readonly input?: Input | undefined
  readonly overlap?: "skip" | "allow" | "queue" | undefined
  readonly catchUp?: "none" | "one" | "all" | undefined
}

/** Where task code runs: a worker thread of the daemon's pool, or the daemon's own event loop. */
export type Isolation = "inline" | "worker"

/** The optional hooks and input schema of a task (on the definition, or on its handler). */
export interface Hooks<Input = any, Output = any> {
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
  /**
   * The input schema, checked at every trigger (all errors, by field path),
   * decoded at every iteration, and rendered as a form: an Effect Schema
   * (first-class: decoding and static types from one schema), or zod
   * (`validator`) as Webiny writes it: a zod schema or an object of zod fields.
   */
  createInputValidation?(params: CreateInputValidationParams): InputValidation<Input>
}

/** What a task does: `run` and the hooks (Webiny v6's `TaskHandler.Interface`). */
export interface Handler<Input = any, Output = any> extends Hooks<Input, Output> {
  /** One iteration: answer with `controller.response.*`, as a value, Promise or Effect. */
  run(params: RunParams<Input, Output>): MaybeEffect<Result<Output>>
}

/** A task definition class's instance shape: metadata and `run`, or metadata and a `handler`. */
export interface Interface<Input = any, Output = any> extends Metadata, Hooks<Input, Output> {
  /** One iteration: answer with `controller.response.*`, as a value, Promise or Effect. Required unless `handler` is set. */
  run?(params: RunParams<Input, Output>): MaybeEffect<Result<Output>>
  /** Webiny v6's split: the registered class (`TaskHandler.createImplementation`) whose `run` and hooks are used. */
  readonly handler?: Implementation<Handler<Input, Output>, any> | undefined
}

/** A definition as the daemon runs it: metadata, `run` and hooks in one object (Webiny's `TaskDefinition.Runnable`). */
export interface Runnable<Input = any, Output = any> extends Metadata, Handler<Input, Output> {}

/** The values the daemon uses for omitted metadata. */
export const defaults = {
  maxIterations: 50,
  databaseLogs: true,
  isPrivate: false,
  timeout: 900,
  closeToTimeout: 180,
  maxCrashRetries: 1,
} as const

/** Webiny's name for what hooks see of a task (`TaskDefinition.Task`). */
export type Task<Input = any, Output = any> = TaskSnapshot<Input, Output>
/** Webiny's name for {@link DefinitionInfo} (`TaskDefinition.Info`). */
export type Info = DefinitionInfo
/** Webiny's default input type (`TaskDefinition.TaskInput`): any record. */
export type TaskInput = Record<string, any>
/** Webiny's default output type (`TaskDefinition.TaskOutput`): any record. */
export type TaskOutput = Record<string, any>
