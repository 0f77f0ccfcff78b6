/**
 * The plain, read-only view of a task that hooks and `controller.task.listChildren`
 * receive. It is deliberately independent of `@tasklane/core`: the daemon
 * builds it from its own projection, and authoring code never sees events.
 */
import type { ErrorInfo } from "./ErrorInfo.ts"

/** Where a task is in its lifecycle (see DESIGN §4); the last four are final. */
export type TaskStatus = "triggered" | "running" | "continue" | "done" | "error" | "aborted" | "maxIterations"

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
}
