/**
 * The History view's event list: every event of the history (position,
 * stream version, time, type, iteration after it, a one-line payload
 * summary), virtualized with fixed-height rows so 100,000 events scroll
 * smoothly, filtered by event type and by text in the JSON payloads. The row
 * of the current position is highlighted and kept in view; clicking a row
 * moves the position to just after that event.
 */
import { TaskEvent } from "@tasklane/core/client"
import { useVirtualizer } from "@tanstack/react-virtual"
import { useEffect, useMemo, useRef, useState } from "react"
import * as HistoryModel from "./HistoryModel.ts"

const rowHeight = 26

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3, hour12: false })

/** The first index in sorted `list` that is ≥ `value`. */
const lowerBound = (list: ReadonlyArray<number>, value: number): number => {
  let lo = 0, hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (list[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The filterable, virtualized list. `position` is "after n events"; `onSeek(n)` moves it. */
export const EventList = ({ history, position, onSeek }: {
  readonly history: HistoryModel.History
  readonly position: number
  readonly onSeek: (position: number) => void
}) => {
  const counts = useMemo(() => {
    const out = new Map<string, number>()
    for (const e of history.events) out.set(e.event._tag, (out.get(e.event._tag) ?? 0) + 1)
    return out
  }, [history])
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set())
  const [text, setText] = useState("")
  const searchable = useRef<ReadonlyArray<string> | undefined>(undefined)
  const rows = useMemo(() => {
    const types = new Set(TaskEvent.eventTypes.filter((t) => !hidden.has(t)))
    return HistoryModel.filter(history, types, text, () => (searchable.current ??= HistoryModel.searchText(history)))
  }, [history, hidden, text])

  const scroller = useRef<HTMLDivElement>(null)
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => rowHeight, overscan: 10 })
  const currentRow = position === 0 ? -1 : lowerBound(rows, position - 1)
  useEffect(() => {
    if (currentRow >= 0 && currentRow < rows.length) virtualizer.scrollToIndex(currentRow, { align: "auto" })
  }, [currentRow, rows, virtualizer])

  const toggle = (type: string) =>
    setHidden((old) => {
      const next = new Set(old)
      if (!next.delete(type)) next.add(type)
      return next
    })

  return (
    <div className="event-list">
      <div className="toolbar event-filters">
        <details className="type-filter">
          <summary>Types ({counts.size - [...hidden].filter((t) => counts.has(t)).length}/{counts.size})</summary>
          <div className="type-filter-menu">
            {[...counts].map(([type, count]) => (
              <label key={type}>
                <input type="checkbox" checked={!hidden.has(type)} onChange={() => toggle(type)} /> {type} <span className="muted">{count.toLocaleString()}</span>
              </label>
            ))}
            <button type="button" className="link" onClick={() => setHidden(new Set())}>all</button>
          </div>
        </details>
        <input type="search" className="search" placeholder="Search payloads…" aria-label="Search event payloads" value={text}
          onChange={(e) => setText(e.target.value)} />
        <span className="muted count" data-testid="event-count">{rows.length.toLocaleString()} of {history.events.length.toLocaleString()} events</span>
      </div>
      <div className="event-row event-head" aria-hidden>
        <span>pos</span><span>ver</span><span>time</span><span>type</span><span className="col-iter">iter</span><span>payload</span>
      </div>
      <div ref={scroller} className="event-scroll" data-testid="event-scroll">
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {virtualizer.getVirtualItems().map((item) => {
            const index = rows[item.index]!
            const e = history.events[index]!
            return (
              <div key={item.key} className={`event-row virtual-row type-${e.event._tag}${index === position - 1 ? " current" : index >= position ? " future" : ""}`}
                style={{ transform: `translateY(${item.start}px)`, height: rowHeight }} data-index={index} onClick={() => onSeek(index + 1)}>
                <span className="mono">{e.position}</span>
                <span className="mono">{e.version}</span>
                <span className="mono muted">{clock.format(e.at)}</span>
                <span className="event-type">{e.event._tag}</span>
                <span className="col-iter">{history.iterations[index]}</span>
                <span className="event-summary">{HistoryModel.summary(history, index)}</span>
              </div>
            )
          })}
        </div>
      </div>
    </div>
  )
}
