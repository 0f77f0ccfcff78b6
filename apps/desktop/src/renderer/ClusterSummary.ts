/**
 * The cluster as the status bar shows it, from `Info.cluster`: a short label
 * ("cluster: 3 nodes (2 live)"), a plain-text tooltip, and one row per node.
 * Pure: the daemon reckons heartbeat ages by its own clock, so nothing here
 * reads this machine's clock.
 */
import type { TaskRpc } from "@tasklane/core/client"
import { duration } from "./Format.ts"

/** One node as a row of the list. */
export interface ClusterRow {
  readonly id: string
  readonly host: string
  /** The daemon this window talks to. */
  readonly self: boolean
  readonly live: boolean
  /** `1.2 s ago`. */
  readonly heartbeat: string
  readonly running: number
}

/** What the status bar shows of the cluster. */
export interface ClusterSummary {
  readonly label: string
  readonly title: string
  readonly rows: ReadonlyArray<ClusterRow>
}

/** The summary of a cluster this daemon is a node of; no nodes means the daemon could not read them. */
export const clusterSummary = (cluster: TaskRpc.ClusterInfo): ClusterSummary => {
  const rows = cluster.nodes.map((node): ClusterRow => ({
    id: node.id,
    host: node.host,
    self: node.id === cluster.nodeId,
    live: node.live,
    heartbeat: `${duration(node.heartbeatAgeMs)} ago`,
    running: node.running,
  }))
  const live = rows.filter((row) => row.live).length
  const label = rows.length === 0
    ? `cluster: node ${cluster.nodeId}`
    : `cluster: ${rows.length} node${rows.length === 1 ? "" : "s"} (${live} live)`
  const title = rows.length === 0
    ? `this daemon is node ${cluster.nodeId}; the cluster's nodes could not be read`
    : rows.map((row) =>
      `${row.id}${row.self ? " (this daemon)" : ""} on ${row.host}: ${row.live ? "live" : "lost"}, heartbeat ${row.heartbeat}, ${row.running} running`
    ).join("\n")
  return { label, title, rows }
}
