/**
 * The rows of one task list (one filter): task ids in the daemon's order
 * (newest first), loaded a page at a time with ListTasks' cursor as the user
 * scrolls toward them, and kept live from the {@link TaskStore}.
 *
 * Lifecycle: `start()` loads the first page; `want(index)` loads the next
 * page when a row near the end of what is loaded becomes visible; every
 * store flush re-checks the changed tasks against the filter, so a new task
 * (or one that now matches, e.g. entered the filtered status) appears in its
 * sorted place and one that no longer matches (or was deleted) leaves. A
 * task older than the last loaded row is left for its page to bring.
 * `dispose()` stops listening; a page that arrives later is dropped.
 *
 * It is an {@link Observable}: every change publishes a new
 * {@link TaskListSnapshot} (a published `rows` array is never mutated).
 */
import type { Ids, Replay, TaskRpc } from "@tasklane/core/client"
import { describeError } from "./DaemonClient.ts"
import { Listeners, type Observable } from "./Observable.ts"
import { compareNewestFirst, matches, type TaskFilter, type TaskStore } from "./TaskStore.ts"

type TaskId = Ids.TaskId

/** Reads one page of the filtered list after `cursor`. */
export type PageLoader = (filter: TaskFilter, cursor: string | undefined) => Promise<TaskRpc.TaskPage>

/** Rows in view are at most this close to the loaded end before the next page is asked for. */
export const prefetchRows = 250

/** What the list shows at one moment. */
export interface TaskListSnapshot {
  /** Loaded rows, in list order. */
  readonly rows: ReadonlyArray<TaskId>
  /** The daemon has no further page. */
  readonly exhausted: boolean
  /** A page is being loaded. */
  readonly loading: boolean
  /** Why the last page failed to load (empty if it did not). */
  readonly error: string
}

/** One filtered, paged, live task list. */
export class TaskListModel implements Observable<TaskListSnapshot> {
  private state: TaskListSnapshot = { rows: [], exhausted: false, loading: false, error: "" }
  private readonly listeners = new Listeners()
  private readonly rowSet = new Set<TaskId>()
  private cursor: string | undefined
  private disposed = false
  private readonly unsubscribe: () => void

  constructor(
    private readonly store: TaskStore,
    readonly filter: TaskFilter,
    private readonly loadPage: PageLoader,
  ) {
    this.unsubscribe = store.subscribe((changed) => this.update(changed))
  }

  readonly subscribe = this.listeners.add
  readonly getSnapshot = (): TaskListSnapshot => this.state

  /** Loads the first page. */
  start(): void {
    this.loadNext()
  }

  /** Tells the model row `index` is on screen: loads the next page if it is near the loaded end. */
  want(index: number): void {
    if (index >= this.state.rows.length - prefetchRows) this.loadNext()
  }

  /** Retries after a failed page load. */
  retry(): void {
    if (this.state.error && !this.disposed) this.publish({ error: "" })
    this.loadNext()
  }

  /** Stops following the store. */
  dispose(): void {
    this.disposed = true
    this.unsubscribe()
  }

  private loadNext(): void {
    const { loading, exhausted, error } = this.state
    if (loading || exhausted || error || this.disposed) return
    this.publish({ loading: true })
    this.loadPage(this.filter, this.cursor).then(
      (page) => {
        if (this.disposed) return
        this.store.load(page.tasks)
        const rows = [...this.state.rows]
        for (const summary of page.tasks) {
          const id = summary.context.taskId
          const state = this.store.get(id)
          if (!this.rowSet.has(id) && state !== undefined && matches(this.filter, state)) {
            rows.push(id)
            this.rowSet.add(id)
          }
        }
        this.cursor = page.cursor
        this.publish({ rows, loading: false, exhausted: page.cursor === undefined })
      },
      (error: unknown) => {
        if (this.disposed) return
        this.publish({ loading: false, error: describeError(error) })
      },
    )
  }

  private publish(next: Partial<TaskListSnapshot>): void {
    this.state = { ...this.state, ...next }
    this.listeners.notify()
  }

  /** Where a task belongs among the loaded rows (binary search), or undefined past the loaded end. */
  private placeOf(rows: ReadonlyArray<TaskId>, state: Replay.TaskState): number | undefined {
    let low = 0
    let high = rows.length
    while (low < high) {
      const mid = (low + high) >>> 1
      const other = this.store.get(rows[mid]!)
      if (other !== undefined && compareNewestFirst(other, state) < 0) low = mid + 1
      else high = mid
    }
    return low === rows.length && !this.state.exhausted ? undefined : low
  }

  private update(changed: ReadonlySet<TaskId>): void {
    // Copied on the first change, so the published snapshot's rows stay as they were.
    let rows: Array<TaskId> | undefined
    let removed = false
    for (const id of changed) {
      const state = this.store.get(id)
      if (state === undefined) continue
      const listed = this.rowSet.has(id)
      const wanted = matches(this.filter, state)
      if (listed && !wanted) {
        this.rowSet.delete(id)
        removed = true
      } else if (!listed && wanted && (this.state.rows.length > 0 || this.state.exhausted)) {
        const current = rows ?? this.state.rows
        const index = this.placeOf(current, state)
        if (index !== undefined) {
          rows ??= [...this.state.rows]
          rows.splice(index, 0, id)
          this.rowSet.add(id)
        }
      }
    }
    if (removed) rows = (rows ?? this.state.rows).filter((id) => this.rowSet.has(id))
    if (rows !== undefined) this.publish({ rows })
  }
}
