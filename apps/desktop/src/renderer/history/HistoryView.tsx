/**
 * The History view: scrub through a task's recorded events and see the
 * task as it was after any of them. Two sources, one screen:
 * - `TaskHistoryView` (`#/tasks/<id>/history`) loads the History RPC and the
 *   daemon's projection (GetTask), checks them against each other, and
 *   offers "Fork from here";
 * - `FileHistoryView` (`#/history/file`) shows an opened exported file,
 *   read-only, with no daemon at all.
 *
 * Every state shown comes from the shared fold (`HistoryModel` over
 * `Replay.step`/`replay`). The position is "after n events" (0 = before the
 * first), as `tasklane replay --at n`; ←/→ move one event, PgUp/PgDn 100,
 * Home/End to the ends; the range, the event rows and the timeline bars move
 * it too.
 */
import { JsonDiff } from "@tasklane/core/client"
import type { Ids, Replay } from "@tasklane/core/client"
import { type KeyboardEvent, useCallback, useEffect, useMemo, useState } from "react"
import { useApp } from "../AppContext.ts"
import { type DaemonClient, describeError } from "../DaemonClient.ts"
import * as Format from "../Format.ts"
import * as Router from "../Router.ts"
import { ErrorBanner, JsonBlock, StatusBadge } from "../Widgets.tsx"
import { useLoad } from "../useLoad.ts"
import { EventList } from "./EventList.tsx"
import * as ForkDraft from "./ForkDraft.ts"
import { fetchHistory } from "./HistoryFetch.ts"
import { ForkedFrom, ForkList } from "./Forks.tsx"
import * as HistoryModel from "./HistoryModel.ts"
import { IterationTimeline } from "./IterationTimeline.tsx"
import { MachineDiagram } from "./MachineDiagram.tsx"
import { useOpened } from "./OpenedHistory.tsx"

const keySteps: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, PageUp: -100, PageDown: 100 }

/** The value of a change, short. */
const short = (value: unknown): string => {
  const text = value === undefined ? "—" : JSON.stringify(value) ?? String(value)
  return text.length > 120 ? `${text.slice(0, 119)}…` : text
}

const ChangeList = ({ changes, empty }: { readonly changes: ReadonlyArray<JsonDiff.Change>; readonly empty: string }) =>
  changes.length === 0 ? <p className="muted">{empty}</p> : (
    <table className="changes" data-testid="changes">
      <tbody>
        {changes.map((c) => (
          <tr key={c.path} className={`change-${c.kind}`}>
            <td className="mono change-path">{c.path}</td>
            <td className="change-kind">{c.kind}</td>
            <td className="mono change-before">{c.kind === "added" ? "" : short(c.before)}</td>
            <td className="mono change-after">{c.kind === "removed" ? "" : short(c.after)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )

/** Replay vs the daemon's projection (status + context) after the last event, and where they part. */
const Consistency = ({ history, projection, onSeek }: {
  readonly history: HistoryModel.History
  readonly projection: Replay.TaskState
  readonly onSeek: (position: number) => void
}) => {
  const divergence = useMemo(() => HistoryModel.consistency(history, projection), [history, projection])
  if (divergence === undefined) {
    return <p className="consistency ok" data-testid="consistency" data-consistent="true">✓ consistent: replaying all {history.events.length.toLocaleString()} events gives the daemon's stored state</p>
  }
  const { changes, at, kind } = divergence
  const path = <span className="mono">{changes[0]!.path}</span>
  return (
    <div className="consistency bad" data-testid="consistency" data-consistent="false" data-diverges-at={at}>
      <p>
        ✗ replay and the daemon's projection differ.{" "}
        {kind === "behind"
          ? <>The projection equals the replay after event {(at - 1).toLocaleString()} and lacks the {(history.events.length - at + 1).toLocaleString()} events from event {at.toLocaleString()} on.</>
          : <>They diverge at event {at.toLocaleString()}, the last one that set {path} in the replay; the projection holds another value there.</>}{" "}
        <button type="button" className="link" onClick={() => onSeek(at)}>Go to event {at.toLocaleString()}</button>
      </p>
      <ChangeList changes={changes} empty="" />
      <p className="muted">Before: replayed · after: projection.</p>
    </div>
  )
}

/** The scrubbing screen for a loaded history. */
const HistoryScreen = (props: {
  readonly history: HistoryModel.History
  readonly title: string
  readonly back?: { readonly href: string; readonly label: string } | undefined
  /** Set when a daemon backs this history: enables "Fork from here". */
  readonly taskId?: Ids.TaskId | undefined
  readonly projection?: Replay.TaskState | undefined
  readonly onReload?: (() => void) | undefined
  /** An opened file: say that it is read-only and needs no daemon. */
  readonly readOnlyNote?: boolean | undefined
}) => {
  const { history } = props
  const total = history.events.length
  const [position, setPosition] = useState(total)
  const seek = useCallback((n: number) => setPosition(Math.max(0, Math.min(total, Math.round(n)))), [total])
  useEffect(() => setPosition((p) => Math.min(p, total)), [total])

  const state = useMemo(() => HistoryModel.stateAt(history, position), [history, position])
  const previous = useMemo(() => (position === 0 ? undefined : HistoryModel.stateAt(history, position - 1)), [history, position])
  const changes = useMemo(
    () => (previous === undefined ? [] : JsonDiff.diff({ status: previous.status, context: previous.context }, { status: state.status, context: state.context })),
    [previous, state],
  )
  const logs = useMemo(() => HistoryModel.logsUpTo(history, position), [history, position])
  const bars = useMemo(() => HistoryModel.bars(history), [history])
  const current = position === 0 ? undefined : history.events[position - 1]
  const fork = HistoryModel.forkPoint(state)

  const onKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    const target = event.target as HTMLElement
    if (target.matches("input[type=search], input[type=text], textarea, select")) return
    const delta = keySteps[event.key]
    if (delta !== undefined) seek(position + delta)
    else if (event.key === "Home") seek(0)
    else if (event.key === "End") seek(total)
    else return
    event.preventDefault()
  }

  const forkFromHere = () => {
    if (props.taskId === undefined || fork === undefined) return
    const origin = { taskId: props.taskId, iteration: fork.iteration }
    ForkDraft.save(origin, fork.input)
    Router.navigate({ view: "definitions", definitionId: state.context.definitionId, fork: origin })
  }

  return (
    <section className="view history-view" tabIndex={-1} onKeyDown={onKeyDown} data-testid="history">
      {props.back && <a href={props.back.href} className="back">{props.back.label}</a>}
      <header className="detail-head">
        <h2>{props.title}</h2>
        <span className="muted mono">{state.context.taskId || history.events[0]?.stream}</span>
        <ForkedFrom context={history.final.context} />
        {props.readOnlyNote && <span className="muted">read-only: an exported file, replayed here without the daemon</span>}
        <span className="spacer" />
        {props.onReload && <button type="button" onClick={props.onReload}>Reload</button>}
        {props.taskId !== undefined && (
          <button type="button" className="primary" disabled={fork === undefined} onClick={forkFromHere}
            title={fork === undefined ? "Nothing to fork before the trigger" : `Trigger a new ${state.context.definitionId} task from iteration ${fork.iteration}, with the input it had`}>
            Fork from here{fork && ` (iteration ${fork.iteration})`}
          </button>
        )}
      </header>
      {props.projection !== undefined && <Consistency history={history} projection={props.projection} onSeek={seek} />}

      <div className="scrubber">
        <button type="button" onClick={() => seek(0)} aria-label="First" title="Home">|◀</button>
        <button type="button" onClick={() => seek(position - 1)} aria-label="Previous event" title="←">◀</button>
        <input type="range" min={0} max={total} value={position} aria-label="Position" onChange={(e) => seek(Number(e.target.value))} />
        <button type="button" onClick={() => seek(position + 1)} aria-label="Next event" title="→">▶</button>
        <button type="button" onClick={() => seek(total)} aria-label="Last" title="End">▶|</button>
        <span className="scrub-label" data-testid="position" data-position={position}>
          after event <strong>{position.toLocaleString()}</strong> of {total.toLocaleString()}
          {current && <> · <span className="mono">{current.event._tag}</span> · {Format.time(current.at)}</>}
        </span>
      </div>
      <IterationTimeline bars={bars} position={position} positionAt={current?.at} onSeek={seek} />

      <div className="history-main">
        <EventList history={history} position={position} onSeek={seek} />
        <div className="history-state">
          <div className="panel">
            <h3>State <StatusBadge status={state.status} /> <span className="muted">iteration {state.context.iteration}, attempt {state.context.attempt}</span></h3>
            <MachineDiagram status={state.status} previous={previous?.status} />
          </div>
          <div className="panel">
            <h3>Changed by this event</h3>
            <ChangeList changes={changes} empty={position === 0 ? "Before the first event." : "Nothing changed but the version."} />
          </div>
          <div className="panel">
            <h3>Context</h3>
            <span className="sr-status" data-testid="replayed-status" data-status={state.status} hidden />
            <JsonBlock value={state.context} label="Context at position" />
          </div>
          <div className="panel">
            <h3>Logs up to here <span className="muted">({state.context.logCount.toLocaleString()})</span></h3>
            <div className="logs" data-testid="history-logs">
              {logs.length === 0 && <p className="muted">No log lines yet.</p>}
              {logs.map(({ index, event, at }) => (
                <div key={index} className={`log-line log-${event.level}`}>
                  <span className="log-time">{new Date(at).toLocaleTimeString()}</span>
                  <span className="log-level">{event.level}</span>
                  <span className="log-message">{event.message}</span>
                  {event.data !== undefined && <span className="log-data">{JSON.stringify(event.data)}</span>}
                </div>
              ))}
            </div>
          </div>
          {props.taskId !== undefined && (
            <div className="panel">
              <h3>Forks</h3>
              <ForkList taskId={props.taskId} definitionId={history.final.context.definitionId} />
            </div>
          )}
        </div>
      </div>
    </section>
  )
}

/** Decodes and folds, timing each in the page's performance timeline (`history-decode`, `history-fold`) for the measurements. */
const timedLoad = (envelopes: ReadonlyArray<unknown>) => {
  const start = performance.now()
  const events = HistoryModel.decode(envelopes)
  const decoded = performance.now()
  performance.measure("history-decode", { start, end: decoded, detail: envelopes.length })
  if (events instanceof HistoryModel.HistoryLoadError) return events
  const history = HistoryModel.fold(envelopes, events)
  performance.measure("history-fold", { start: decoded, end: performance.now(), detail: envelopes.length })
  return history
}

/** Fetches a task's history (paged) and its projection, and folds it; a live task is followed until both describe the same version. */
const loadTaskHistory = async (client: DaemonClient, taskId: Ids.TaskId, onProgress: (loaded: number) => void) => {
  const start = performance.now()
  const first = await fetchHistory(client, taskId, { onProgress })
  if (first instanceof HistoryModel.HistoryLoadError) return first
  const envelopes = [...first.envelopes]
  const events = [...first.events]
  let projection = await client.call((c) => c.GetTask({ taskId }))
  for (let attempt = 0; projection.context.version > envelopes.length && attempt < 4; attempt++) {
    const more = await fetchHistory(client, taskId, { fromVersion: envelopes.length + 1 })
    if (more instanceof HistoryModel.HistoryLoadError) return more
    for (let i = 0; i < more.events.length; i++) envelopes.push(more.envelopes[i]!), events.push(more.events[i]!)
    projection = await client.call((c) => c.GetTask({ taskId }))
  }
  const fetched = performance.now()
  performance.measure("history-fetch", { start, end: fetched, detail: envelopes.length })
  const history = HistoryModel.fold(envelopes, events)
  performance.measure("history-fold", { start: fetched, end: performance.now(), detail: envelopes.length })
  return history instanceof HistoryModel.HistoryLoadError ? history : { history, projection }
}

/** A task's history from the daemon, checked against its projection. */
export const TaskHistoryView = ({ taskId }: { readonly taskId: Ids.TaskId }) => {
  const { client } = useApp()
  const [progress, setProgress] = useState(0)
  const [generation, setGeneration] = useState(0)
  const load = useLoad(async (signal) => {
    setProgress(0)
    let result: Awaited<ReturnType<typeof loadTaskHistory>>
    try {
      result = await loadTaskHistory(client, taskId, (loaded) => !signal.aborted && setProgress(loaded))
    } catch (cause) {
      throw new Error(`Could not load the history of ${taskId}: ${describeError(cause)}`)
    }
    if (result instanceof HistoryModel.HistoryLoadError) throw new Error(`This task's history does not replay: ${result.message}`)
    return result
  }, [client, taskId, generation])
  const loaded = load.value
  const error = load.loading ? "" : load.error
  const back = { href: Router.href({ view: "task", taskId }), label: "← Task" }
  if (loaded === undefined) {
    return (
      <section className="view history-view">
        <a href={back.href} className="back">{back.label}</a>
        {error ? <ErrorBanner message={error} /> : <p className="muted" data-testid="history-loading">Loading history…{progress > 0 && ` ${progress.toLocaleString()} events`}</p>}
      </section>
    )
  }
  const c = loaded.history.final.context
  return (
    <HistoryScreen
      key={generation}
      history={loaded.history}
      projection={loaded.projection}
      title={`History of ${c.name ?? c.definitionId}`}
      back={back}
      taskId={taskId}
      onReload={() => setGeneration((g) => g + 1)}
    />
  )
}

/** An opened history file: read-only, no daemon needed. */
export const FileHistoryView = () => {
  const opened = useOpened()
  const loaded = useMemo(() => (opened === undefined || "error" in opened ? undefined : timedLoad(opened.envelopes)), [opened])
  useEffect(() => {
    if (loaded !== undefined && !(loaded instanceof HistoryModel.HistoryLoadError)) performance.mark("history-first-render")
  }, [loaded])
  if (opened === undefined) {
    return (
      <section className="view history-view">
        <p className="muted">Open an exported history file (Open history… above, or drop a <span className="mono">.json</span> file on the window).</p>
      </section>
    )
  }
  const error = "error" in opened ? opened.error : loaded instanceof HistoryModel.HistoryLoadError ? `${opened.name} does not replay: ${loaded.message}` : ""
  if (error || loaded === undefined || loaded instanceof HistoryModel.HistoryLoadError) {
    return (
      <section className="view history-view">
        <h2>Could not open {opened.name}</h2>
        <ErrorBanner message={error} />
        <p className="muted">Open a file written by <span className="mono">tasklane export</span> (Open history… above, or drop it on the window).</p>
      </section>
    )
  }
  const c = loaded.final.context
  return <HistoryScreen key={opened.name + loaded.events.length} history={loaded} title={`${opened.name}: ${c.name ?? c.definitionId}`} readOnlyNote />
}
