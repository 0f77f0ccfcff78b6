/**
 * The renderer's live view of task summaries: a map from task id to
 * `Replay.TaskState`, fed by pages and single reads from the daemon and
 * advanced by every `Subscribe` event through the shared fold
 * `Replay.step` — the UI never re-implements the lifecycle.
 *
 * Lifecycle: `load(states)` merges states read from the daemon (a newer
 * stream version wins, so a page that raced with live events never moves a
 * task back). `apply(envelopes)` folds live events: an event for a task not
 * in the map opens it only if it is the stream's first (TaskTriggered);
 * events already folded are skipped; an event that does not follow (a gap,
 * e.g. events missed while reconnecting) marks the task stale and `onStale`
 * is told, so the caller re-reads it. Listeners are told about changes at
 * most once per `schedule` tick (an animation frame in the browser), with the
 * set of ids that changed, so thousands of events per second cost one render.
 * It is an {@link Observable} whose snapshot is that flush count.
 */
import { type Ids, Replay, TaskEvent, TaskMachine } from "@tasklane/core/client"
import { Listeners, type Observable } from "./Observable.ts"

type TaskState = Replay.TaskState
type TaskId = Ids.TaskId

/** Runs `flush` soon (once per frame in the browser); tests pass a synchronous one. */
export type Scheduler = (flush: () => void) => void

/** Orders tasks the way the daemon lists them: newest first, ties by task id. */
export const compareNewestFirst = (a: TaskState, b: TaskState): number =>
  b.context.createdAt - a.context.createdAt || (a.context.taskId < b.context.taskId ? -1 : a.context.taskId > b.context.taskId ? 1 : 0)

/** The live map of task summaries. */
export class TaskStore implements Observable<number> {
  private readonly tasks = new Map<TaskId, TaskState>()
  private readonly children = new Map<TaskId, Set<TaskId>>()
  private readonly listeners = new Listeners<[changed: ReadonlySet<TaskId>]>()
  private changed = new Set<TaskId>()
  private scheduled = false
  private revision = 0
  /** Global position of the last event folded in (Subscribe resumes after it). */
  position = -1
  /** Told about a task whose live events did not follow on; re-read it and `load` it. */
  onStale: (taskId: TaskId) => void = () => {}
  /** Told about a live event that could not be decoded or folded for another reason. */
  onProblem: (message: string) => void = () => {}

  constructor(private readonly schedule: Scheduler) {}

  /** The state of a task, if known. */
  get(taskId: TaskId): TaskState | undefined {
    return this.tasks.get(taskId)
  }

  /** The number of flushes so far: a snapshot that changes exactly when listeners are told. */
  readonly getSnapshot = (): number => this.revision

  /** Calls `listener` with the ids changed since the last call, at most once per scheduler tick. */
  readonly subscribe = this.listeners.add

  /** The known (not deleted) children of a task, newest first. */
  childrenOf(parentId: TaskId): ReadonlyArray<TaskState> {
    const ids = this.children.get(parentId)
    if (ids === undefined) return []
    const states: Array<TaskState> = []
    for (const id of ids) {
      const state = this.tasks.get(id)
      if (state !== undefined && !state.context.deleted) states.push(state)
    }
    return states.sort(compareNewestFirst)
  }

  /** The ids of known tasks not in a final status (events a resume skipped may have moved them on). */
  unfinished(): ReadonlyArray<TaskId> {
    return [...this.tasks.values()].filter((state) => !TaskMachine.isFinal(state.status)).map((state) => state.context.taskId)
  }

  /** Merges states read from the daemon (ListTasks pages, GetTask, Trigger, Abort). */
  load(states: ReadonlyArray<TaskState>): void {
    for (const state of states) {
      const known = this.tasks.get(state.context.taskId)
      if (known !== undefined && known.context.version >= state.context.version) continue
      this.put(state)
    }
  }

  /** Folds live events (in global order) into the map. */
  apply(envelopes: ReadonlyArray<TaskEvent.EventEnvelope | typeof TaskEvent.EventEnvelope.Encoded>): void {
    for (const envelope of envelopes) {
      if (envelope.position > this.position) this.position = envelope.position
      const known = this.tasks.get(envelope.stream as TaskId)
      if (known === undefined ? envelope.version !== 1 : envelope.version <= known.context.version) continue
      let recorded: TaskEvent.RecordedEvent
      try {
        recorded = TaskEvent.fromEnvelope(envelope)
      } catch (error) {
        this.onProblem(error instanceof Error ? error.message : String(error))
        continue
      }
      const next = Replay.step(known ?? Replay.initial, recorded)
      if (next instanceof Replay.ReplayError) {
        if (known !== undefined && recorded.version > known.context.version + 1) this.onStale(recorded.stream)
        else this.onProblem(next.message)
        continue
      }
      this.put(next)
    }
  }

  private put(state: TaskState): void {
    const id = state.context.taskId
    this.tasks.set(id, state)
    const parentId = state.context.parentId
    if (parentId !== undefined) {
      let siblings = this.children.get(parentId)
      if (siblings === undefined) this.children.set(parentId, (siblings = new Set()))
      siblings.add(id)
    }
    this.changed.add(id)
    if (this.scheduled) return
    this.scheduled = true
    this.schedule(() => this.flush())
  }

  private flush(): void {
    this.scheduled = false
    const changed = this.changed
    this.changed = new Set()
    this.revision++
    this.listeners.notify(changed)
  }
}

/** What a task list shows: the server-side ListTasks filter. */
export interface TaskFilter {
  readonly status?: TaskMachine.TaskStatus | undefined
  readonly definitionId?: string | undefined
  readonly search?: string | undefined
}

/** The daemon's ListTasks filter, evaluated on the client for live updates. */
export const matches = (filter: TaskFilter, state: TaskState): boolean => {
  if (state.context.deleted || state.status === "untriggered") return false
  if (filter.status !== undefined && state.status !== filter.status) return false
  if (filter.definitionId !== undefined && state.context.definitionId !== filter.definitionId) return false
  const needle = filter.search?.toLowerCase()
  if (!needle) return true
  const found = (text: string | undefined) => text !== undefined && text.toLowerCase().includes(needle)
  return found(state.context.taskId) || found(state.context.name) || found(state.context.definitionId)
}
