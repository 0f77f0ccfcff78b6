/**
 * A schedule card's History panel: every record of the schedule
 * (`ScheduleHistory`, fetched each time the panel opens, not with the list),
 * newest first, as time, kind and details; fired and triggered rows link
 * their task. A long history shows its newest 50 until "show all N". A failed
 * load says why and offers a retry.
 */
import { useState } from "react"
import { useApp } from "./AppContext.ts"
import * as Format from "./Format.ts"
import * as Router from "./Router.ts"
import * as ScheduleHistoryModel from "./ScheduleHistoryModel.ts"
import { ErrorBanner } from "./Widgets.tsx"
import { useLoad } from "./useLoad.ts"

const HistoryRow = ({ row }: { readonly row: ScheduleHistoryModel.Row }) => (
  <tr data-kind={row.kind} data-outcome={row.outcome}>
    <td className="schedule-time">{Format.time(row.at)}</td>
    <td>{row.kind}</td>
    <td>
      <span className="schedule-history-details">
        {row.slot !== undefined && <span>slot <span className="schedule-time">{Format.time(row.slot)}</span></span>}
        {row.taskId !== undefined && (
          <a className="mono" href={Router.href({ view: "task", taskId: row.taskId })} title="Open the task">{row.taskId}</a>
        )}
        {row.details !== "" && <span className={row.outcome === "refused" ? "error-message" : "muted"}>{row.details}</span>}
      </span>
    </td>
  </tr>
)

/** The records of schedule `scheduleId`, loaded when mounted (the card mounts it when History opens). */
export const ScheduleHistory = ({ scheduleId, id }: { readonly scheduleId: string; readonly id: string }) => {
  const { client } = useApp()
  const [showAll, setShowAll] = useState(false)
  const load = useLoad(() => client.call((c) => c.ScheduleHistory({ scheduleId })).then(ScheduleHistoryModel.rows), [client, scheduleId])
  const rows = load.value
  // A retry hides the last failure while it runs, as "Loading…".
  const error = load.error && !load.loading ? `Could not load the history: ${load.error}` : ""
  return (
    <section className="schedule-history" id={id} aria-label="History">
      <ErrorBanner message={error} action={{ label: "retry", run: load.reload }} />
      {rows === undefined && !error && <p className="muted">Loading…</p>}
      {rows !== undefined && (
        <table className="schedule-history-table" data-testid="schedule-history">
          <thead>
            <tr><th>Time</th><th>Kind</th><th>Details</th></tr>
          </thead>
          <tbody>
            {ScheduleHistoryModel.shown(rows, showAll).map((row) => <HistoryRow key={row.key} row={row} />)}
          </tbody>
        </table>
      )}
      {rows !== undefined && !showAll && rows.length > ScheduleHistoryModel.shownAtFirst && (
        <button className="link" onClick={() => setShowAll(true)}>show all {rows.length}</button>
      )}
    </section>
  )
}
