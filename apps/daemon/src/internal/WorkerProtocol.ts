/**
 * The messages between the daemon and the worker threads that run task code
 * (`isolation: "worker"`). Both ends are this daemon's own code, so messages
 * are plain structured-cloneable data, not Schema-checked: the only untrusted
 * parts are the values task code produced (log data, outputs, errors), and
 * those are made cloneable with {@link cloneable} before they are posted.
 *
 * One worker runs one job at a time. A job is an iteration (answered with the
 * lifecycle command that records it), a lifecycle hook (answered with its
 * error, if any) or `onBeforeTrigger` (answered with why it refused, if it
 * did). While a job runs the worker reports log lines and progress, and asks
 * the daemon to trigger or list child tasks (`Call`, answered by `Reply`).
 * An abort request is a flag in shared memory (so even a synchronous loop
 * that polls `isAborted()` sees it) plus an `Abort` message that fires the
 * run's AbortSignal.
 */
import type { Lifecycle, Replay, TaskEvent } from "@tasklane/core"
import type { TaskDefinition } from "@tasklane/tasks/host"

/** What a worker thread is started with (`workerData`). */
export interface WorkerData {
  /** The config file the daemon loaded, if any. */
  readonly configPath: string | undefined
  /** Task folders the daemon loaded. */
  readonly taskDirs: ReadonlyArray<string>
  /** Whether the built-in example tasks are loaded. */
  readonly examples: boolean
  /** Int32 flag, 1 when the running job was asked to abort. */
  readonly abortFlag: SharedArrayBuffer
  /** Tracing is on (Tracing.ts): iterations carry their span, and spans and Effect logs task code creates are posted back (`Spans`, `Logs`). */
  readonly tracing?: boolean | undefined
}

/** The running iteration's span (TraceSpans.ts), the parent of spans its task code creates. */
export interface TraceParent {
  readonly traceId: string
  readonly spanId: string
}

/** A job for a worker. */
export type Job =
  | { readonly _tag: "Iteration"; readonly definitionId: string; readonly state: Replay.TaskState; readonly trace?: TraceParent | undefined }
  | {
    readonly _tag: "Hook"
    readonly definitionId: string
    readonly hook: TaskEvent.HookName
    readonly params: TaskDefinition.LifecycleHookParams
  }
  | {
    readonly _tag: "BeforeTrigger"
    readonly definitionId: string
    /** The trigger's input as the client sent it: the worker decodes it with the definition's schema. */
    readonly input: unknown
    readonly name: string | undefined
    readonly parentId: string | undefined
  }

/** What a job answers, by job kind. */
export interface Answers {
  readonly Iteration: Lifecycle.Command
  readonly Hook: TaskEvent.ErrorInfo | undefined
  /** Why onBeforeTrigger refused the trigger, or undefined when it passed. */
  readonly BeforeTrigger: string | undefined
}

/** Daemon → worker. */
export type ToWorker =
  | { readonly _tag: "Job"; readonly job: Job }
  | { readonly _tag: "Abort" }
  | { readonly _tag: "Reply"; readonly call: number; readonly value?: unknown; readonly error?: string | undefined }

/** A host call a running task makes through its controller. */
export type Call =
  | { readonly method: "trigger"; readonly params: TaskDefinition.TriggerParams }
  | { readonly method: "listChildren"; readonly definitionId: string | undefined }

/** Worker → daemon. */
export type FromWorker =
  | { readonly _tag: "Ready" }
  | { readonly _tag: "LoadFailed"; readonly message: string }
  | { readonly _tag: "Log"; readonly entry: TaskDefinition.LogEntry }
  | { readonly _tag: "Progress"; readonly progress: TaskDefinition.Progress }
  | { readonly _tag: "Call"; readonly call: number; readonly request: Call }
  | { readonly _tag: "Answer"; readonly value: unknown }
  /** Spans task code created (OTLP JSON form), when tracing is on; posted before the job's answer. */
  | { readonly _tag: "Spans"; readonly spans: ReadonlyArray<unknown> }
  /** Effect log records task code wrote (OTLP JSON form, with their span's ids), when tracing is on; posted before the job's answer. */
  | { readonly _tag: "Logs"; readonly records: ReadonlyArray<unknown> }
  /** Task code raised an unhandled rejection or an uncaught exception: the job fails and the worker is retired. */
  | { readonly _tag: "Uncaught"; readonly error: TaskEvent.ErrorInfo }

/**
 * A value task code produced, made safe to post: as is when structured clone
 * takes it, else its JSON form (functions and symbols dropped, like the store
 * would), else its string form.
 */
export const cloneable = (value: unknown): unknown => {
  try {
    return structuredClone(value)
  } catch {
    try {
      const json = JSON.stringify(value)
      return json === undefined ? undefined : JSON.parse(json)
    } catch {
      return String(value)
    }
  }
}
