/**
 * What `tasklane daemon status` prints for a daemon that answered Info: its
 * identity and figures, the event store (which one, where, its health), and,
 * when the daemon is a node of a cluster, the cluster's nodes as a table.
 * Pure: Info in, text out (colours only on a TTY, see Output.style); the
 * command in CommandsDaemon.ts does the asking and the printing.
 */
import type { StoreHealth, TaskRpc } from "@tasklane/core"
import * as Output from "./Output.ts"

/** The store's health as status lines: ok, degraded or failed with the error, and any damage found. */
const storeLines = (health: StoreHealth.StoreHealth | undefined): ReadonlyArray<string> => {
  if (health === undefined) return []
  const since = health.since === undefined ? "" : ` since ${Output.time(health.since)}`
  const state = health.status === "ok"
    ? Output.style.green("ok")
    : `${Output.style.red(health.status.toUpperCase())}${since}: ${health.error ?? "unknown error"}`
  return [`store        ${state}`, ...health.damage.map((damage) => `  ${Output.style.yellow("damage")} ${damage}`)]
}

const storeNames: Record<TaskRpc.StoreKind, string> = { leveldb: "LevelDB", postgres: "PostgreSQL", memory: "in memory" }

/** Which store, and where (a URL comes without its password); nothing from a daemon that does not say. */
const storeKindLines = (info: TaskRpc.DaemonInfo): ReadonlyArray<string> =>
  info.storeKind === undefined
    ? []
    : [`event store  ${storeNames[info.storeKind]}${info.storeLocation === undefined ? "" : ` at ${info.storeLocation}`}`]

/** An age in ms as people read it: `0.4 s ago`, `42 s ago`, `3 min ago`, `2 h ago`. */
export const ago = (ms: number): string => {
  const seconds = Math.max(0, ms) / 1000
  if (seconds < 10) return `${seconds.toFixed(1)} s ago`
  if (seconds < 60) return `${Math.floor(seconds)} s ago`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  return `${Math.floor(seconds / 3600)} h ago`
}

/** The cluster section: this node, then every node with its state, last heartbeat and running count. */
export const clusterLines = (cluster: TaskRpc.ClusterInfo): ReadonlyArray<string> => {
  const live = cluster.nodes.filter((node) => node.live).length
  if (cluster.nodes.length === 0) {
    return [`cluster      this daemon is node ${cluster.nodeId}; the cluster's nodes could not be read (the daemon logs why at debug level)`]
  }
  const rows = cluster.nodes.map((node) => [
    node.id === cluster.nodeId ? `${node.id} *` : node.id,
    node.host,
    String(node.pid),
    node.live ? Output.style.green("live") : Output.style.red("lost"),
    ago(node.heartbeatAgeMs),
    String(node.running),
    String(node.epoch),
  ])
  return [
    `cluster      this daemon is node ${cluster.nodeId} (*); ${cluster.nodes.length} node${cluster.nodes.length === 1 ? "" : "s"}, ${live} live`,
    ...Output.tableLines(["node", "host", "pid", "state", "heartbeat", "running", "epoch"], rows).map((line) => `  ${line}`),
  ]
}

/** The whole status text for a daemon that answered; `webUrl` when it serves the web UI. */
export const statusText = (info: TaskRpc.DaemonInfo, webUrl: string | undefined): string =>
  [
    `tasklane daemon ${info.version} (pid ${info.pid}), up since ${Output.time(info.startedAt)}`,
    `data dir     ${info.dataDir}`,
    `concurrency  ${info.concurrency}; ${info.running} running, ${info.queued} queued`,
    `tasks        ${Object.entries(info.counts).map(([s, n]) => `${s} ${n}`).join(", ") || "none"}`,
    ...storeKindLines(info),
    ...storeLines(info.store),
    ...(info.retention === undefined ? [] : [
      `store size   ${Output.bytes(info.retention.sizeOnDisk)}; oldest retained position ${info.retention.oldestRetained}` +
      (info.retention.prunedThrough === 0 ? "" : ` (pruned through ${info.retention.prunedThrough})`),
    ]),
    ...(webUrl === undefined ? [] : [`web UI       ${webUrl}`]),
    ...(info.cluster === undefined ? [] : clusterLines(info.cluster)),
  ].join("\n")
