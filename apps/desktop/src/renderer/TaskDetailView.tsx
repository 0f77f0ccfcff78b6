/**
 * The Task detail view: one task's status, timestamps, iteration and
 * attempt, input, output and error as pretty JSON, its live logs (`Logs`
 * with `follow`, reopened after a reconnect), its children, Abort behind
 * a confirmation (disabled once the task is final), Delete behind a
 * confirmation (the daemon decides: an unfinished task is refused with its
 * `NotAllowed` reason, shown as `tasklane rm` prints it; once deleted the
 * view goes back to the task list), a link to its History
 * (replay and "fork from here"), where it was forked from and its forks. The task's state is the
 * live store's, so it changes without a reload.
 */
import { type Ids, TaskMachine, type TaskRpc } from "@tasklane/core/client"
import { useEffect, useState } from "react"
import { useApp, useConnection, useStoreVersion, useTick } from "./AppContext.ts"
import { describeError } from "./DaemonClient.ts"
import * as Format from "./Format.ts"
import { ForkedFrom, ForkList } from "./history/Forks.tsx"
import * as Router from "./Router.ts"
import { TaskRow } from "./TaskListView.tsx"
import { ConfirmDialog, ErrorBanner, JsonBlock, ProgressBar, StatusBadge } from "./Widgets.tsx"
import { useLoad } from "./useLoad.ts"

/** Log lines kept on screen (the oldest are dropped beyond this). */
const maxLogLines = 5000

const LogView = ({ taskId }: { readonly taskId: Ids.TaskId }) => {
  const { client } = useApp()
  const { epoch } = useConnection()
  const [lines, setLines] = useState<ReadonlyArray<TaskRpc.LogLine>>([])
  const [error, setError] = useState("")
  useEffect(() => {
    if (epoch === 0) return
    setLines([])
    setError("")
    return client.stream(
      (c) => c.Logs({ taskId, follow: true }),
      (batch) => setLines((old) => [...old, ...batch].slice(-maxLogLines)),
      (cause) => {
        if (cause !== undefined) setError(`Logs stopped: ${describeError(cause)}`)
      },
    )
  }, [client, taskId, epoch])
  return (
    <div className="logs" data-testid="logs">
      <ErrorBanner message={error} />
      {lines.length === 0 && <p className="muted">No log lines.</p>}
      {lines.map((line) => (
        <div key={line.version} className={`log-line log-${line.level}`}>
          <span className="log-time">{new Date(line.at).toLocaleTimeString()}</span>
          <span className="log-level">{line.level}</span>
          <span className="log-message">{line.message}</span>
          {line.data !== undefined && <span className="log-data">{JSON.stringify(line.data)}</span>}
        </div>
      ))}
    </div>
  )
}

/** One task, live. */
export const TaskDetailView = ({ taskId }: { readonly taskId: Ids.TaskId }) => {
  const { client, live } = useApp()
  useStoreVersion()
  useTick(1000)
  const [actionError, setActionError] = useState("")
  const [confirming, setConfirming] = useState<"abort" | "delete" | undefined>(undefined)
  const [aborting, setAborting] = useState(false)
  const [deleting, setDeleting] = useState(false)

  // Both answers go into the live store, which the view reads; the loads only say whether they failed.
  const task = useLoad(() => client.call((c) => c.GetTask({ taskId })).then((state) => live.store.load([state])), [client, live, taskId])
  const children = useLoad(
    () => client.call((c) => c.ListTasks({ parentId: taskId, limit: 1000 })).then((page) => live.store.load(page.tasks)),
    [client, live, taskId],
  )

  const state = live.store.get(taskId)
  if (state === undefined) {
    return (
      <section className="view detail-view">
        <a href={Router.href({ view: "tasks" })} className="back">← Tasks</a>
        {task.error ? <ErrorBanner message={`Could not load task ${taskId}: ${task.error}`} /> : <p className="muted">Loading…</p>}
      </section>
    )
  }

  const c = state.context
  const final = TaskMachine.isFinal(state.status)
  const abort = () => {
    setConfirming(undefined)
    setAborting(true)
    setActionError("")
    client.call((rpc) => rpc.Abort({ taskId })).then(
      (next) => live.store.load([next]),
      (error) => setActionError(`Abort failed: ${describeError(error)}`),
    ).finally(() => setAborting(false))
  }
  const remove = () => {
    setConfirming(undefined)
    setDeleting(true)
    setActionError("")
    client.call((rpc) => rpc.DeleteTask({ taskId })).then(
      () => Router.navigate({ view: "tasks" }),
      (error) => setActionError(`Delete failed: ${describeError(error)}`),
    ).finally(() => setDeleting(false))
  }
  const childTasks = live.store.childrenOf(taskId)
  const end = c.finishedAt ?? (final ? c.updatedAt : Date.now())

  return (
    <section className="view detail-view">
      <a href={Router.href({ view: "tasks" })} className="back">← Tasks</a>
      <header className="detail-head">
        <h2>{c.name ?? c.definitionId}</h2>
        <StatusBadge status={state.status} />
        {c.abortRequested && !final && <span className="muted">abort requested…</span>}
        {c.deleted === true && <span className="muted">deleted</span>}
        <ForkedFrom context={c} />
        <span className="spacer" />
        <a className="button-link" href={Router.href({ view: "history", taskId })}>History</a>
        <button className="danger" disabled={final || aborting || c.abortRequested} onClick={() => setConfirming("abort")}>
          {aborting ? "Aborting…" : "Abort"}
        </button>
        <button className="danger" disabled={deleting || c.deleted === true} onClick={() => setConfirming("delete")}>
          {deleting ? "Deleting…" : "Delete"}
        </button>
      </header>
      <ErrorBanner message={actionError} onDismiss={() => setActionError("")} />
      <dl className="facts">
        <dt>Task</dt><dd className="mono">{c.taskId}</dd>
        <dt>Definition</dt><dd><a href={Router.href({ view: "definitions", definitionId: c.definitionId })}>{c.definitionId}</a></dd>
        {c.parentId && (<><dt>Parent</dt><dd><a className="mono" href={Router.href({ view: "task", taskId: c.parentId })}>{c.parentId}</a></dd></>)}
        <dt>Iteration</dt><dd>{c.iteration} of {c.maxIterations} (attempt {c.attempt})</dd>
        <dt>Progress</dt><dd><ProgressBar progress={c.progress} /> {c.progress?.message && <span className="muted">{c.progress.message}</span>}</dd>
        <dt>Created</dt><dd>{Format.time(c.createdAt)}</dd>
        <dt>Started</dt><dd>{Format.time(c.startedAt)}</dd>
        <dt>Finished</dt><dd>{Format.time(c.finishedAt)}</dd>
        <dt>Duration</dt><dd>{c.startedAt === undefined ? "—" : Format.duration(end - c.startedAt)}</dd>
        {c.wakeAt !== undefined && !final && (<><dt>Next run</dt><dd>{Format.time(c.wakeAt)}</dd></>)}
        {c.message && (<><dt>Message</dt><dd>{c.message}</dd></>)}
        {c.abortMessage && (<><dt>Abort message</dt><dd>{c.abortMessage}</dd></>)}
      </dl>
      <div className="panels">
        <div className="panel"><h3>Input</h3><JsonBlock value={c.input} label="Input" /></div>
        <div className="panel"><h3>Output</h3><JsonBlock value={c.output} label="Output" /></div>
        {c.error && (
          <div className="panel panel-error">
            <h3>Error{c.failureReason && <span className="muted"> ({c.failureReason})</span>}</h3>
            <p className="error-message">{c.error.message}</p>
            <JsonBlock value={c.error} label="Error" />
          </div>
        )}
      </div>
      <h3>Logs</h3>
      <LogView taskId={taskId} />
      <h3>Children</h3>
      {children.error && <p className="muted">Could not list the child tasks: {children.error}</p>}
      {childTasks.length === 0 ? (children.error ? null : <p className="muted">No child tasks.</p>) : (
        <div className="children">{childTasks.map((child) => <TaskRow key={child.context.taskId} state={child} now={Date.now()} />)}</div>
      )}
      <h3>Forks</h3>
      <ForkList taskId={taskId} definitionId={c.definitionId} />
      <ConfirmDialog
        open={confirming === "abort"}
        title="Abort this task?"
        confirmLabel="Abort task"
        onConfirm={abort}
        onCancel={() => setConfirming(undefined)}
      >
        <p>{c.name ?? c.definitionId} (<span className="mono">{c.taskId}</span>) will be asked to stop. This cannot be undone.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirming === "delete"}
        title="Delete this task?"
        confirmLabel="Delete task"
        onConfirm={remove}
        onCancel={() => setConfirming(undefined)}
      >
        <p>
          {c.name ?? c.definitionId} (<span className="mono">{c.taskId}</span>) will leave every list. Its recorded events stay in
          the daemon's log. This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  )
}
