/**
 * What hooks and `controller.task.listChildren` see of a task: plain,
 * structured-cloneable data (the host builds it in `host/HookParams.ts`).
 *
 * A snapshot speaks both dialects: Tasklane's (`status`, `iteration`) and
 * Webiny's (`taskStatus`, `iterations`, `createdOn`, ...), so a task written
 * for Webiny's background tasks reads what it expects. {@link webinyTaskStatus}
 * is the one mapping from Tasklane's statuses to Webiny's.
 */
import type { ErrorInfo } from "./ErrorInfo.ts"

/** Where a task is in its lifecycle (see DESIGN §4); the last four are final. */
export type TaskStatus = "triggered" | "running" | "continue" | "done" | "error" | "aborted" | "maxIterations"

/** A task's status as Webiny names it (`TaskDataStatus`). */
export type WebinyTaskStatus = "pending" | "running" | "success" | "failed" | "aborted"

/**
 * Tasklane status → Webiny status. Between iterations (`continue`) a Webiny
 * task is still `running`; Webiny ends a task that hits its iteration limit
 * as `failed` ("Task reached max iterations."), so `maxIterations` is `failed`.
 */
export const webinyTaskStatus: { readonly [S in TaskStatus]: WebinyTaskStatus } = {
  triggered: "pending",
  running: "running",
  continue: "running",
  done: "success",
  error: "failed",
  aborted: "aborted",
  maxIterations: "failed",
}

/** A read-only snapshot of one task, as hooks and `listChildren` see it. */
export interface TaskSnapshot<Input = unknown, Output = unknown> {
  readonly id: string
  readonly definitionId: string
  readonly name?: string | undefined
  readonly input: Input
  readonly output?: Output | undefined
  /** The 1-based number of the iteration that ran last (0 before the first one). */
  readonly iteration: number
  readonly status: TaskStatus
  readonly error?: ErrorInfo | undefined
  readonly parentId?: string | undefined
  /** Webiny's name for `status` (see {@link webinyTaskStatus}). */
  readonly taskStatus: WebinyTaskStatus
  /** Webiny's name for `iteration`: iterations started so far. */
  readonly iterations: number
  /** When the task was triggered (ISO 8601), as Webiny names it. */
  readonly createdOn: string
  /** When the task last changed (ISO 8601), as Webiny names it. */
  readonly savedOn: string
  /** When its first iteration started (ISO 8601), if one did. */
  readonly startedOn?: string | undefined
  /** When it reached its final status (ISO 8601), if it did. */
  readonly finishedOn?: string | undefined
}
