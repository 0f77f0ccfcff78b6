/**
 * The command side's errors: what `Tasks`, `Schedules` and `Retention` fail
 * with. They are the daemon's own, not the RPC contract's: `WireErrors` turns
 * them into `TaskRpc`'s wire errors at the edges (the RPC handlers, a running
 * task's child trigger), and nowhere else.
 *
 * Their tags differ from the wire errors' on purpose. A domain error with the
 * wire error's tag and fields would be the same type to TypeScript, so a
 * handler that forgot to map one would still compile; with distinct tags the
 * compiler finds it. Their messages read as the wire errors' do, so logs and
 * the refusals a schedule records keep their wording.
 *
 * A storage failure keeps its cause (`StorageFailed.cause`): the client sees
 * only the reason, and the edge logs the cause.
 *
 * Invalid input stays `TaskRpc.InvalidInput`: it is plain data (the
 * definition and the field issues, no cause) built where the input is
 * decoded, and it passes the edge unchanged.
 */
import { Schema } from "effect"

/** No task with this id (or it was deleted). */
export class TaskNotFound extends Schema.TaggedError<TaskNotFound>()("TaskNotFound", {
  taskId: Schema.String,
}) {
  override get message() {
    return `no task with id "${this.taskId}"`
  }
}

/** No definition with this id is loaded (or it is private and the caller may not trigger it). */
export class DefinitionNotFound extends Schema.TaggedError<DefinitionNotFound>()("DefinitionNotFound", {
  definitionId: Schema.String,
}) {
  override get message() {
    return `no task definition with id "${this.definitionId}"`
  }
}

/** The definition's onBeforeTrigger refused the trigger; nothing was stored. */
export class TriggerVetoed extends Schema.TaggedError<TriggerVetoed>()("TriggerVetoed", {
  definitionId: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `${this.definitionId} refused the trigger: ${this.reason}`
  }
}

/** Not possible in the task's state (abort a finished task, delete a running one, reuse a deleted task's key). */
export class ActionNotAllowed extends Schema.TaggedError<ActionNotAllowed>()("ActionNotAllowed", {
  taskId: Schema.String,
  status: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `task ${this.taskId} is ${this.status}: ${this.reason}`
  }
}

/** A request field breaks a limit or a rule (a task name too long, an export directory that is not absolute). */
export class InvalidField extends Schema.TaggedError<InvalidField>()("InvalidField", {
  field: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `invalid ${this.field}: ${this.reason}`
  }
}

/** A batch of triggers larger than allowed; nothing was stored. */
export class BatchTooLarge extends Schema.TaggedError<BatchTooLarge>()("BatchTooLarge", {
  count: Schema.Number,
  max: Schema.Number,
}) {
  override get message() {
    return `a TriggerMany request may carry at most ${this.max} triggers; this one carried ${this.count} (send them in chunks)`
  }
}

/** The store failed (I/O, a conflict that kept recurring, a decision the store refused); nothing partial was stored. */
export class StorageFailed extends Schema.TaggedError<StorageFailed>()("StorageFailed", {
  /** What the client is told (the wire `DaemonError`'s reason). */
  reason: Schema.String,
  /** The store's own error, for the log. */
  cause: Schema.Defect(),
}) {
  override get message() {
    return `daemon error: ${this.reason}`
  }
}

/** A store error as a {@link StorageFailed} whose reason is its message, prefixed with `what` when given. */
export const storageFailed = (error: { readonly message: string }, what?: string): StorageFailed =>
  new StorageFailed({ reason: what === undefined ? error.message : `${what}: ${error.message}`, cause: error })

/** What to log beside a failure's message: a storage failure's cause; nothing for a refusal (its message says it all). */
export const causeOf = (error: unknown): ReadonlyArray<unknown> => (error instanceof StorageFailed ? [error.cause] : [])

/** Any of the command side's errors. */
export type TaskError = TaskNotFound | DefinitionNotFound | TriggerVetoed | ActionNotAllowed | InvalidField | BatchTooLarge | StorageFailed
