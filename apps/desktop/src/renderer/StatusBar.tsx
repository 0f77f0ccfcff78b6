/**
 * The status bar: connection state (with the reason while reconnecting),
 * running and queued counts from `Info` (polled every second), live-update
 * problems, and the daemon's version.
 */
import { useApp, useConnection, useInfo } from "./AppContext.ts"

/** The bar at the bottom of every view. */
export const StatusBar = () => {
  const { live } = useApp()
  const connection = useConnection()
  const info = useInfo()
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
        </>
      )}
      {live.problem && <span className="status-problem" title={live.problem}>{live.problem}</span>}
      <span className="spacer" />
      {info && <span className="muted">tasklane {info.version}</span>}
    </footer>
  )
}
