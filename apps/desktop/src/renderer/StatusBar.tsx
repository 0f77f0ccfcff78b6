/**
 * The status bar: connection state (with the reason while reconnecting),
 * running and queued counts from `Info` (polled every second), the event
 * store's health when it is not plain ok (`degraded`/`failed` with the write
 * error, or damage found at open), the cluster's nodes when the daemon is a
 * node of one (ClusterState), live-update problems, and the daemon's version.
 */
import type { StoreHealth } from "@tasklane/core/client"
import { useConnection, useLive } from "./AppContext.ts"
import { ClusterState } from "./ClusterState.tsx"

/** The store's health in a few words, with the full story in the tooltip; nothing while it is ok and undamaged. */
const StoreState = ({ health }: { readonly health: StoreHealth.StoreHealth | undefined }) => {
  if (health === undefined || (health.status === "ok" && health.damage.length === 0)) return null
  const label = health.status === "ok" ? "store: damage found" : `store ${health.status}: ${health.error ?? "unknown error"}`
  const title = [health.status === "ok" ? undefined : label, ...health.damage.map((damage) => `damage: ${damage}`)].filter(Boolean).join("\n")
  return (
    <span className="status-problem" data-testid="store-health" data-status={health.status} title={title}>
      {label}
    </span>
  )
}

/** The bar at the bottom of every view. */
export const StatusBar = () => {
  const connection = useConnection()
  const { info, problem } = useLive()
  const label = connection.state === "connected" ? "connected" : connection.state === "connecting" ? "connecting…" : "reconnecting…"
  return (
    <footer className="status-bar" data-connection={connection.state}>
      <span className={`dot dot-${connection.state}`} aria-hidden />
      <span className="status-connection">{label}</span>
      {connection.state !== "connected" && connection.detail && <span className="status-detail" title={connection.detail}>{connection.detail}</span>}
      {info && (
        <>
          <span className="sep" />
          <span data-testid="running">{info.running} running</span>
          <span data-testid="queued">{info.queued} queued</span>
          <StoreState health={info.store} />
          {info.cluster && <ClusterState cluster={info.cluster} />}
        </>
      )}
      {problem && <span className="status-problem" title={problem}>{problem}</span>}
      <span className="spacer" />
      {info && <span className="muted">tasklane {info.version}</span>}
    </footer>
  )
}
