/**
 * The facts Tasklane records about a task, as Schema classes in one tagged
 * union. Every event is stored inside an {@link EventEnvelope} whose `type` is
 * the event's tag and whose `data` is the Schema-encoded event body.
 *
 * Versioning: each event type has a schema version (`v` in the envelope). A
 * new field is added as optional and keeps the version; an incompatible
 * change bumps the version and adds a migration in `upcast` so that old
 * versions decode forever.
 */
import { Option, Schema } from "effect"
import { DefinitionId, EventId, TaskId } from "./Ids.ts"
import { compileBodies } from "./internal/EventJson.ts"
import { ErrorInfo, Progress } from "./TaskShapes.ts"

/** A JSON value as stored (input, output, log data). */
export const Json = Schema.Unknown

/** Error details and progress: the shapes the authoring API speaks too (see `TaskShapes`). */
export { ErrorInfo, Progress }

/** Lifecycle hooks that run after a final event and are recorded as completed or failed. */
export const HookName = Schema.Literals(["onDone", "onError", "onAbort", "onMaxIterations"])
export type HookName = typeof HookName.Type

/**
 * Why an iteration (or a task) failed: the task said so (`error`), it threw
 * (`thrown`), it ran past its hard timeout (`timeout`), it answered garbage
 * (`invalidResult`), its definition is not loaded (`unknownDefinition`), its
 * code raised an unhandled rejection or uncaught exception outside `run()`'s
 * own promise (`uncaught`), the worker thread running it died — out of
 * memory, `process.exit()`, a fatal error (`workerDied`) — or the daemon died
 * while running it more often than `maxCrashRetries` allows (`crashedDaemon`).
 */
export const FailureReason = Schema.Literals([
  "error",
  "thrown",
  "timeout",
  "invalidResult",
  "unknownDefinition",
  "uncaught",
  "workerDied",
  "crashedDaemon",
])
export type FailureReason = typeof FailureReason.Type

/** A trigger was accepted: input decoded, onBeforeTrigger passed. Opens the stream. */
export class TaskTriggered extends Schema.TaggedClass<TaskTriggered>()("TaskTriggered", {
  taskId: TaskId,
  definitionId: DefinitionId,
  name: Schema.optional(Schema.String),
  input: Json,
  maxIterations: Schema.Number,
  parentId: Schema.optional(TaskId),
  idempotencyKey: Schema.optional(Schema.String),
  /** Do not start before this time (ms since epoch): a delayed trigger. */
  wakeAt: Schema.optional(Schema.Number),
  /** The task and iteration this one was forked from (replay "fork from here"). */
  forkedFrom: Schema.optional(Schema.Struct({ taskId: TaskId, iteration: Schema.Number })),
}) {}

/** The runner started an iteration (attempt > 1 re-runs the same iteration). */
export class IterationStarted extends Schema.TaggedClass<IterationStarted>()("IterationStarted", {
  iteration: Schema.Number,
  attempt: Schema.Number,
  /** The cluster node that started it (DESIGN §8); absent on a daemon that runs alone. */
  node: Schema.optional(Schema.String),
}) {}

/** run() answered continue below maxIterations: the next iteration gets `input`, not before `wakeAt`. */
export class IterationContinued extends Schema.TaggedClass<IterationContinued>()("IterationContinued", {
  input: Json,
  output: Schema.optional(Json),
  wakeAt: Schema.optional(Schema.Number),
}) {}

/** run() answered continue on the last allowed iteration. Final. */
export class MaxIterationsReached extends Schema.TaggedClass<MaxIterationsReached>()("MaxIterationsReached", {
  input: Json,
  output: Schema.optional(Json),
  /** False when the definition has no hook for this outcome (nothing is due). */
  hookDue: Schema.optional(Schema.Boolean),
}) {}

/** run() answered done. Final. */
export class TaskDone extends Schema.TaggedClass<TaskDone>()("TaskDone", {
  output: Schema.optional(Json),
  message: Schema.optional(Schema.String),
  /** False when the definition has no hook for this outcome (nothing is due). */
  hookDue: Schema.optional(Schema.Boolean),
}) {}

/** run() answered error, threw, timed out or returned garbage, and no retry is left. Final. */
export class TaskFailed extends Schema.TaggedClass<TaskFailed>()("TaskFailed", {
  error: ErrorInfo,
  reason: FailureReason,
  /** False when the definition has no hook for this outcome (nothing is due). */
  hookDue: Schema.optional(Schema.Boolean),
}) {}

/** The iteration failed but the retry policy allows another attempt of the same iteration. */
export class RetryScheduled extends Schema.TaggedClass<RetryScheduled>()("RetryScheduled", {
  error: ErrorInfo,
  reason: FailureReason,
  wakeAt: Schema.Number,
}) {}

/** Somebody asked to abort; while running, `isAborted()` turns true. */
export class AbortRequested extends Schema.TaggedClass<AbortRequested>()("AbortRequested", {
  message: Schema.optional(Schema.String),
}) {}

/** The task is aborted. `forced` when the grace period ran out. Final. */
export class TaskAborted extends Schema.TaggedClass<TaskAborted>()("TaskAborted", {
  message: Schema.optional(Schema.String),
  forced: Schema.optional(Schema.Boolean),
  /** False when the definition has no hook for this outcome (nothing is due). */
  hookDue: Schema.optional(Schema.Boolean),
}) {}

/** A running iteration did not finish: the daemon died or stopped. It runs again. */
export class IterationInterrupted extends Schema.TaggedClass<IterationInterrupted>()("IterationInterrupted", {
  iteration: Schema.Number,
  reason: Schema.Literals(["crash", "shutdown"]),
}) {}

/** A hook due after a final event finished. */
export class HookCompleted extends Schema.TaggedClass<HookCompleted>()("HookCompleted", {
  hook: HookName,
}) {}

/** A hook due after a final event threw. The outcome is unchanged. */
export class HookFailed extends Schema.TaggedClass<HookFailed>()("HookFailed", {
  hook: HookName,
  error: ErrorInfo,
}) {}

/** `controller.state.setProgress`, stored at most about once per second. */
export class ProgressUpdated extends Schema.TaggedClass<ProgressUpdated>()("ProgressUpdated", {
  progress: Progress,
}) {}

/** A log line written through `controller.logger` (stored only when `databaseLogs`). */
export class TaskLogged extends Schema.TaggedClass<TaskLogged>()("TaskLogged", {
  level: Schema.Literals(["info", "warn", "error"]),
  message: Schema.String,
  data: Schema.optional(Json),
}) {}

/** The task was deleted by a user: projections drop it; its events stay in the log. */
export class TaskDeleted extends Schema.TaggedClass<TaskDeleted>()("TaskDeleted", {}) {}

/** Every fact about a task. */
export const TaskEvent = Schema.Union([
  TaskTriggered,
  IterationStarted,
  IterationContinued,
  MaxIterationsReached,
  TaskDone,
  TaskFailed,
  RetryScheduled,
  AbortRequested,
  TaskAborted,
  IterationInterrupted,
  HookCompleted,
  HookFailed,
  ProgressUpdated,
  TaskLogged,
  TaskDeleted,
])
export type TaskEvent = typeof TaskEvent.Type

/** The tag of an event, also the envelope's `type`. */
export type EventType = TaskEvent["_tag"]

/** Every event type, in declaration order. */
export const eventTypes: ReadonlyArray<EventType> = TaskEvent.members.map((member) => member.identifier as EventType)

/** An event that ends a task (the task machine's final statuses: done, error, aborted, maxIterations). */
export type FinalEvent = TaskDone | TaskFailed | TaskAborted | MaxIterationsReached

/** The tag of a {@link FinalEvent}. */
export type FinalEventType = FinalEvent["_tag"]

/** The types of the events that end a task: the one list of them. */
export const finalTypes: ReadonlySet<EventType> = new Set<FinalEventType>(["TaskDone", "TaskFailed", "TaskAborted", "MaxIterationsReached"])

/** True for an event that ends a task. */
export const isFinal = (event: TaskEvent): event is FinalEvent => finalTypes.has(event._tag)

/** The events that end an iteration and, with it, the task or its turn: a continue, a retry, or a final event. */
export const outcomeTypes: ReadonlySet<EventType> = new Set<EventType>(["IterationContinued", "RetryScheduled", ...finalTypes])

/** Current schema version of every event type (the envelope's `v`). */
export const schemaVersion = 1

/** An event as appended by a writer, before the store gives it a position. */
export interface NewEvent {
  readonly id: EventId
  readonly at: number
  readonly event: TaskEvent
}

/**
 * An event as stored: the envelope of DESIGN section 5, its body (`data`)
 * still encoded. A plain struct, not a class: the History RPC carries
 * 100,000 of them and a class instance per envelope cost ten times the
 * decoding.
 */
export const EventEnvelope = Schema.Struct({
  id: EventId,
  stream: TaskId,
  version: Schema.Number,
  position: Schema.Number,
  type: Schema.String,
  at: Schema.Number,
  data: Json,
  v: Schema.Number,
})
export type EventEnvelope = typeof EventEnvelope.Type

/** A stored event with its body decoded. */
export interface RecordedEvent {
  readonly id: EventId
  readonly stream: TaskId
  readonly version: number
  readonly position: number
  readonly at: number
  readonly event: TaskEvent
}

/** A stored envelope whose body does not decode (unknown type, newer version, bad data). */
export class EventDecodeError extends Schema.TaggedError<EventDecodeError>()("EventDecodeError", {
  position: Schema.Number,
  type: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `event at position ${this.position} (${this.type}) does not decode: ${this.reason}`
  }
}

// Stored bodies are decoded as plain structs with the classes' fields: the same checks, without
// constructing a class instance per event (four times faster; opening a 100,000-event history
// decodes every one). A decoded body is a plain object of its
// class's shape (`_tag` included); nothing relies on its prototype. Encoding goes through the
// same plain union, so it accepts class instances and decoded bodies alike.
const TaskEventBody = Schema.Union(TaskEvent.members.map((member) => Schema.Struct(member.fields)))
const encodeEvent = Schema.encodeSync(TaskEventBody) as (event: TaskEvent) => { readonly _tag: string }
const decodeEvent = Schema.decodeUnknownSync(TaskEventBody) as (body: unknown) => TaskEvent
const decodeEnvelope = Schema.decodeUnknownSync(EventEnvelope)

/**
 * An event of `tag` built from values the daemon has checked already: the
 * plain object a stored body decodes to (see above), without the class
 * constructor's second parse of every field (DESIGN §7: what the daemon
 * built itself is not validated again). Fields that are undefined are left
 * out, as the constructor leaves them. The store still encodes every event
 * once, at append, and refuses one that does not encode.
 */
export const trusted = <T extends EventType>(tag: T, fields: Omit<Extract<TaskEvent, { readonly _tag: T }>, "_tag">): Extract<TaskEvent, { readonly _tag: T }> => {
  const event: Record<string, unknown> = { _tag: tag }
  for (const key in fields) {
    const value = (fields as Record<string, unknown>)[key]
    if (value !== undefined) event[key] = value
  }
  return event as unknown as Extract<TaskEvent, { readonly _tag: T }>
}

/** Migrates an older envelope body to the current schema version. Only v1 exists so far. */
const upcast = (_type: string, _v: number, data: unknown): unknown => data

/** Encodes a recorded event into its stored envelope shape (plain JSON). */
export const toEnvelope = (recorded: RecordedEvent): typeof EventEnvelope.Encoded => {
  const { _tag, ...data } = encodeEvent(recorded.event)
  return {
    id: recorded.id,
    stream: recorded.stream,
    version: recorded.version,
    position: recorded.position,
    type: _tag,
    at: recorded.at,
    data,
    v: schemaVersion,
  }
}

// The writer compiled from the bodies' schema (internal/EventJson.ts) checks and writes a body's
// data directly; what it does not take plainly goes through Schema's encode.
const writeData = compileBodies(TaskEventBody.members.map((member) => member.ast))

/** An event's envelope `type` and `data` JSON, encoded (checked) by its schema; throws when it does not encode. */
const encodeData = (event: TaskEvent): { readonly type: string; readonly data: string } => {
  const data = typeof event === "object" && event !== null ? writeData(event) : undefined
  if (data !== undefined) return { type: JSON.stringify(event._tag), data }
  const { _tag, ...rest } = encodeEvent(event)
  return { type: JSON.stringify(_tag), data: JSON.stringify(rest) }
}

/** A number as `JSON.stringify` writes it (non-finite numbers are `null`). */
const jsonNumber = (n: number): string => (Number.isFinite(n) ? String(n) : "null")

/**
 * The stored JSON of a recorded event: exactly the bytes of
 * `JSON.stringify(toEnvelope(recorded))` (a test keeps them equal), built
 * without the envelope object and the body copy that exist only to be
 * stringified. The body is encoded (checked) as in {@link toEnvelope}; an event
 * that does not encode throws.
 */
export const encodeEnvelope = (recorded: RecordedEvent): string => {
  const { type, data } = encodeData(recorded.event)
  return `{"id":${JSON.stringify(recorded.id)},"stream":${JSON.stringify(recorded.stream)},"version":${jsonNumber(recorded.version)},"position":${
    jsonNumber(recorded.position)
  },"type":${type},"at":${jsonNumber(recorded.at)},"data":${data},"v":${schemaVersion}}`
}

// A current-version envelope is checked in one pass, by a union keyed on `type` whose members
// hold each event's fields under `data` (a third faster than the two steps below; `type` must stay
// the union's only literal field, or Schema's candidate index takes a much slower path). Whatever
// it refuses, and an older version to upcast, takes the two steps, which say exactly what is wrong.
const CurrentEnvelope = Schema.Union(TaskEvent.members.map((member) => {
  const { _tag, ...body } = member.fields
  return Schema.Struct({ ...EventEnvelope.fields, type: _tag, data: Schema.Struct(body) })
}))
const decodeCurrent = Schema.decodeUnknownOption(CurrentEnvelope)

/** Decodes a stored envelope (plain JSON) into a recorded event, or fails with {@link EventDecodeError}. */
export const fromEnvelope = (stored: unknown): RecordedEvent => {
  const current = decodeCurrent(stored)
  if (Option.isNone(current) || current.value.v !== schemaVersion) return fromAnyEnvelope(stored)
  return recordedOf(current.value, { _tag: current.value.type, ...current.value.data } as TaskEvent)
}

const recordedOf = (envelope: Omit<RecordedEvent, "event">, event: TaskEvent): RecordedEvent => ({
  id: envelope.id,
  stream: envelope.stream,
  version: envelope.version,
  position: envelope.position,
  at: envelope.at,
  event,
})

/** The two-step decode: the envelope, its version (upcast when older), then its body. */
const fromAnyEnvelope = (stored: unknown): RecordedEvent => {
  let envelope: typeof EventEnvelope.Type
  try {
    envelope = decodeEnvelope(stored)
  } catch (cause) {
    const position = typeof (stored as { position?: unknown })?.position === "number" ? (stored as { position: number }).position : -1
    throw new EventDecodeError({ position, type: "envelope", reason: String(cause) })
  }
  if (envelope.v > schemaVersion) {
    throw new EventDecodeError({
      position: envelope.position,
      type: envelope.type,
      reason: `schema version ${envelope.v} is newer than this build understands (${schemaVersion})`,
    })
  }
  try {
    const data = upcast(envelope.type, envelope.v, envelope.data) as Record<string, unknown>
    return recordedOf(envelope, decodeEvent({ ...data, _tag: envelope.type }))
  } catch (cause) {
    throw new EventDecodeError({ position: envelope.position, type: envelope.type, reason: String(cause) })
  }
}
