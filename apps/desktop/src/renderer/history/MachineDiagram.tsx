/**
 * The task state machine as an SVG diagram: states and transitions read from
 * `TaskMachine.taskMachine`'s config (so a new transition shows up here by
 * itself), laid out left to right in lifecycle order, the current state
 * highlighted. Hovering an arrow names the events that take it.
 */
import type { TaskMachine } from "@tasklane/core/client"
import * as HistoryModel from "./HistoryModel.ts"

const boxW = 104
const boxH = 26

/** Where each known state sits; an unknown (future) state goes into a spare row below. */
const layout: Record<string, { x: number; y: number }> = {
  untriggered: { x: 8, y: 62 },
  triggered: { x: 148, y: 62 },
  running: { x: 300, y: 20 },
  continue: { x: 300, y: 112 },
  done: { x: 470, y: 6 },
  error: { x: 470, y: 46 },
  aborted: { x: 470, y: 86 },
  maxIterations: { x: 470, y: 126 },
}

const states = HistoryModel.machineStates()
const positions = new Map(states.map((s, i) => [s.name, layout[s.name] ?? { x: 8 + (i % 5) * 130, y: 170 }]))
const height = Math.max(...[...positions.values()].map((p) => p.y)) + boxH + 8

/** The point where the segment from the centre of `a` towards `b` leaves box `a`. */
const exit = (a: { x: number; y: number }, b: { x: number; y: number }) => {
  const ax = a.x + boxW / 2, ay = a.y + boxH / 2
  const dx = b.x + boxW / 2 - ax, dy = b.y + boxH / 2 - ay
  const t = Math.min(Math.abs((boxW / 2) / (dx || 1e-9)), Math.abs((boxH / 2) / (dy || 1e-9)))
  return { x: ax + dx * t, y: ay + dy * t }
}

const edges = states.flatMap((from) =>
  from.targets.flatMap(({ to, events }) => {
    const a = positions.get(from.name), b = positions.get(to as TaskMachine.Status)
    if (a === undefined || b === undefined) return []
    // Two-way pairs (running ⇄ continue) are drawn side by side, not on top of each other.
    const twoWay = states.some((s) => s.name === to && s.targets.some((t) => t.to === from.name))
    const p = exit(a, b), q = exit(b, a)
    const len = Math.hypot(q.x - p.x, q.y - p.y) || 1
    const shift = twoWay ? 5 : 0
    const nx = (-(q.y - p.y) / len) * shift, ny = ((q.x - p.x) / len) * shift
    return [{ key: `${from.name}-${to}`, from: from.name, to, events, x1: p.x + nx, y1: p.y + ny, x2: q.x + nx, y2: q.y + ny }]
  })
)

/** The machine with `status` highlighted (and the arrow that led there, if `previous` differs). */
export const MachineDiagram = ({ status, previous }: { readonly status: TaskMachine.Status; readonly previous?: TaskMachine.Status | undefined }) => (
  <svg className="machine" viewBox={`0 0 ${470 + boxW + 8} ${height}`} role="img" aria-label={`State machine, current state ${status}`}>
    <defs>
      <marker id="machine-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M0,0 L8,4 L0,8 z" className="machine-arrowhead" />
      </marker>
      <marker id="machine-arrow-taken" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M0,0 L8,4 L0,8 z" className="machine-arrowhead taken" />
      </marker>
    </defs>
    {edges.map((e) => {
      const taken = previous !== undefined && previous !== status && e.from === previous && e.to === status
      return (
        <line key={e.key} className={`machine-edge${taken ? " taken" : ""}`} x1={e.x1} y1={e.y1} x2={e.x2} y2={e.y2}
          markerEnd={`url(#${taken ? "machine-arrow-taken" : "machine-arrow"})`}>
          <title>{`${e.from} → ${e.to}: ${e.events.join(", ")}`}</title>
        </line>
      )
    })}
    {states.map((s) => {
      const p = positions.get(s.name)!
      const current = s.name === status
      return (
        <g key={s.name} className={`machine-state state-${s.name}${current ? " current" : ""}${s.final ? " final" : ""}`}
          data-state={s.name} data-current={current || undefined} transform={`translate(${p.x},${p.y})`}>
          <rect width={boxW} height={boxH} rx={s.final ? 13 : 4} />
          <text x={boxW / 2} y={boxH / 2 + 4} textAnchor="middle">{s.name}</text>
        </g>
      )
    })}
  </svg>
)
