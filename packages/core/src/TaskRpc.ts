/**
 * The RPC contract between the daemon and every client (CLI, desktop main
 * process, browser, tests): one Effect RPC group, NDJSON over the daemon's
 * unix socket and the same group over WebSocket for the web UI. Every
 * payload, success and error is a Schema, so both ends decode what crosses
 * the wire; every error is typed, never a dropped connection.
 */
import { Schema } from "effect"
import { Rpc, RpcGroup } from "effect/rpc"
import { PositionPruned } from "./StoreErrors.ts"
import { PrunableStatus } from "./StoreRetention.ts"
import { TaskId } from "./Ids.ts"
import { CatchUp, Overlap, ScheduleInfo, UnknownSchedule } from "./Schedule.ts"
import { ScheduleEvent } from "./ScheduleEvent.ts"
import { TaskState } from "./Replay.ts"
import { StoreHealth } from "./StoreHealth.ts"
import { EventEnvelope } from "./TaskEvent.ts"
import { TaskStatus } from "./TaskMachine.ts"
import { InputIssue, InvalidInput, renderPath } from "./TaskShapes.ts"

/** Longest task name a Trigger accepts, in characters (`String.length`); a longer one fails with {@link InvalidRequest}. */
export const maxNameLength = 200

/** Most triggers one TriggerMany request may carry; a longer list fails with {@link TooManyTriggers} (nothing is stored). */
export const maxTriggersPerRequest = 10_000

/** Deepest nesting accepted in task input; deeper input fails with {@link InvalidInput} (JSON encoding recurses, so it would overflow the stack). */
export const maxInputDepth = 100

/**
 * Largest request the daemon reads on its unix socket: one NDJSON line, in
 * bytes (a Trigger's input, name and key together). A longer line closes the
 * connection, so clients check it before sending; the web mode's WebSocket
 * frames have the same limit.
 */
export const maxRequestBytes = 16 * 1024 * 1024

/** Whether a JSON value nests deeper than `limit` levels (iterative: safe to ask of any depth). */
export const nestsDeeperThan = (value: unknown, limit: number): boolean => {
  const stack: Array<readonly [unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!
    if (typeof current !== "object" || current === null) continue
    if (depth >= limit) return true
    for (const child of Object.values(current)) stack.push([child, depth + 1])
  }
  return false
}

/** The envelopes of a History answer (not yet checked: decode each with `TaskEvent.fromEnvelope`). */
export const parseHistory = (json: string): ReadonlyArray<EventEnvelope> => JSON.parse(json)

/** A task definition as clients see it. */
export class DefinitionInfo extends Schema.Class<DefinitionInfo>("DefinitionInfo")({
  id: Schema.String,
  title: Schema.String,
  description: Schema.optional(Schema.String),
  maxIterations: Schema.Number,
  databaseLogs: Schema.Boolean,
  isPrivate: Schema.Boolean,
  timeoutSeconds: Schema.Number,
  closeToTimeoutSeconds: Schema.Number,
  /** The input schema as a JSON Schema document (absent: the task takes any JSON input). */
  inputSchema: Schema.optional(Schema.Unknown),
}) {}

/** Refused input and its field paths: the shapes the authoring API speaks too (see `TaskShapes`). */
export { InputIssue, InvalidInput, renderPath }

/** A request field breaks a limit of the contract (a task name longer than {@link maxNameLength}); nothing was stored. */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  field: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `invalid ${this.field}: ${this.reason}`
  }
}

/** No definition with this id is loaded (or it is private and the caller may not trigger it). */
export class UnknownDefinition extends Schema.TaggedError<UnknownDefinition>()("UnknownDefinition", {
  definitionId: Schema.String,
}) {
  override get message() {
    return `no task definition with id "${this.definitionId}"`
  }
}

/** No task with this id. */
export class UnknownTask extends Schema.TaggedError<UnknownTask>()("UnknownTask", {
  taskId: Schema.String,
}) {
  override get message() {
    return `no task with id "${this.taskId}"`
  }
}

/** The definition's onBeforeTrigger refused the trigger; nothing was stored. */
export class TriggerRefused extends Schema.TaggedError<TriggerRefused>()("TriggerRefused", {
  definitionId: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `${this.definitionId} refused the trigger: ${this.reason}`
  }
}

/** The request is valid but not possible in the task's state (abort a finished task, delete a running one). */
export class NotAllowed extends Schema.TaggedError<NotAllowed>()("NotAllowed", {
  taskId: Schema.String,
  status: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `task ${this.taskId} is ${this.status}: ${this.reason}`
  }
}

/** A TriggerMany request carried more than {@link maxTriggersPerRequest} triggers; nothing was stored. */
export class TooManyTriggers extends Schema.TaggedError<TooManyTriggers>()("TooManyTriggers", {
  count: Schema.Number,
  max: Schema.Number,
}) {
  override get message() {
    return `a TriggerMany request may carry at most ${this.max} triggers; this one carried ${this.count} (send them in chunks)`
  }
}

/** The daemon failed to do what was asked (storage failure); nothing partial was stored. */
export class DaemonError extends Schema.TaggedError<DaemonError>()("DaemonError", {
  reason: Schema.String,
}) {
  override get message() {
    return `daemon error: ${this.reason}`
  }
}

/** A log line of a task, from its TaskLogged events. */
export class LogLine extends Schema.Class<LogLine>("LogLine")({
  taskId: TaskId,
  version: Schema.Number,
  at: Schema.Number,
  level: Schema.Literals(["info", "warn", "error"]),
  message: Schema.String,
  data: Schema.optional(Schema.Unknown),
}) {}

/** A page of tasks, newest first. */
export class TaskPage extends Schema.Class<TaskPage>("TaskPage")({
  tasks: Schema.Array(TaskState),
  cursor: Schema.optional(Schema.String),
}) {}

/** One daemon of a cluster, as the daemon answering Info sees it (its node row in the shared database). */
export class ClusterNode extends Schema.Class<ClusterNode>("ClusterNode")({
  id: Schema.String,
  host: Schema.String,
  pid: Schema.Number,
  /** Counts up each time a daemon registers under this id (a restart, or a rejoin after being fenced). */
  epoch: Schema.Number,
  /** When this epoch registered, ms since the epoch (the database's clock). */
  startedAt: Schema.Number,
  /** Its last heartbeat, ms since the epoch (the database's clock). */
  heartbeatAt: Schema.Number,
  /**
   * How long ago that heartbeat was when the answering daemon read it, in ms.
   * Reckoned by the daemon, so a client whose clock differs shows the right age.
   */
  heartbeatAgeMs: Schema.Number,
  /** Iterations it ran at its last heartbeat. */
  running: Schema.Number,
  /** Heartbeating within the lease and not fenced; false: lost. */
  live: Schema.Boolean,
}) {}

/** The cluster the answering daemon is a node of. */
export const ClusterInfo = Schema.Struct({
  /** The answering daemon's node id. */
  nodeId: Schema.String,
  /** The cluster's nodes, live first (empty when the daemon could not read them). */
  nodes: Schema.Array(ClusterNode),
})

/** The cluster the answering daemon is a node of. */
export type ClusterInfo = typeof ClusterInfo.Type

/** Which kind of event store a daemon runs on. */
export const StoreKind = Schema.Literals(["leveldb", "postgres", "memory"])

/** Which kind of event store a daemon runs on. */
export type StoreKind = typeof StoreKind.Type

/** What the daemon says about itself. */
export class DaemonInfo extends Schema.Class<DaemonInfo>("DaemonInfo")({
  version: Schema.String,
  pid: Schema.Number,
  dataDir: Schema.String,
  startedAt: Schema.Number,
  head: Schema.Number,
  concurrency: Schema.Number,
  running: Schema.Number,
  queued: Schema.Number,
  counts: Schema.Record(Schema.String, Schema.Number),
  /** The event store's health: `degraded` while writes fail, damage found (optional: an older daemon does not send it). */
  store: Schema.optional(StoreHealth),
  /** The event store's retained range and size (optional: an older daemon does not send it). */
  retention: Schema.optional(Schema.Struct({
    /** The highest pruned position (0: nothing pruned); Subscribe from 1 up to it fails with PositionPruned. */
    prunedThrough: Schema.Number,
    /** The first position still in the log. */
    oldestRetained: Schema.Number,
    /** Bytes the store's directory takes on disk. */
    sizeOnDisk: Schema.optional(Schema.Number),
  })),
  /** Which event store the daemon runs on (optional: an older daemon does not send it). */
  storeKind: Schema.optional(StoreKind),
  /** Where that store is: the LevelDB directory, or the PostgreSQL URL without its password. */
  storeLocation: Schema.optional(Schema.String),
  /** Present when the daemon is a node of a cluster (PostgreSQL); absent when it runs alone or is older. */
  cluster: Schema.optional(ClusterInfo),
}) {}

/** What a Prune removed (or, with `dryRun`, would remove). */
export class PruneReport extends Schema.Class<PruneReport>("PruneReport")({
  dryRun: Schema.Boolean,
  /** Tasks that finished before this time (ms since the epoch) were eligible. */
  before: Schema.Number,
  statuses: Schema.Array(PrunableStatus),
  tasks: Schema.Number,
  events: Schema.Number,
  /** Bytes of records deleted (keys and values; LevelDB's compaction gives back about this much). */
  bytes: Schema.Number,
  /** Finished tasks old enough that were kept: an unfinished descendant or a hook still due. */
  kept: Schema.Number,
  /** The first removed task ids (at most 1,000). */
  taskIds: Schema.Array(TaskId),
  /** Where each removed task's history was written first (`<dir>/<taskId>.json`). */
  exportedTo: Schema.optional(Schema.String),
  prunedThrough: Schema.Number,
  oldestRetained: Schema.Number,
  sizeBefore: Schema.optional(Schema.Number),
  sizeAfter: Schema.optional(Schema.Number),
  millis: Schema.Number,
}) {}

const TaskErrors = Schema.Union([UnknownTask, DaemonError])

/** What one trigger asks for: Trigger's payload, and each item of TriggerMany. */
export const TriggerRequest = Schema.Struct({
  definitionId: Schema.String,
  input: Schema.Unknown,
  name: Schema.optional(Schema.String),
  delaySeconds: Schema.optional(Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))),
  idempotencyKey: Schema.optional(Schema.String),
  parentId: Schema.optional(TaskId),
  /** The task and iteration this one is forked from (a replay's "fork from here"). */
  forkedFrom: Schema.optional(Schema.Struct({ taskId: TaskId, iteration: Schema.Number })),
})
export type TriggerRequest = typeof TriggerRequest.Type

/** Why one trigger was refused (Trigger's errors; for TriggerMany, per item). */
export const TriggerError = Schema.Union([InvalidInput, InvalidRequest, UnknownDefinition, TriggerRefused, UnknownTask, NotAllowed, DaemonError])
export type TriggerError = typeof TriggerError.Type

/** One TriggerMany item that was stored (or, by its idempotency key, found already stored: `existing`). */
export class Triggered extends Schema.TaggedClass<Triggered>()("Triggered", {
  taskId: TaskId,
  /** The task's stream version after the commit that stored it (2 when its first iteration started in that commit; an existing task: its version when found). */
  version: Schema.Number,
  existing: Schema.Boolean,
}) {}

/** One TriggerMany item that was refused; nothing was stored for it. */
export class TriggerItemRefused extends Schema.TaggedClass<TriggerItemRefused>()("TriggerItemRefused", {
  error: TriggerError,
}) {}

/** The outcome of one TriggerMany item, at the item's index. */
export const TriggerOutcome = Schema.Union([Triggered, TriggerItemRefused])
export type TriggerOutcome = typeof TriggerOutcome.Type

/** Every RPC the daemon serves. */
export class TaskRpcs extends RpcGroup.make(
  Rpc.make("Definitions", {
    payload: { includePrivate: Schema.optional(Schema.Boolean) },
    success: Schema.Array(DefinitionInfo),
  }),
  Rpc.make("Trigger", {
    payload: TriggerRequest,
    success: TaskState,
    error: TriggerError,
  }),
  /**
   * Many triggers in one request (at most {@link maxTriggersPerRequest}):
   * each item is checked exactly as Trigger checks it and answered in order
   * with `Triggered` or `TriggerItemRefused`; a refused item stores nothing
   * and does not stop the others. The valid items are appended together, so
   * the store commits them in a few group commits, not one sync each.
   */
  Rpc.make("TriggerMany", {
    payload: { triggers: Schema.Array(TriggerRequest) },
    success: Schema.Array(TriggerOutcome),
    error: Schema.Union([TooManyTriggers, DaemonError]),
  }),
  Rpc.make("ValidateInput", {
    payload: { definitionId: Schema.String, input: Schema.Unknown },
    error: Schema.Union([InvalidInput, UnknownDefinition]),
  }),
  Rpc.make("Abort", {
    payload: { taskId: TaskId, message: Schema.optional(Schema.String) },
    success: TaskState,
    error: Schema.Union([UnknownTask, NotAllowed, DaemonError]),
  }),
  Rpc.make("GetTask", { payload: { taskId: TaskId }, success: TaskState, error: TaskErrors }),
  Rpc.make("ListTasks", {
    payload: {
      status: Schema.optional(TaskStatus),
      definitionId: Schema.optional(Schema.String),
      parentId: Schema.optional(TaskId),
      /** Tasks forked from this task (scans the chosen index; combine with definitionId). */
      forkedFrom: Schema.optional(TaskId),
      /** Case-insensitive substring of the task's id, name or definition id. */
      search: Schema.optional(Schema.String),
      limit: Schema.optional(Schema.Number.check(Schema.isBetween({ minimum: 1, maximum: 1000 }))),
      cursor: Schema.optional(Schema.String),
    },
    success: TaskPage,
    error: DaemonError,
  }),
  /**
   * A task's stored events from `fromVersion`, at most `limit`: a JSON array
   * of the stored envelopes, sent verbatim (read it with `parseHistory`, then
   * decode each with `TaskEvent.fromEnvelope`). A bulk answer: parsing,
   * checking and re-encoding 100,000 envelopes on the daemon and checking
   * them again in the client cost more than everything else together.
   */
  Rpc.make("History", {
    payload: {
      taskId: TaskId,
      fromVersion: Schema.optional(Schema.Number),
      /** At most this many events (a page; ask again from the next version). Default: all. */
      limit: Schema.optional(Schema.Number.check(Schema.isBetween({ minimum: 1, maximum: 100_000 }))),
    },
    success: Schema.String,
    error: TaskErrors,
  }),
  Rpc.make("Logs", {
    payload: { taskId: TaskId, follow: Schema.optional(Schema.Boolean) },
    success: LogLine,
    error: TaskErrors,
    stream: true,
  }),
  Rpc.make("Subscribe", {
    payload: {
      fromPosition: Schema.optional(Schema.Number),
      /** Only events of these types (e.g. the final ones); absent: every event. Filtered on the daemon, so the rest is never encoded or sent. */
      types: Schema.optional(Schema.Array(Schema.String)),
    },
    success: EventEnvelope,
    /** PositionPruned: `fromPosition` is at or below the pruned watermark (0 or absent: everything retained). */
    error: Schema.Union([PositionPruned, DaemonError]),
    stream: true,
  }),
  /**
   * Removes finished tasks older than `olderThanMs` (their events, summary,
   * indexes, idempotency key) and compacts the store; `dryRun` only counts.
   * With `exportTo` (an absolute directory, created if missing) each task's
   * history is first written there in the history file format. Running and
   * waiting tasks, tasks with a due hook and tasks with an unfinished
   * descendant are never removed.
   */
  Rpc.make("Prune", {
    payload: {
      olderThanMs: Schema.Number.check(Schema.isGreaterThanOrEqualTo(0)),
      statuses: Schema.optional(Schema.Array(PrunableStatus)),
      dryRun: Schema.optional(Schema.Boolean),
      exportTo: Schema.optional(Schema.String),
    },
    success: PruneReport,
    error: Schema.Union([InvalidRequest, DaemonError]),
  }),
  Rpc.make("DeleteTask", {
    payload: { taskId: TaskId },
    error: Schema.Union([UnknownTask, NotAllowed, DaemonError]),
  }),
  Rpc.make("Info", { success: DaemonInfo }),
  /**
   * Adds a recurring schedule (see `Schedule`): the cron and zone are parsed
   * (a bad one is InvalidRequest naming `cron` or `tz`) and the input is
   * checked against the definition's schema, as Trigger would, before
   * anything is stored.
   */
  Rpc.make("ScheduleAdd", {
    payload: {
      definitionId: Schema.String,
      cron: Schema.String,
      tz: Schema.optional(Schema.String),
      input: Schema.optional(Schema.Unknown),
      name: Schema.optional(Schema.String),
      overlap: Schema.optional(Overlap),
      catchUp: Schema.optional(CatchUp),
    },
    success: ScheduleInfo,
    error: Schema.Union([InvalidInput, InvalidRequest, UnknownDefinition, DaemonError]),
  }),
  Rpc.make("ScheduleList", { success: Schema.Array(ScheduleInfo), error: DaemonError }),
  Rpc.make("SchedulePause", { payload: { scheduleId: Schema.String }, success: ScheduleInfo, error: Schema.Union([UnknownSchedule, DaemonError]) }),
  Rpc.make("ScheduleResume", { payload: { scheduleId: Schema.String }, success: ScheduleInfo, error: Schema.Union([UnknownSchedule, DaemonError]) }),
  Rpc.make("ScheduleRemove", { payload: { scheduleId: Schema.String }, error: Schema.Union([UnknownSchedule, DaemonError]) }),
  /** Triggers the schedule's definition with its input now (its slots are unchanged); answers the task. */
  Rpc.make("ScheduleTriggerNow", {
    payload: { scheduleId: Schema.String },
    success: TaskState,
    error: Schema.Union([UnknownSchedule, InvalidInput, InvalidRequest, UnknownDefinition, TriggerRefused, UnknownTask, NotAllowed, DaemonError]),
  }),
  /**
   * Every record of a schedule, oldest first: created, updated, paused,
   * resumed, fired (with its slot and task, or skipped / queued / the
   * refusal), triggered by hand, removed. A removed schedule's records stay
   * readable (ending in its removal); an id that never had one is UnknownSchedule.
   */
  Rpc.make("ScheduleHistory", {
    payload: { scheduleId: Schema.String },
    success: Schema.Array(ScheduleEvent),
    error: Schema.Union([UnknownSchedule, DaemonError]),
  }),
) {}
