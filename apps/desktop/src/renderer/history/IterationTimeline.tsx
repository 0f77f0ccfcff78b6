/**
 * The iteration timeline: one bar per iteration attempt, from its
 * IterationStarted to the event that ended it, placed on a time axis (width
 * is duration), coloured by outcome; the waits an outcome asked for
 * (continue with a wake time, a retry's delay) are striped gaps; interrupted
 * and retried attempts are marked. At most {@link windowSize} bars around
 * the current position are drawn, so a 20,000-iteration task stays light;
 * above them, a longer history gets an overview strip of every attempt
 * (`TimelineOverview`). Clicking a bar scrubs to its start.
 */
import { useMemo } from "react"
import * as Format from "../Format.ts"
import type * as HistoryModel from "./HistoryModel.ts"
import { TimelineOverview } from "./TimelineOverview.tsx"

/** Bars drawn at once (a window around the current position). */
export const windowSize = 120

const outcomeLabel: Record<HistoryModel.Outcome, string> = {
  continued: "continued",
  done: "done",
  error: "failed",
  retry: "failed, retry scheduled",
  interrupted: "interrupted (daemon stopped)",
  aborted: "aborted",
  maxIterations: "max iterations reached",
  running: "still running",
}

/** The index of the last bar starting at or before event `index` (-1 if none). */
const barAt = (bars: ReadonlyArray<HistoryModel.Bar>, index: number): number => {
  let lo = 0, hi = bars.length - 1, found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (bars[mid]!.start <= index) (found = mid), (lo = mid + 1)
    else hi = mid - 1
  }
  return found
}

/** The timeline; `position` is "after n events", `onSeek` moves it. */
export const IterationTimeline = (props: {
  readonly bars: ReadonlyArray<HistoryModel.Bar>
  readonly position: number
  readonly positionAt: number | undefined
  readonly onSeek: (position: number) => void
}) => {
  const { bars, position } = props
  const current = barAt(bars, position - 1)
  // The window moves in half-window steps, so scrubbing does not shift it on every event.
  const half = windowSize / 2
  const lo = bars.length <= windowSize ? 0 : Math.max(0, Math.min(bars.length - windowSize, Math.floor(Math.max(0, current) / half) * half - half / 2))
  const shown = useMemo(() => bars.slice(lo, lo + windowSize), [bars, lo])
  if (bars.length === 0) return <p className="muted timeline-empty">No iteration has started yet.</p>
  const t0 = shown[0]!.startAt
  const t1 = Math.max(t0 + 1, ...shown.map((b) => Math.max(b.endAt, b.wakeAt ?? 0)))
  const pct = (t: number) => `${(((t - t0) / (t1 - t0)) * 100).toFixed(3)}%`
  const span = (from: number, to: number) => `${(((Math.max(to, from) - from) / (t1 - t0)) * 100).toFixed(3)}%`
  return (
    <div className="timeline" data-testid="timeline">
      {bars.length > windowSize && <TimelineOverview bars={bars} window={[lo, lo + shown.length]} current={current} onSeek={props.onSeek} />}
      <div className="timeline-track">
        {shown.map((bar, i) => (
          <div key={lo + i}>
            {bar.wakeAt !== undefined && bar.wakeAt > bar.endAt && (
              <span className="timeline-wait" style={{ left: pct(bar.endAt), width: span(bar.endAt, bar.wakeAt) }}
                title={`waited ${Format.duration(bar.wakeAt - bar.endAt)} before the next iteration`} />
            )}
            <button
              type="button"
              className={`timeline-bar outcome-${bar.outcome}${lo + i === current ? " current" : ""}`}
              style={{ left: pct(bar.startAt), width: span(bar.startAt, bar.endAt) }}
              data-iteration={bar.iteration}
              data-attempt={bar.attempt}
              title={`iteration ${bar.iteration}, attempt ${bar.attempt}: ${outcomeLabel[bar.outcome]} after ${Format.duration(bar.endAt - bar.startAt)}${bar.why ? ` (${bar.why})` : ""}`}
              aria-label={`Iteration ${bar.iteration} attempt ${bar.attempt}, ${outcomeLabel[bar.outcome]}`}
              onClick={() => props.onSeek(bar.start + 1)}
            >
              {bar.timedOut ? <span className="timeline-mark" title="ran past its timeout">⏱</span>
                : (bar.outcome === "interrupted" || bar.outcome === "retry") && <span className="timeline-mark">{bar.outcome === "retry" ? "↻" : "✕"}</span>}
            </button>
          </div>
        ))}
        {props.positionAt !== undefined && props.positionAt >= t0 && props.positionAt <= t1 && (
          <span className="timeline-cursor" style={{ left: pct(props.positionAt) }} />
        )}
      </div>
      <div className="timeline-legend muted">
        <span>iterations {shown[0]!.iteration}–{shown.at(-1)!.iteration} of {bars.at(-1)!.iteration}, {Format.duration(t1 - t0)}</span>
        <span className="legend-item outcome-continued">continued</span>
        <span className="legend-item outcome-done">done</span>
        <span className="legend-item outcome-error">failed</span>
        <span className="legend-item outcome-retry">retry</span>
        <span className="legend-item outcome-interrupted">interrupted</span>
        <span className="legend-item outcome-aborted">aborted</span>
        <span className="legend-item timeline-wait-legend">wait</span>
      </div>
    </div>
  )
}
