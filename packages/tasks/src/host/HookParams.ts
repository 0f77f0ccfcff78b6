/**
 * The pure builders of what hooks and `controller.task.listChildren` receive:
 * a task's snapshot, the definition facts, and the parameters of
 * `onBeforeTrigger` and of the hooks due after a final event. The daemon and
 * a worker thread both call them on the task state they hold, so everything
 * here is plain, structured-cloneable data built without I/O, clock or
 * randomness.
 *
 * It is deliberately independent of `@tasklane/core`'s replay fold:
 * {@link TaskStateLike} is the structural shape of core's `Replay.TaskState`
 * that these builders read.
 */
import type { ErrorInfo } from "../ErrorInfo.ts"
import type { BeforeTriggerParams, DefinitionInfo, LifecycleHookParams } from "../Interface.ts"
import { type TaskSnapshot, type TaskStatus, webinyTaskStatus } from "../TaskSnapshot.ts"

/** The task state the builders read: structurally core's `Replay.TaskState`. */
export interface TaskStateLike {
  readonly status: string
  readonly context: {
    readonly taskId: string
    readonly definitionId: string
    readonly name?: string | undefined
    readonly parentId?: string | undefined
    readonly input: unknown
    readonly output?: unknown
    readonly error?: ErrorInfo | undefined
    readonly iteration: number
    readonly createdAt: number
    readonly updatedAt: number
    readonly startedAt?: number | undefined
    readonly finishedAt?: number | undefined
  }
}

const isTaskStatus = (status: string): status is TaskStatus => Object.hasOwn(webinyTaskStatus, status)

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString())

/** The snapshot of a task from its state (pure). */
export const snapshotOf = (state: TaskStateLike): TaskSnapshot => {
  const c = state.context
  // Only "untriggered" is not a TaskStatus, and no stored task is in it.
  const status: TaskStatus = isTaskStatus(state.status) ? state.status : "triggered"
  return {
    id: c.taskId,
    definitionId: c.definitionId,
    name: c.name,
    input: c.input,
    output: c.output,
    iteration: c.iteration,
    status,
    error: c.error,
    parentId: c.parentId,
    taskStatus: webinyTaskStatus[status],
    iterations: c.iteration,
    createdOn: new Date(c.createdAt).toISOString(),
    savedOn: new Date(c.updatedAt).toISOString(),
    startedOn: iso(c.startedAt),
    finishedOn: iso(c.finishedAt),
  }
}

/** The definition facts hooks receive, from a definition (or anything that has them). */
export const definitionInfoOf = (definition: DefinitionInfo): DefinitionInfo => ({
  id: definition.id,
  title: definition.title,
  description: definition.description,
  maxIterations: definition.maxIterations,
  databaseLogs: definition.databaseLogs,
  isPrivate: definition.isPrivate,
})

/** What `onDone`, `onError`, `onAbort` and `onMaxIterations` receive (pure). */
export const lifecycleHookParams = (state: TaskStateLike, definition: DefinitionInfo): LifecycleHookParams => ({
  task: snapshotOf(state),
  definition: definitionInfoOf(definition),
})

/** A trigger about to be stored, as `onBeforeTrigger` is told about it. */
export interface TriggerFacts<Input = unknown> {
  readonly definition: DefinitionInfo
  /** The decoded input. */
  readonly input: Input
  readonly name?: string | undefined
  readonly parentId?: string | undefined
}

/**
 * What `onBeforeTrigger` receives (pure): Tasklane's fields and Webiny's
 * `data`, whose `name` is the definition's title when none was given (as
 * Webiny names an unnamed task).
 */
export const beforeTriggerParams = <Input>(facts: TriggerFacts<Input>): BeforeTriggerParams<Input> => ({
  input: facts.input,
  definitionId: facts.definition.id,
  name: facts.name,
  parentId: facts.parentId,
  data: {
    definitionId: facts.definition.id,
    name: facts.name ?? facts.definition.title,
    input: facts.input,
    parentId: facts.parentId,
  },
  definition: definitionInfoOf(facts.definition),
})
