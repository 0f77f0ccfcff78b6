/**
 * The task lifecycle as one XState v5 machine. Its events are the recorded
 * facts ({@link TaskEvent}); its context is everything a client shows about a
 * task. The machine has no actions but `assign` and never reads a clock: time
 * comes from the event envelope (`at`), so folding the same events always
 * gives the same state.
 *
 * Lifecycle (DESIGN section 4):
 * - `untriggered` accepts only TaskTriggered and moves to `triggered`.
 * - `triggered` and `continue` wait for the next iteration: IterationStarted
 *   (with exactly the expected iteration and attempt) moves to `running`;
 *   AbortRequested then TaskAborted ends in `aborted`; TaskFailed ends in
 *   `error` when the definition is gone or the iteration crashed the daemon
 *   too often (`crashes` counts the crash interruptions of the current
 *   iteration; IterationContinued starts the count again).
 * - `running` ends the iteration: IterationContinued (below maxIterations) or
 *   RetryScheduled or IterationInterrupted go back to `continue`;
 *   MaxIterationsReached, TaskDone, TaskFailed, TaskAborted are final.
 *   `node` (the cluster node running the iteration, from IterationStarted)
 *   is set only while `running`: every way out of it clears the field.
 * - Final states (`done`, `error`, `aborted`, `maxIterations`, tagged "final")
 *   only accept the outcome of the hook that is due (HookCompleted/HookFailed),
 *   log lines, and TaskDeleted (once; the status stays, `deleted` is set).
 */
import { Schema } from "effect"
import { assign, setup } from "xstate"
import { DefinitionId, TaskId } from "./Ids.ts"
import { ErrorInfo, type FinalEventType, FailureReason, HookName, Json, Progress, type TaskEvent } from "./TaskEvent.ts"

/** Every state of the machine; the last four are final. */
export const Status = Schema.Literals(["untriggered", "triggered", "running", "continue", "done", "error", "aborted", "maxIterations"])
export type Status = typeof Status.Type

/** Statuses a task can be in once triggered (what clients filter by). */
export const TaskStatus = Schema.Literals(["triggered", "running", "continue", "done", "error", "aborted", "maxIterations"])
export type TaskStatus = typeof TaskStatus.Type

/** Every task status, in lifecycle order. */
export const taskStatuses: ReadonlyArray<TaskStatus> = TaskStatus.literals

/** The final statuses: nothing runs after them but the due hook. */
export const finalStatuses: ReadonlyArray<TaskStatus> = ["done", "error", "aborted", "maxIterations"]

/** True for a final status. */
export const isFinal = (status: Status): boolean => (finalStatuses as ReadonlyArray<Status>).includes(status)

/** The machine's context: a task as clients see it. Plain JSON, stored as the task projection and sent to clients. */
export const TaskContext = Schema.Struct({
  taskId: TaskId,
  definitionId: DefinitionId,
  name: Schema.optional(Schema.String),
  parentId: Schema.optional(TaskId),
  idempotencyKey: Schema.optional(Schema.String),
  forkedFrom: Schema.optional(Schema.Struct({ taskId: TaskId, iteration: Schema.Number })),
  input: Json,
  output: Schema.optional(Json),
  message: Schema.optional(Schema.String),
  error: Schema.optional(ErrorInfo),
  failureReason: Schema.optional(FailureReason),
  maxIterations: Schema.Number,
  /** The last iteration that started (0 before the first). */
  iteration: Schema.Number,
  /** The attempt of that iteration (re-runs after a retry or an interruption count up). */
  attempt: Schema.Number,
  /** How often the daemon died while running the current iteration (IterationInterrupted{crash}). */
  crashes: Schema.optional(Schema.Number),
  /** The node running the current iteration (cluster mode); unset while not running. */
  node: Schema.optional(Schema.String),
  /** What the next IterationStarted must carry. */
  nextIteration: Schema.Number,
  nextAttempt: Schema.Number,
  /** Not before this time (ms) does the next iteration start. */
  wakeAt: Schema.optional(Schema.Number),
  progress: Schema.optional(Progress),
  abortRequested: Schema.Boolean,
  abortMessage: Schema.optional(Schema.String),
  /** The hook due after the final event that has not completed or failed yet. */
  pendingHook: Schema.optional(HookName),
  hookFailed: Schema.optional(Schema.Boolean),
  logCount: Schema.Number,
  /** Deleted by a user: listed nowhere, its events kept. */
  deleted: Schema.optional(Schema.Boolean),
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
  startedAt: Schema.optional(Schema.Number),
  finishedAt: Schema.optional(Schema.Number),
  /** Stream version of the last event folded in. */
  version: Schema.Number,
  /** Global position of the last event folded in. */
  position: Schema.Number,
})
export type TaskContext = typeof TaskContext.Type

/** Every context key in a fixed order: stored projections are written in this order, without undefined keys. */
export const contextKeys = [
  "taskId", "definitionId", "name", "parentId", "idempotencyKey", "forkedFrom", "input", "output", "message",
  "error", "failureReason", "maxIterations", "iteration", "attempt", "crashes", "node", "nextIteration", "nextAttempt", "wakeAt",
  "progress", "abortRequested", "abortMessage", "pendingHook", "hookFailed", "logCount", "deleted", "createdAt", "updatedAt",
  "startedAt", "finishedAt", "version", "position",
] as const satisfies ReadonlyArray<keyof TaskContext>

/** Compile-time proof that {@link contextKeys} names every context key. */
export type ContextKeysComplete = Exclude<keyof TaskContext, (typeof contextKeys)[number]> extends never ? true : never
const contextKeysComplete: ContextKeysComplete = true
void contextKeysComplete

/** The context with keys in {@link contextKeys} order and unset fields left out, so equal states serialize to equal bytes. */
export const canonicalContext = (context: TaskContext): TaskContext => {
  const out: Record<string, unknown> = {}
  for (const key of contextKeys) {
    const value = context[key]
    if (value !== undefined) out[key] = value
  }
  return out as unknown as TaskContext
}

/** A machine event: one recorded fact plus the envelope fields the context keeps. */
export interface MachineEvent {
  readonly type: TaskEvent["_tag"]
  readonly event: TaskEvent
  readonly at: number
  readonly version: number
  readonly position: number
}

type EventOf<T extends TaskEvent["_tag"]> = Extract<TaskEvent, { _tag: T }>
const body = <T extends TaskEvent["_tag"]>(e: MachineEvent): EventOf<T> => e.event as EventOf<T>

/**
 * The context before the trigger (exported for folds). Every key is present (unset ones as
 * `undefined`) in {@link contextKeys} order, so every context the machine
 * builds from it has one shape: spreads stay fast and monomorphic.
 */
export const emptyContext: TaskContext = {
  taskId: "" as TaskId,
  definitionId: "" as DefinitionId,
  name: undefined,
  parentId: undefined,
  idempotencyKey: undefined,
  forkedFrom: undefined,
  input: null,
  output: undefined,
  message: undefined,
  error: undefined,
  failureReason: undefined,
  maxIterations: 0,
  iteration: 0,
  attempt: 0,
  crashes: undefined,
  node: undefined,
  nextIteration: 1,
  nextAttempt: 1,
  wakeAt: undefined,
  progress: undefined,
  abortRequested: false,
  abortMessage: undefined,
  pendingHook: undefined,
  hookFailed: undefined,
  logCount: 0,
  deleted: undefined,
  createdAt: 0,
  updatedAt: 0,
  startedAt: undefined,
  finishedAt: undefined,
  version: 0,
  position: 0,
}

/**
 * Every action is an `assign` returning only the fields it changes (XState
 * merges them into the context). A field is cleared by setting it to
 * `undefined`; {@link canonicalContext} leaves such fields out.
 *
 * The returned objects are built as one literal and then written to, never as
 * `{ ...fresh(), more: x }`: in V8 (Node 20) spreading a freshly built object
 * into a literal that has more properties takes a slow path (several µs a
 * call), and the fold runs one action per event.
 */
const stamp = <A extends object>(e: MachineEvent, fields: A): A & Pick<TaskContext, "version" | "position" | "updatedAt"> => {
  const stamped = fields as A & { version: number; position: number; updatedAt: number }
  stamped.version = e.version
  stamped.position = e.position
  stamped.updatedAt = e.at
  return stamped
}

const finish = <A extends object>(e: MachineEvent, hook: HookName, fields: A) => {
  const finished = fields as A & { wakeAt: number | undefined; node: string | undefined; pendingHook: HookName | undefined; finishedAt: number }
  finished.wakeAt = undefined
  finished.node = undefined
  finished.pendingHook = body<FinalEventType>(e).hookDue === false ? undefined : hook
  finished.finishedAt = e.at
  return stamp(e, finished)
}

/** `fields` with `output` set when the event carries one (an absent output leaves the context's as it is). */
const withOutput = <A extends object>(fields: A, output: unknown): A & { output?: unknown } => {
  if (output !== undefined) (fields as A & { output?: unknown }).output = output
  return fields
}

export const taskMachine = setup({
  types: {} as { context: TaskContext; events: MachineEvent },
  guards: {
    expectedIteration: ({ context, event }) => {
      const started = body<"IterationStarted">(event)
      return started.iteration === context.nextIteration && started.attempt === context.nextAttempt
    },
    belowMaxIterations: ({ context }) => context.iteration < context.maxIterations,
    atMaxIterations: ({ context }) => context.iteration >= context.maxIterations,
    abortRequested: ({ context }) => context.abortRequested,
    hookDue: ({ context, event }) => context.pendingHook === body<"HookCompleted" | "HookFailed">(event).hook,
    failsWhileWaiting: ({ event }) => {
      const reason = body<"TaskFailed">(event).reason
      return reason === "unknownDefinition" || reason === "crashedDaemon"
    },
    notDeleted: ({ context }) => context.deleted !== true,
    sameIteration: ({ context, event }) => body<"IterationInterrupted">(event).iteration === context.iteration,
  },
  actions: {
    triggered: assign(({ event }) => {
      const e = body<"TaskTriggered">(event)
      return stamp(event, {
        ...emptyContext,
        taskId: e.taskId,
        definitionId: e.definitionId,
        name: e.name,
        parentId: e.parentId,
        idempotencyKey: e.idempotencyKey,
        forkedFrom: e.forkedFrom,
        input: e.input,
        maxIterations: e.maxIterations,
        wakeAt: e.wakeAt,
        createdAt: event.at,
      })
    }),
    started: assign(({ context, event }) => {
      const e = body<"IterationStarted">(event)
      return stamp(event, { wakeAt: undefined, iteration: e.iteration, attempt: e.attempt, node: e.node, startedAt: context.startedAt ?? event.at })
    }),
    continued: assign(({ context, event }) => {
      const e = body<"IterationContinued">(event)
      const fields = { wakeAt: e.wakeAt, input: e.input, crashes: undefined, node: undefined, nextIteration: context.iteration + 1, nextAttempt: 1 }
      return stamp(event, withOutput(fields, e.output))
    }),
    maxIterationsReached: assign(({ event }) => {
      const e = body<"MaxIterationsReached">(event)
      return finish(event, "onMaxIterations", withOutput({ input: e.input }, e.output))
    }),
    done: assign(({ event }) => {
      const e = body<"TaskDone">(event)
      return finish(event, "onDone", withOutput({ message: e.message }, e.output))
    }),
    failed: assign(({ event }) => {
      const e = body<"TaskFailed">(event)
      return finish(event, "onError", { error: e.error, failureReason: e.reason })
    }),
    retryScheduled: assign(({ context, event }) => {
      const e = body<"RetryScheduled">(event)
      return stamp(event, {
        error: e.error,
        failureReason: e.reason,
        wakeAt: e.wakeAt,
        node: undefined,
        nextIteration: context.iteration,
        nextAttempt: context.attempt + 1,
      })
    }),
    interrupted: assign(({ context, event }) => {
      const fields: { node: undefined; nextIteration: number; nextAttempt: number; crashes?: number } = {
        node: undefined,
        nextIteration: context.iteration,
        nextAttempt: context.attempt + 1,
      }
      if (body<"IterationInterrupted">(event).reason === "crash") fields.crashes = (context.crashes ?? 0) + 1
      return stamp(event, fields)
    }),
    abortRequested: assign(({ context, event }) =>
      stamp(event, { abortRequested: true, abortMessage: body<"AbortRequested">(event).message ?? context.abortMessage })
    ),
    aborted: assign(({ event }) => finish(event, "onAbort", { message: body<"TaskAborted">(event).message })),
    hookCompleted: assign(({ event }) => stamp(event, { pendingHook: undefined })),
    hookFailed: assign(({ event }) => stamp(event, { pendingHook: undefined, hookFailed: true })),
    progress: assign(({ event }) => stamp(event, { progress: body<"ProgressUpdated">(event).progress })),
    logged: assign(({ context, event }) => stamp(event, { logCount: context.logCount + 1 })),
    deleted: assign(({ event }) => stamp(event, { deleted: true })),
  },
}).createMachine({
  id: "task",
  initial: "untriggered",
  context: emptyContext,
  states: {
    untriggered: {
      on: { TaskTriggered: { target: "triggered", actions: "triggered" } },
    },
    triggered: { on: waitingStateEvents() },
    running: {
      on: {
        IterationContinued: { guard: "belowMaxIterations", target: "continue", actions: "continued" },
        MaxIterationsReached: { guard: "atMaxIterations", target: "maxIterations", actions: "maxIterationsReached" },
        TaskDone: { target: "done", actions: "done" },
        TaskFailed: { target: "error", actions: "failed" },
        RetryScheduled: { target: "continue", actions: "retryScheduled" },
        IterationInterrupted: { guard: "sameIteration", target: "continue", actions: "interrupted" },
        AbortRequested: { actions: "abortRequested" },
        TaskAborted: { guard: "abortRequested", target: "aborted", actions: "aborted" },
        ProgressUpdated: { actions: "progress" },
        TaskLogged: { actions: "logged" },
      },
    },
    continue: { on: waitingStateEvents() },
    done: { tags: ["final"], on: finalStateEvents() },
    error: { tags: ["final"], on: finalStateEvents() },
    aborted: { tags: ["final"], on: finalStateEvents() },
    maxIterations: { tags: ["final"], on: finalStateEvents() },
  },
})

/** What a task waiting for its next iteration (`triggered`, `continue`) accepts. */
function waitingStateEvents() {
  return {
    IterationStarted: { guard: "expectedIteration", target: "running", actions: "started" },
    AbortRequested: { actions: "abortRequested" },
    TaskAborted: { guard: "abortRequested", target: "aborted", actions: "aborted" },
    TaskFailed: { guard: "failsWhileWaiting", target: "error", actions: "failed" },
    TaskLogged: { actions: "logged" },
  } as const
}

/** What a finished task accepts: its due hook's outcome, log lines, deletion. */
function finalStateEvents() {
  return {
    HookCompleted: { guard: "hookDue", actions: "hookCompleted" },
    HookFailed: { guard: "hookDue", actions: "hookFailed" },
    TaskLogged: { actions: "logged" },
    TaskDeleted: { guard: "notDeleted", actions: "deleted" },
  } as const
}

/** The machine's type, for folds and clients. */
export type TaskMachine = typeof taskMachine
