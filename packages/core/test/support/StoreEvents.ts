/**
 * Test support for the event store: new events for a task's lifecycle with
 * deterministic ids and times, and append requests built from them.
 */
import type { AppendRequest, ExpectedVersion } from "../../src/EventStore.ts"
import { uuidv7, type DefinitionId, type EventId, type TaskId } from "../../src/Ids.ts"
import * as TaskEvent from "../../src/TaskEvent.ts"

/** The time of the first event; later events are one millisecond apart. */
export const epoch = 1_700_000_000_000

let counter = 0

/** A new event with a fresh UUIDv7 id; `at` defaults to a clock that ticks once per event. */
export const newEvent = (event: TaskEvent.TaskEvent, at?: number): TaskEvent.NewEvent => {
  counter += 1
  const time = at ?? epoch + counter
  const random = new Uint8Array(10)
  new DataView(random.buffer).setUint32(0, counter)
  return { id: uuidv7(time, random) as EventId, at: time, event }
}

/** A task id that sorts in creation order. */
export const taskId = (n: number): TaskId => `task-${String(n).padStart(6, "0")}` as TaskId

/** Options of a trigger. */
export interface TriggerOptions {
  readonly definitionId?: string
  readonly parentId?: TaskId
  readonly idempotencyKey?: string
  readonly maxIterations?: number
  readonly at?: number
}

/** The TaskTriggered event that opens `task`'s stream. */
export const triggered = (task: TaskId, options: TriggerOptions = {}): TaskEvent.NewEvent =>
  newEvent(
    new TaskEvent.TaskTriggered({
      taskId: task,
      definitionId: (options.definitionId ?? "demo") as DefinitionId,
      input: { n: 0 },
      maxIterations: options.maxIterations ?? 1_000_000,
      ...(options.parentId === undefined ? {} : { parentId: options.parentId }),
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
    }),
    options.at,
  )

/** IterationStarted for iteration `n`, attempt 1. */
export const started = (n: number) => newEvent(new TaskEvent.IterationStarted({ iteration: n, attempt: 1 }))

/** The events a running iteration records before it continues. */
export const progressAndLog = (n: number) => [
  newEvent(new TaskEvent.ProgressUpdated({ progress: { completed: n, total: 100 } })),
  newEvent(new TaskEvent.TaskLogged({ level: "info", message: `iteration ${n}`, data: { n } })),
]

/** IterationContinued with the next input. */
export const continued = (n: number) => newEvent(new TaskEvent.IterationContinued({ input: { n } }))

/** One whole iteration: started, progress, a log line, continued. */
export const iteration = (n: number) => [started(n), ...progressAndLog(n), continued(n)]

/** TaskDone (its onDone hook becomes due). */
export const done = () => newEvent(new TaskEvent.TaskDone({ output: { ok: true } }))

/** HookCompleted for the onDone hook. */
export const onDoneCompleted = () => newEvent(new TaskEvent.HookCompleted({ hook: "onDone" }))

/** An append request. */
export const request = (stream: TaskId, expectedVersion: ExpectedVersion, events: ReadonlyArray<TaskEvent.NewEvent>): AppendRequest => ({
  stream,
  expectedVersion,
  events,
})
