/**
 * The whole history at a glance, above the iteration timeline's window of
 * bars: a thin canvas strip with every iteration attempt in order, one pixel
 * column for as many attempts as it covers, coloured by the most telling
 * outcome among them (a failure shows even among 20,000 continues). The
 * window of bars drawn below is shaded and the current attempt marked;
 * clicking (or dragging) scrubs to the start of the attempt under the
 * pointer. Colours are the `--outcome-*` variables of the timeline's CSS.
 */
import { type PointerEvent, useEffect, useRef } from "react"
import type * as HistoryModel from "./HistoryModel.ts"

/** Which outcome a column shows when it covers several: the highest wins. */
const rank: Record<HistoryModel.Outcome, number> = {
  continued: 0,
  running: 1,
  done: 2,
  maxIterations: 3,
  aborted: 4,
  retry: 5,
  interrupted: 6,
  error: 7,
}
const byRank = Object.keys(rank).sort((a, b) => rank[a as HistoryModel.Outcome] - rank[b as HistoryModel.Outcome]) as ReadonlyArray<HistoryModel.Outcome>

/** The first attempt a column of `columns` covers (columns past the attempts repeat the last one). */
const firstBar = (column: number, columns: number, count: number) => Math.min(count - 1, Math.floor((column * count) / columns))

/** The outcome (as its rank) each of `columns` columns shows. */
export const columnRanks = (bars: ReadonlyArray<HistoryModel.Bar>, columns: number): Uint8Array => {
  const out = new Uint8Array(columns)
  for (let c = 0; c < columns; c++) {
    const end = Math.max(firstBar(c, columns, bars.length) + 1, Math.floor(((c + 1) * bars.length) / columns))
    let best = 0
    for (let i = firstBar(c, columns, bars.length); i < end; i++) best = Math.max(best, rank[bars[i]!.outcome])
    out[c] = best
  }
  return out
}

export const TimelineOverview = (props: {
  readonly bars: ReadonlyArray<HistoryModel.Bar>
  /** The attempts drawn as bars below: `[from, to)`. */
  readonly window: readonly [number, number]
  readonly current: number
  readonly onSeek: (position: number) => void
}) => {
  const { bars, window: [from, to], current } = props
  const canvas = useRef<HTMLCanvasElement>(null)

  useEffect(() => {
    const element = canvas.current
    if (element === null || bars.length === 0) return
    const draw = () => {
      const columns = Math.max(1, Math.round(element.clientWidth * devicePixelRatio))
      element.width = columns
      element.height = 1
      const context = element.getContext("2d")!
      const style = getComputedStyle(element)
      const colours = byRank.map((outcome) => style.getPropertyValue(`--outcome-${outcome}`).trim() || "#999")
      const columnRank = columnRanks(bars, columns)
      for (let c = 0; c < columns; c++) {
        context.fillStyle = colours[columnRank[c]!]!
        context.fillRect(c, 0, 1, 1)
      }
      const x = (bar: number) => (bar / bars.length) * columns
      context.fillStyle = "rgba(31, 35, 40, 0.25)"
      context.fillRect(x(from), 0, Math.max(1, x(to) - x(from)), 1)
      if (current >= 0) {
        context.fillStyle = "#1f2328"
        context.fillRect(Math.min(columns - 2, x(current)), 0, 2, 1)
      }
    }
    draw()
    const observer = new ResizeObserver(draw)
    observer.observe(element)
    return () => observer.disconnect()
  }, [bars, from, to, current])

  const seekTo = (event: PointerEvent<HTMLCanvasElement>) => {
    const box = event.currentTarget.getBoundingClientRect()
    const bar = Math.max(0, Math.min(bars.length - 1, Math.floor(((event.clientX - box.left) / box.width) * bars.length)))
    props.onSeek(bars[bar]!.start + 1)
  }

  return (
    <canvas
      ref={canvas}
      className="timeline-overview"
      data-testid="timeline-overview"
      aria-label={`All ${bars.length.toLocaleString()} iteration attempts; click to jump`}
      onPointerDown={(event) => {
        event.currentTarget.setPointerCapture(event.pointerId)
        seekTo(event)
      }}
      onPointerMove={(event) => event.buttons === 1 && seekTo(event)}
    />
  )
}
