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
 */
import type { Ids, Replay, TaskRpc } from "@tasklane/core/client"
import { describeError } from "./DaemonClient.ts"
import { compareNewestFirst, matches, type TaskFilter, type TaskStore } from "./TaskStore.ts"

type TaskId = Ids.TaskId

/** Reads one page of the filtered list after `cursor`. */
export type PageLoader = (filter: TaskFilter, cursor: string | undefined) => Promise<TaskRpc.TaskPage>

/** Rows in view are at most this close to the loaded end before the next page is asked for. */
export const prefetchRows = 250

/** One filtered, paged, live task list. */
export class TaskListModel {
  /** Loaded rows, in list order. */
  rows: Array<TaskId> = []
  /** The daemon has no further page. */
  exhausted = false
  loading = false
  /** Why the last page failed to load (empty if it did not). */
  error = ""
  private readonly rowSet = new Set<TaskId>()
  private cursor: string | undefined
  private disposed = false
  private readonly unsubscribe: () => void

  constructor(
    private readonly store: TaskStore,
    readonly filter: TaskFilter,
    private readonly loadPage: PageLoader,
    private readonly onChange: () => void,
  ) {
    this.unsubscribe = store.subscribe((changed) => this.update(changed))
  }

  /** Loads the first page. */
  start(): void {
    this.loadNext()
  }

  /** Tells the model row `index` is on screen: loads the next page if it is near the loaded end. */
  want(index: number): void {
    if (index >= this.rows.length - prefetchRows) this.loadNext()
  }

  /** Retries after a failed page load. */
  retry(): void {
    this.error = ""
    this.loadNext()
  }

  /** Stops following the store. */
  dispose(): void {
    this.disposed = true
    this.unsubscribe()
  }

  private loadNext(): void {
    if (this.loading || this.exhausted || this.error || this.disposed) return
    this.loading = true
    this.loadPage(this.filter, this.cursor).then(
      (page) => {
        if (this.disposed) return
        this.loading = false
        this.store.load(page.tasks)
        for (const summary of page.tasks) {
          const id = summary.context.taskId
          const state = this.store.get(id)
          if (!this.rowSet.has(id) && state !== undefined && matches(this.filter, state)) this.add(this.rows.length, id)
        }
        this.cursor = page.cursor
        this.exhausted = page.cursor === undefined
        this.onChange()
      },
      (error: unknown) => {
        if (this.disposed) return
        this.loading = false
        this.error = describeError(error)
        this.onChange()
      },
    )
  }

  private add(index: number, id: TaskId): void {
    this.rows.splice(index, 0, id)
    this.rowSet.add(id)
  }

  /** Where a task belongs among the loaded rows (binary search), or undefined past the loaded end. */
  private placeOf(state: Replay.TaskState): number | undefined {
    let low = 0
    let high = this.rows.length
    while (low < high) {
      const mid = (low + high) >>> 1
      const other = this.store.get(this.rows[mid]!)
      if (other !== undefined && compareNewestFirst(other, state) < 0) low = mid + 1
      else high = mid
    }
    return low === this.rows.length && !this.exhausted ? undefined : low
  }

  private update(changed: ReadonlySet<TaskId>): void {
    let removed = false
    let added = false
    for (const id of changed) {
      const state = this.store.get(id)
      if (state === undefined) continue
      const listed = this.rowSet.has(id)
      const wanted = matches(this.filter, state)
      if (listed && !wanted) {
        this.rowSet.delete(id)
        removed = true
      } else if (!listed && wanted && (this.rows.length > 0 || this.exhausted)) {
        const index = this.placeOf(state)
        if (index !== undefined) {
          this.add(index, id)
          added = true
        }
      }
    }
    if (removed) this.rows = this.rows.filter((id) => this.rowSet.has(id))
    else if (added) this.rows = [...this.rows]
    if (removed || added) this.onChange()
  }
}
