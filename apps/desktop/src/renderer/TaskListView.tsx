/**
 * The Tasks view: every task, newest first, live, filterable by status and
 * definition and searchable (ListTasks' server-side `search`). The list is
 * virtualized with fixed-height rows, so only the rows on screen exist in
 * the DOM; pages of 500 are loaded with the cursor as the user scrolls toward
 * rows not loaded yet ({@link TaskListModel}). The scroll height comes from
 * the daemon's counts when the filter allows (status only, or none), else
 * from what is loaded plus a "more…" row.
 */
import { type Ids, type Replay, TaskMachine, type TaskRpc } from "@tasklane/core/client"
import { useVirtualizer } from "@tanstack/react-virtual"
import { memo, useEffect, useMemo, useRef, useState } from "react"
import { useApp, useConnection, useLive, useStoreVersion, useTick } from "./AppContext.ts"
import * as Format from "./Format.ts"
import * as Router from "./Router.ts"
import { TaskListModel } from "./TaskListModel.ts"
import type { TaskFilter } from "./TaskStore.ts"
import { ErrorBanner, ProgressBar, StatusBadge } from "./Widgets.tsx"
import { useLoad } from "./useLoad.ts"
import { useObservable } from "./useObservable.ts"

/** Height of one row in px (must match `.task-row` in styles.css). */
const rowHeight = 32
/** Tasks per ListTasks page. */
const pageSize = 500

/** How many tasks the filter matches, if the daemon's counts say. */
const knownTotal = (filter: TaskFilter, info: TaskRpc.DaemonInfo | undefined): number | undefined => {
  if (info === undefined || filter.definitionId !== undefined || filter.search) return undefined
  if (filter.status !== undefined) return info.counts[filter.status] ?? 0
  return Object.values(info.counts).reduce((sum, n) => sum + n, 0)
}

/** One task as a list row (also used for a task's children); `now` (whole seconds) ticks running durations. */
const tasksLabel = (n: number): string => `${n.toLocaleString()} task${n === 1 ? "" : "s"}`

export const TaskRow = memo(({ state, now }: { readonly state: Replay.TaskState; readonly now: number }) => {
  const c = state.context
  const end = c.finishedAt ?? (TaskMachine.isFinal(state.status) ? c.updatedAt : now)
  return (
    <a className="task-row" href={Router.href({ view: "task", taskId: c.taskId })} data-task-id={c.taskId}>
      <span className="col-status"><StatusBadge status={state.status} /></span>
      <span className="col-def" title={c.definitionId}>{c.definitionId}</span>
      <span className="col-name" title={c.name ?? c.taskId}>{c.name ?? <span className="muted mono">{c.taskId.slice(0, 13)}…</span>}</span>
      <span className="col-iter">{c.iteration}/{c.maxIterations}</span>
      <span className="col-progress"><ProgressBar progress={c.progress} /></span>
      <span className="col-started">{Format.time(c.startedAt)}</span>
      <span className="col-duration">{c.startedAt === undefined ? "—" : Format.duration(end - c.startedAt)}</span>
    </a>
  )
})

/** The live, virtualized task list. */
export const TaskListView = () => {
  const { client, live } = useApp()
  const { info } = useLive()
  useStoreVersion()
  useTick(1000)
  const [status, setStatus] = useState<TaskFilter["status"]>(undefined)
  const [definitionId, setDefinitionId] = useState<string | undefined>(undefined)
  const [searchText, setSearchText] = useState("")
  const [search, setSearch] = useState("")
  // The definition filter's options; if they cannot be read, the banner says so (the list itself still works).
  const definitions = useLoad(() => client.call((c) => c.Definitions({})), [client])

  useEffect(() => {
    const timer = setTimeout(() => setSearch(searchText.trim()), 300)
    return () => clearTimeout(timer)
  }, [searchText])

  const filter = useMemo<TaskFilter>(() => ({ status, definitionId, search: search || undefined }), [status, definitionId, search])
  const model = useMemo(
    () =>
      new TaskListModel(
        live.store,
        filter,
        (f, cursor) =>
          client.call((c) =>
            c.ListTasks({
              limit: pageSize,
              ...(f.status && { status: f.status }),
              ...(f.definitionId && { definitionId: f.definitionId }),
              ...(f.search && { search: f.search }),
              ...(cursor && { cursor }),
            })
          ),
      ),
    [client, live, filter],
  )
  useEffect(() => {
    model.start()
    return () => model.dispose()
  }, [model])
  const list = useObservable(model)
  // A page that failed while the daemon was away is asked for again once it is back.
  const { epoch } = useConnection()
  useEffect(() => {
    if (model.getSnapshot().error) model.retry()
  }, [model, epoch])

  const total = knownTotal(filter, info)
  const loaded = list.rows.length
  const count = list.exhausted ? loaded : Math.max(total ?? 0, loaded + 1)

  const scrollRef = useRef<HTMLDivElement>(null)
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 12,
  })
  const items = virtualizer.getVirtualItems()
  const slots = Math.max(1, items.length + 2)
  const lastIndex = items.length > 0 ? items[items.length - 1]!.index : 0
  useEffect(() => model.want(lastIndex), [model, lastIndex, loaded])

  const marked = useRef(false)
  useEffect(() => {
    if (!marked.current && loaded > 0) {
      marked.current = true
      performance.mark("tasks-first-rows")
    }
  }, [loaded])

  // Whole seconds, so memoized rows re-render for the clock at most once a second.
  const now = Math.floor(Date.now() / 1000) * 1000
  return (
    <section className="view tasks-view">
      <div className="toolbar">
        <label>
          Status{" "}
          <select aria-label="Status filter" value={status ?? ""} onChange={(e) => setStatus((e.target.value || undefined) as TaskFilter["status"])}>
            <option value="">all</option>
            {TaskMachine.taskStatuses.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>
          Definition{" "}
          <select aria-label="Definition filter" value={definitionId ?? ""} onChange={(e) => setDefinitionId(e.target.value || undefined)}>
            <option value="">all</option>
            {(definitions.value ?? []).map((d) => <option key={d.id} value={d.id}>{d.id}</option>)}
          </select>
        </label>
        <input
          className="search"
          type="search"
          placeholder="Search id, name or definition"
          aria-label="Search tasks"
          value={searchText}
          onChange={(e) => setSearchText(e.target.value)}
        />
        <span className="muted count">
          {list.exhausted || total !== undefined ? tasksLabel(list.exhausted ? loaded : count) : `${loaded.toLocaleString()} loaded, more…`}
        </span>
      </div>
      {list.error
        ? <ErrorBanner message={`Could not load tasks: ${list.error}`} action={{ label: "retry", run: () => model.retry() }} />
        : <ErrorBanner message={definitions.error && `Could not load the definitions for the filter: ${definitions.error}`} action={{ label: "retry", run: definitions.reload }} />}
      <div className="task-row task-head" role="row">
        <span className="col-status">Status</span>
        <span className="col-def">Definition</span>
        <span className="col-name">Name</span>
        <span className="col-iter">Iter.</span>
        <span className="col-progress">Progress</span>
        <span className="col-started">Started</span>
        <span className="col-duration">Duration</span>
      </div>
      <div className="task-scroll" ref={scrollRef} data-testid="task-scroll">
        {count === 0 && !list.loading && <p className="empty">No tasks{status || definitionId || search ? " match these filters" : " yet"}.</p>}
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {items.map((item) => {
            const id = list.rows[item.index] as Ids.TaskId | undefined
            const state = id === undefined ? undefined : live.store.get(id)
            return (
              // Keyed by slot, not by row: scrolling reuses the DOM of rows that left the screen (an update, not a mount).
              <div key={item.index % slots} className="virtual-row" style={{ transform: `translateY(${item.start}px)` }}>
                {state !== undefined ? <TaskRow state={state} now={now} /> : <div className="task-row placeholder">{list.loading ? "loading…" : list.error ? "not loaded" : "more…"}</div>}
              </div>
            )
          })}
        </div>
      </div>
    </section>
  )
}

