/**
 * The status bar's cluster entry, shown when the daemon is a node of a
 * cluster: "cluster: N nodes (M live)", the node list in its tooltip; a
 * click on it opens the list above the bar (id, live or lost, heartbeat age,
 * running), another click or Escape closes it.
 */
import type { TaskRpc } from "@tasklane/core/client"
import { useState } from "react"
import { clusterSummary } from "./ClusterSummary.ts"

/** The cluster entry of the status bar. */
export const ClusterState = ({ cluster }: { readonly cluster: TaskRpc.ClusterInfo }) => {
  const [open, setOpen] = useState(false)
  const summary = clusterSummary(cluster)
  return (
    <span className="cluster-state" data-testid="cluster" onKeyDown={(e) => e.key === "Escape" && setOpen(false)}>
      <button type="button" className="link" title={summary.title} aria-expanded={open} onClick={() => setOpen(!open)}>
        {summary.label}
      </button>
      {open && (
        <div className="cluster-nodes" data-testid="cluster-nodes">
          {summary.rows.length === 0
            ? <span className="muted">{summary.title}</span>
            : (
              <table>
                <thead>
                  <tr><th>node</th><th>host</th><th>state</th><th>heartbeat</th><th>running</th></tr>
                </thead>
                <tbody>
                  {summary.rows.map((row) => (
                    <tr key={row.id} data-node={row.id} data-live={row.live}>
                      <td>{row.id}{row.self && <span className="muted"> (this daemon)</span>}</td>
                      <td>{row.host}</td>
                      <td className={row.live ? "node-live" : "node-lost"}>{row.live ? "live" : "lost"}</td>
                      <td>{row.heartbeat}</td>
                      <td>{row.running}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
        </div>
      )}
    </span>
  )
}
