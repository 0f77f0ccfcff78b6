/**
 * The `controller` a task's `run` receives: the only way a task talks to the
 * daemon during an iteration. It is an interface so tests can fake it; the
 * daemon's runner uses the real implementation from `LiveController.ts`.
 *
 * - `runtime`: time left in this iteration and whether an abort was requested.
 * - `response`: builds the iteration's {@link Result}.
 * - `state`: the task's input and output, merged in place, and progress.
 * - `logger`: task log lines (stored when the definition has `databaseLogs`).
 * - `task`: trigger child tasks and list them.
 */
import type { TaskShapes } from "@tasklane/core"
import type { ErrorDetails, ErrorInput } from "./ErrorInfo.ts"
import type { Result } from "./Result.ts"
import type { TaskSnapshot } from "./TaskSnapshot.ts"

/** Time and abort status of the running iteration. */
export interface ControllerRuntime {
  /** True once an abort was requested; return `response.aborted()` soon after. */
  isAborted(): boolean
  /** True when at most `seconds` (default: the definition's `closeToTimeout`) remain. */
  isCloseToTimeout(seconds?: number): boolean
  /** Whole seconds left before the iteration's hard timeout (never negative). */
  getRemainingSeconds(): number
  /** Milliseconds left before the iteration's hard timeout (never negative). */
  getRemainingMilliseconds(): number
  /** Aborted when the task is asked to stop; pass it to `fetch` and friends in Promise runs. */
  readonly signal: AbortSignal
}

/** When the next iteration may start: after `seconds` (`wait` is Webiny's name for it), or at `date`. */
export type ContinueOptions = { readonly seconds: number } | { readonly wait: number } | { readonly date: Date }

/** Builders for the iteration's answer. */
export interface ControllerResponse<Input, Output> {
  /** Finish the task; a string first argument is the message. Without `output`, the state's output is used. */
  done(message: string | undefined, output?: Output): Result.Done<Output>
  /** Finish the task with `output` (without it, the state's output is used). */
  done(output?: Output): Result.Done<Output>
  /** Run another iteration with `input`, optionally not before a delay or date. */
  continue(input: Input, options?: ContinueOptions): Result.Continue<Input>
  /** Fail the task with a message, an `Error`, or `{ message, code?, data? }`. */
  error(error: ErrorInput): Result.Error
  /** Fail the task with `message`; `details` (an `Error`, `{ message?, code?, data? }`, anything caught) add code, data and their message. */
  error(message: string, details?: globalThis.Error | ErrorDetails | unknown): Result.Error
  /** Fail the task with whatever was caught (`catch (e) { return controller.response.error(e) }`). */
  error(caught: unknown): Result.Error
  /** Acknowledge an abort request. Webiny's optional message is accepted and, as in Webiny, not stored. */
  aborted(message?: string): Result.Aborted
}

/** Progress of a task, as shown by clients (the recorded shape, `TaskShapes.Progress` of `@tasklane/core`). */
export type Progress = TaskShapes.Progress

/** The task's input and output, kept across iterations. */
export interface ControllerState<Input, Output> {
  /** The current input (after any `updateInput`). */
  getInput(): Input
  /** The current output (after any `updateOutput`), or undefined if none yet. */
  getOutput(): Partial<Output> | undefined
  /** Shallow-merge `partial` into the input and record it. */
  updateInput(partial: Partial<Input>): void
  /** Shallow-merge `partial` into the output and record it. */
  updateOutput(partial: Partial<Output>): void
  /** Report progress (completed must be a finite number >= 0). */
  setProgress(progress: Progress): void
}

/** The severity of a task log line. */
export type LogLevel = "info" | "warn" | "error"

/** Task log lines. */
export interface ControllerLogger {
  /** Log an informational line with optional structured data. */
  info(message: string, data?: unknown): void
  /** Log a warning with optional structured data. */
  warn(message: string, data?: unknown): void
  /** Log an error; `error` may be anything thrown, `data` any structured data. */
  error(message: string, details?: { readonly error?: unknown; readonly data?: unknown }): void
  /** Log an error as Webiny's `logger.error(message, error?, data?)` does. */
  error(message: string, error: globalThis.Error | ErrorDetails, data?: unknown): void
}

/** A request to start a child task. */
export interface TriggerParams<Input = unknown> {
  /** The id of the child's task definition. */
  readonly definition: string
  readonly input: Input
  readonly name?: string | undefined
  /** Seconds to wait before the child's first iteration. */
  readonly delay?: number | undefined
  /**
   * Makes the trigger idempotent: a second trigger with this key returns the
   * first child. Default: derived from the parent, its iteration and the
   * order of the call in it, so an iteration that runs again (after a crash,
   * a timeout or a retry) gets its children back instead of new ones.
   */
  readonly idempotencyKey?: string | undefined
}

/** Child tasks of the running task. */
export interface ControllerTask {
  /** Trigger a child task (its parentId is this task); resolves with its id. */
  trigger<Input>(params: TriggerParams<Input>): Promise<{ readonly id: string }>
  /** This task's children, optionally only those of one definition. */
  listChildren(definitionId?: string): Promise<ReadonlyArray<TaskSnapshot>>
}

/** Everything a task can do during one iteration. */
export interface Controller<Input = any, Output = any> {
  readonly runtime: ControllerRuntime
  readonly response: ControllerResponse<Input, Output>
  readonly state: ControllerState<Input, Output>
  readonly logger: ControllerLogger
  readonly task: ControllerTask
}
