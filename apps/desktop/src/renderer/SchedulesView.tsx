/**
 * The Schedules view: every recurring schedule the daemon keeps (added with
 * `tasklane schedule add`, or declared by a definition's `schedules`), each
 * as a card with its definition, cron and zone, overlap and catch-up, the
 * next runs, and the latest firings with their task's status (linked to the
 * task). Actions: pause or resume, trigger now (a task outside the slots;
 * the card links it), and remove (confirmed; a declared schedule comes back
 * at the next daemon start, so the dialog says to pause it instead). History
 * opens the schedule's every record under the card (ScheduleHistory.tsx).
 *
 * Data: `ScheduleList` on open, every {@link refreshMs} while open, after
 * each action and on every reconnect; a failed load keeps what was shown and
 * says why.
 */
import type { Effect } from "effect"
import { useEffect, useState } from "react"
import { useApp, useConnection } from "./AppContext.ts"
import { describeError, type TaskClient } from "./DaemonClient.ts"
import * as Format from "./Format.ts"
import * as Router from "./Router.ts"
import { ScheduleHistory } from "./ScheduleHistory.tsx"
import "./SchedulesView.css"
import { ConfirmDialog, ErrorBanner, StatusBadge } from "./Widgets.tsx"
import { useLoad } from "./useLoad.ts"

/** A schedule as `ScheduleList` answers it. */
type ScheduleInfo = Effect.Success<ReturnType<TaskClient["ScheduleList"]>>[number]
type Firing = NonNullable<ScheduleInfo["recentFirings"]>[number]

/** How often the open view reloads the list (slots fire on their own). */
const refreshMs = 2000

const outcomeLabel: Record<Firing["outcome"], string> = {
  fired: "fired",
  skipped: "skipped (overlap)",
  queued: "queued",
  refused: "refused",
  manual: "triggered now",
}

const FiringRow = ({ firing }: { readonly firing: Firing }) => (
  <li className="schedule-firing" data-outcome={firing.outcome}>
    <span className="schedule-time">{Format.time(firing.slot ?? firing.at)}</span>
    <span className="muted">{outcomeLabel[firing.outcome]}</span>
    {firing.taskId !== undefined && (
      <a className="mono" href={Router.href({ view: "task", taskId: firing.taskId })} title="Open the task">
        {firing.status === undefined ? <span className="muted">deleted task</span> : <StatusBadge status={firing.status} />}
      </a>
    )}
    {firing.error !== undefined && <span className="error-message">{firing.error}</span>}
  </li>
)

const ScheduleCard = ({ schedule, onChanged }: { readonly schedule: ScheduleInfo; readonly onChanged: () => void }) => {
  const { client } = useApp()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState("")
  const [confirming, setConfirming] = useState(false)
  const [triggered, setTriggered] = useState<string | undefined>(undefined)
  const [historyOpen, setHistoryOpen] = useState(false)
  const declared = schedule.source === "definition"
  const act = (what: string, run: () => Promise<unknown>) => {
    setBusy(true)
    setError("")
    run().then(onChanged, (cause: unknown) => setError(`${what} failed: ${describeError(cause)}`)).finally(() => setBusy(false))
  }
  const scheduleId = schedule.id
  const firings = schedule.recentFirings ?? []
  return (
    <article className="panel schedule-card" data-testid={`schedule-${schedule.id}`} data-paused={String(schedule.paused)}>
      <header className="schedule-head">
        <h3>{schedule.name ?? schedule.id}</h3>
        <span className={`badge ${schedule.paused ? "badge-aborted" : "badge-done"}`} data-testid="schedule-state">
          {schedule.paused ? "paused" : "active"}
        </span>
        {schedule.queuedSlot !== undefined && <span className="badge" title={`slot ${Format.time(schedule.queuedSlot)} waits for the last task`}>1 queued</span>}
        <span className="badge" title={declared ? "declared by its definition's schedules" : "added with schedule add"}>
          {declared ? "definition" : "user"}
        </span>
        <span className="spacer" />
        <div className="schedule-actions">
          {schedule.paused
            ? <button disabled={busy} onClick={() => act("Resume", () => client.call((c) => c.ScheduleResume({ scheduleId })))}>Resume</button>
            : <button disabled={busy} onClick={() => act("Pause", () => client.call((c) => c.SchedulePause({ scheduleId })))}>Pause</button>}
          <button
            disabled={busy}
            onClick={() =>
              act("Trigger now", () => client.call((c) => c.ScheduleTriggerNow({ scheduleId })).then((task) => setTriggered(task.context.taskId)))}
          >
            Trigger now
          </button>
          <button className="danger" disabled={busy} onClick={() => setConfirming(true)}>Remove</button>
        </div>
      </header>
      <ErrorBanner message={error} onDismiss={() => setError("")} />
      {triggered !== undefined && (
        <p className="fork-note">
          Triggered <a className="mono" href={Router.href({ view: "task", taskId: triggered })}>{triggered}</a>.
        </p>
      )}
      <dl className="facts">
        <dt>Id</dt><dd className="mono">{schedule.id}</dd>
        <dt>Definition</dt>
        <dd><a className="mono" href={Router.href({ view: "definitions", definitionId: schedule.definitionId })}>{schedule.definitionId}</a></dd>
        <dt>Cron</dt><dd><span className="mono">{schedule.cron}</span> <span className="muted">({schedule.tz ?? "UTC"})</span></dd>
        <dt>Overlap</dt><dd>{schedule.overlap}; catch-up {schedule.catchUp}</dd>
        <dt>Next runs</dt>
        <dd data-testid="schedule-next">
          {schedule.paused || schedule.nextRuns === undefined || schedule.nextRuns.length === 0
            ? <span className="muted">{schedule.paused ? "none while paused" : "—"}</span>
            : schedule.nextRuns.map((slot) => <span key={slot} className="schedule-time">{Format.time(slot)}</span>)}
        </dd>
        <dt>Last firings</dt>
        <dd>
          {firings.length === 0
            ? <span className="muted">none yet</span>
            : <ul className="schedule-firings" data-testid="schedule-firings">{firings.map((f, i) => <FiringRow key={`${f.at}/${i}`} firing={f} />)}</ul>}
        </dd>
      </dl>
      <button className="link" aria-expanded={historyOpen} aria-controls={`history-${scheduleId}`} onClick={() => setHistoryOpen(!historyOpen)}>
        {historyOpen ? "Hide history" : "History"}
      </button>
      {historyOpen && <ScheduleHistory scheduleId={scheduleId} id={`history-${scheduleId}`} />}
      <ConfirmDialog
        open={confirming}
        title={`Remove schedule ${schedule.name ?? schedule.id}?`}
        confirmLabel="Remove"
        onCancel={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false)
          act("Remove", () => client.call((c) => c.ScheduleRemove({ scheduleId })))
        }}
      >
        {declared
          ? "Its definition declares it, so it comes back at the next daemon start. To stop it for good, pause it or remove it from the definition."
          : "No more slots fire; the tasks it started are kept."}
      </ConfirmDialog>
    </article>
  )
}

/** Every schedule, with its actions. */
export const SchedulesView = () => {
  const { client } = useApp()
  const { epoch } = useConnection()
  // Reloaded on every reconnect; an action reloads at once, the timer only when no load is under way.
  const load = useLoad(() => client.call((c) => c.ScheduleList()), [client, epoch])
  const { refresh } = load
  useEffect(() => {
    const timer = setInterval(refresh, refreshMs)
    return () => clearInterval(timer)
  }, [refresh])
  const schedules = load.value
  const error = load.error && `Could not load schedules: ${load.error}`
  return (
    <section className="view schedules-view">
      <ErrorBanner message={error} action={{ label: "retry", run: load.reload }} />
      {schedules === undefined && !error && <p className="muted">Loading…</p>}
      {schedules?.length === 0 && (
        <p className="empty">
          No schedules. Add one with <span className="mono">tasklane schedule add</span>, or declare <span className="mono">schedules</span> on a task definition.
        </p>
      )}
      {schedules?.map((s) => <ScheduleCard key={s.id} schedule={s} onChanged={load.reload} />)}
    </section>
  )
}
