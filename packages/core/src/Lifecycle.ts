/**
 * The lifecycle decider: what facts to record when something happens to a
 * task in a given state. Pure: `decide(state, command)` returns the events to
 * append (the machine accepts them by construction) or a {@link CommandRejected}.
 * The runner owns the effects (running `run()`, timers, retries' backoff);
 * this module owns the rules of DESIGN section 4's lifecycle table, and the
 * fencing rule of section 8: a runner command that names the iteration it
 * belongs to (`expect`) is refused, before any other rule, unless exactly
 * that iteration and attempt is running — so a daemon that lost an iteration
 * to another node (paused or partitioned past its lease) writes nothing more
 * for it.
 */
import { Schema } from "effect"
import type { DefinitionId, TaskId } from "./Ids.ts"
import {
  trusted,
  type ErrorInfo,
  type FailureReason,
  type FinalEventType,
  type HookName,
  type Progress,
  type TaskEvent,
} from "./TaskEvent.ts"
import type { TaskState } from "./Replay.ts"
import { isFinal } from "./TaskMachine.ts"

/**
 * The iteration a runner command belongs to: the `iteration` and `attempt` of
 * the IterationStarted the runner ran it under.
 */
export interface Expect {
  readonly iteration: number
  readonly attempt: number
}

/** What can happen to a task. */
export type Command =
  | {
      readonly _tag: "Trigger"
      readonly taskId: TaskId
      readonly definitionId: DefinitionId
      readonly input: unknown
      readonly maxIterations: number
      readonly name?: string
      readonly parentId?: TaskId
      readonly idempotencyKey?: string
      readonly wakeAt?: number
      readonly forkedFrom?: { readonly taskId: TaskId; readonly iteration: number }
      /** Start the first iteration in the same append (a slot is free now): one commit instead of two. */
      readonly start?: boolean
      /** The cluster node that starts it (recorded on that IterationStarted only). */
      readonly node?: string | undefined
    }
  | {
      readonly _tag: "StartIteration"
      /** The cluster node that starts it, recorded on the IterationStarted; none when the daemon runs alone. */
      readonly node?: string | undefined
    }
  | {
      readonly _tag: "Complete"
      readonly result: IterationResult
      /** A continue without a wait starts the next iteration in the same append (the runner keeps the slot). */
      readonly startNext?: boolean
      /** The cluster node that starts the next iteration (with `startNext`; recorded on that IterationStarted only). */
      readonly node?: string | undefined
      readonly expect?: Expect | undefined
    }
  | {
      readonly _tag: "Fail"
      readonly error: ErrorInfo
      readonly reason: FailureReason
      readonly retryAt?: number
      readonly expect?: Expect | undefined
    }
  | { readonly _tag: "Abort"; readonly message?: string }
  | { readonly _tag: "ForceAbort"; readonly expect?: Expect | undefined }
  | { readonly _tag: "Interrupt"; readonly reason: "crash" | "shutdown"; readonly expect?: Expect | undefined }
  | { readonly _tag: "HookResult"; readonly hook: HookName; readonly error?: ErrorInfo }
  | { readonly _tag: "Progress"; readonly progress: Progress; readonly expect?: Expect | undefined }
  | {
      readonly _tag: "Log"
      readonly level: "info" | "warn" | "error"
      readonly message: string
      readonly data?: unknown
      readonly expect?: Expect | undefined
    }
  | { readonly _tag: "Delete" }

/** What one run() answered, as the runner hands it over (already validated). */
export type IterationResult =
  | { readonly _tag: "Done"; readonly output?: unknown; readonly message?: string }
  | { readonly _tag: "Continue"; readonly input: unknown; readonly output?: unknown; readonly wakeAt?: number }
  | { readonly _tag: "Error"; readonly error: ErrorInfo; readonly retryAt?: number }
  | { readonly _tag: "Aborted"; readonly message?: string }

/** The command does not apply to the task in its current state. */
export class CommandRejected extends Schema.TaggedError<CommandRejected>()("CommandRejected", {
  command: Schema.String,
  status: Schema.String,
  reason: Schema.String,
  /** Refused by fencing: the iteration the command belongs to is no longer the running one. */
  superseded: Schema.optional(Schema.Boolean),
}) {
  override get message() {
    return `${this.command} is not possible while the task is ${this.status}: ${this.reason}`
  }
}

/** What the decider needs to know about the task's definition. */
export interface DecideOptions {
  /** The hooks the definition implements; a final event for an outcome without a hook records `hookDue: false`. Default: all. */
  readonly hooks?: ReadonlySet<HookName> | undefined
  /**
   * How often an iteration interrupted by a daemon crash runs again; the next
   * crash of the same iteration ends the task `error` (reason `crashedDaemon`).
   * Default {@link defaultMaxCrashRetries}.
   */
  readonly maxCrashRetries?: number | undefined
}

/** Re-runs of an iteration after daemon crashes before the task fails as a poison task (BullMQ's `maxStalledCount`). */
export const defaultMaxCrashRetries = 1

/** The hook due after each final event (typed against the final event set, so the two cannot drift apart). */
const hookFor = {
  TaskDone: "onDone",
  TaskFailed: "onError",
  TaskAborted: "onAbort",
  MaxIterationsReached: "onMaxIterations",
} as const satisfies Record<FinalEventType, HookName>

/** Marks final events whose hook the definition does not implement. */
const withHooks = (events: ReadonlyArray<TaskEvent>, options: DecideOptions): ReadonlyArray<TaskEvent> => {
  const hooks = options.hooks
  if (hooks === undefined) return events
  return events.map((event) => {
    switch (event._tag) {
      case "TaskDone":
        return hooks.has(hookFor[event._tag]) ? event : trusted("TaskDone", { ...event, hookDue: false })
      case "TaskFailed":
        return hooks.has(hookFor[event._tag]) ? event : trusted("TaskFailed", { ...event, hookDue: false })
      case "TaskAborted":
        return hooks.has(hookFor[event._tag]) ? event : trusted("TaskAborted", { ...event, hookDue: false })
      case "MaxIterationsReached":
        return hooks.has(hookFor[event._tag]) ? event : trusted("MaxIterationsReached", { ...event, hookDue: false })
      default:
        return event
    }
  })
}

const reject = (state: TaskState, command: Command, reason: string) =>
  new CommandRejected({ command: command._tag, status: state.status, reason })

/**
 * The fencing rule: a command that names its iteration (`expect`) is refused
 * unless the task is running exactly that iteration and attempt. Commands
 * without `expect` (clients' aborts and deletes, hook results, the
 * unknown-definition failure of a waiting task) pass untouched.
 */
const fenced = (state: TaskState, command: Command): CommandRejected | undefined => {
  // Only runner commands declare `expect`; read it without narrowing the union (no allocation when absent).
  const expect = (command as { readonly expect?: Expect | undefined }).expect
  if (expect === undefined) return undefined
  const { status, context } = state
  if (status === "running" && context.iteration === expect.iteration && context.attempt === expect.attempt) return undefined
  const now = status === "running"
    ? `iteration ${context.iteration} attempt ${context.attempt} is running`
    : status === "triggered" || status === "continue"
    ? `the task is ${status}, its next run is iteration ${context.nextIteration} attempt ${context.nextAttempt}`
    : `the task is ${status}`
  return new CommandRejected({
    command: command._tag,
    status,
    reason: `iteration ${expect.iteration} attempt ${expect.attempt} is superseded (${now})`,
    superseded: true,
  })
}

const complete = (state: TaskState, result: IterationResult): ReadonlyArray<TaskEvent> => {
  const ctx = state.context
  switch (result._tag) {
    case "Done":
      return [trusted("TaskDone", { output: result.output, message: result.message })]
    case "Continue":
      return ctx.iteration < ctx.maxIterations
        ? [trusted("IterationContinued", { input: result.input, output: result.output, wakeAt: result.wakeAt })]
        : [trusted("MaxIterationsReached", { input: result.input, output: result.output })]
    case "Error":
      return [fail(result.error, "error", result.retryAt)]
    case "Aborted": {
      const aborted = trusted("TaskAborted", { message: result.message ?? ctx.abortMessage })
      return ctx.abortRequested ? [aborted] : [trusted("AbortRequested", { message: result.message }), aborted]
    }
  }
}

/** A continue without a wait, followed at once by the next iteration's start; any other outcome as it is. */
const startNext = (state: TaskState, events: ReadonlyArray<TaskEvent>, node: string | undefined): ReadonlyArray<TaskEvent> => {
  const [only] = events
  if (events.length !== 1 || only?._tag !== "IterationContinued" || only.wakeAt !== undefined) return events
  return [only, trusted("IterationStarted", { iteration: state.context.iteration + 1, attempt: 1, node })]
}

const abortedAfterRequest = (state: TaskState): TaskEvent => trusted("TaskAborted", { message: state.context.abortMessage })

const fail = (error: ErrorInfo, reason: FailureReason, retryAt: number | undefined): TaskEvent =>
  retryAt === undefined ? trusted("TaskFailed", { error, reason }) : trusted("RetryScheduled", { error, reason, wakeAt: retryAt })

/** The events that record `command` on a task in `state`, or why it cannot happen. */
export const decide = (state: TaskState, command: Command, options: DecideOptions = {}): ReadonlyArray<TaskEvent> | CommandRejected => {
  const decided = decideAll(state, command, options)
  return decided instanceof CommandRejected ? decided : withHooks(decided, options)
}

/**
 * An iteration the daemon died in: it runs again, unless it already crashed
 * the daemon `maxCrashRetries` times (a poison task: it ends `error`, reason
 * `crashedDaemon`) — and not after an abort request, which ends it aborted
 * when it would start again.
 */
const interrupt = (state: TaskState, reason: "crash" | "shutdown", options: DecideOptions): ReadonlyArray<TaskEvent> => {
  const { context } = state
  const interrupted = trusted("IterationInterrupted", { iteration: context.iteration, reason })
  const crashes = context.crashes ?? 0
  const allowed = options.maxCrashRetries ?? defaultMaxCrashRetries
  if (reason !== "crash" || context.abortRequested || crashes < allowed) return [interrupted]
  const runs = crashes + 1
  const message = `the daemon stopped while running iteration ${context.iteration} ${runs === 1 ? "once" : `${runs} times`}` +
    ` (killed, crashed or out of memory); a poison task is not run again (maxCrashRetries: ${allowed})`
  return [interrupted, trusted("TaskFailed", { reason: "crashedDaemon", error: { message, code: "CRASHED_DAEMON" } })]
}

const decideAll = (state: TaskState, command: Command, options: DecideOptions): ReadonlyArray<TaskEvent> | CommandRejected => {
  const superseded = fenced(state, command)
  if (superseded !== undefined) return superseded
  const { status, context } = state
  const waiting = status === "triggered" || status === "continue"
  switch (command._tag) {
    case "Trigger": {
      if (status !== "untriggered") return reject(state, command, "the task already exists")
      const { _tag, start, node, ...fields } = command
      const triggered = trusted("TaskTriggered", fields)
      return start === true && fields.wakeAt === undefined ? [triggered, trusted("IterationStarted", { iteration: 1, attempt: 1, node })] : [triggered]
    }
    case "StartIteration":
      if (!waiting) return reject(state, command, "only a waiting task can start an iteration")
      // Interrupted after an abort request: the task ends aborted instead of running again.
      if (context.abortRequested) return [abortedAfterRequest(state)]
      return [trusted("IterationStarted", { iteration: context.nextIteration, attempt: context.nextAttempt, node: command.node })]
    case "Complete":
      if (status !== "running") return reject(state, command, "no iteration is running")
      // After an abort request, anything but done ends the task as aborted (no continue, no retry).
      if (context.abortRequested && command.result._tag !== "Done") return [abortedAfterRequest(state)]
      return command.startNext === true ? startNext(state, complete(state, command.result), command.node) : complete(state, command.result)
    case "Fail":
      if (status === "running") return context.abortRequested ? [abortedAfterRequest(state)] : [fail(command.error, command.reason, command.retryAt)]
      if (waiting && command.reason === "unknownDefinition") return [trusted("TaskFailed", { error: command.error, reason: command.reason })]
      return reject(state, command, "no iteration is running")
    case "Abort":
      if (waiting) return [trusted("AbortRequested", { message: command.message }), trusted("TaskAborted", { message: command.message })]
      if (status === "running") return context.abortRequested ? [] : [trusted("AbortRequested", { message: command.message })]
      return reject(state, command, isFinal(status) ? "the task has already finished" : "the task does not exist")
    case "ForceAbort":
      if (status !== "running" || !context.abortRequested) return reject(state, command, "no abort is pending on a running iteration")
      return [trusted("TaskAborted", { message: context.abortMessage, forced: true })]
    case "Interrupt":
      if (status !== "running") return reject(state, command, "no iteration is running")
      return interrupt(state, command.reason, options)
    case "HookResult":
      if (context.pendingHook !== command.hook) return reject(state, command, `${command.hook} is not due`)
      return [command.error ? trusted("HookFailed", { hook: command.hook, error: command.error }) : trusted("HookCompleted", { hook: command.hook })]
    case "Progress":
      if (status !== "running") return reject(state, command, "progress is reported only while running")
      return [trusted("ProgressUpdated", { progress: command.progress })]
    case "Delete":
      if (!isFinal(status)) return reject(state, command, "only a finished task can be deleted; abort it first")
      if (context.deleted === true) return reject(state, command, "the task is already deleted")
      return [trusted("TaskDeleted", {})]
    case "Log":
      if (status === "untriggered") return reject(state, command, "the task does not exist")
      return [trusted("TaskLogged", { level: command.level, message: command.message, data: command.data })]
  }
}
