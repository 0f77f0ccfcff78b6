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
import * as HistoryModel from "./HistoryModel.ts"

/** The outcomes in rank order, so a column's rank indexes its colour. */
const byRank = (Object.keys(HistoryModel.outcomeRank) as Array<HistoryModel.Outcome>).sort((a, b) => HistoryModel.outcomeRank[a] - HistoryModel.outcomeRank[b])

/** The overview strip; `window` is the range of bars drawn below, `current` the attempt at the position. */
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
      const columnRank = HistoryModel.columnRanks(bars, columns)
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
