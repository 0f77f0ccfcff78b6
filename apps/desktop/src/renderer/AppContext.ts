/**
 * What every view gets from the app root: the daemon client and the live
 * task store, plus hooks that re-render on their changes.
 */
import { createContext, useContext, useEffect, useState, useSyncExternalStore } from "react"
import type { ConnectionStatus, DaemonClient } from "./DaemonClient.ts"
import type { LiveTasks } from "./LiveTasks.ts"

/** The app's services. */
export interface App {
  readonly client: DaemonClient
  readonly live: LiveTasks
}

/** Provided once by the root. */
export const AppContext = createContext<App | undefined>(undefined)

/** The app's services (inside the root only). */
export const useApp = (): App => {
  const app = useContext(AppContext)
  if (app === undefined) throw new Error("useApp outside AppContext")
  return app
}

/** The store's revision: re-renders once per batch of live changes. */
export const useStoreVersion = (): number => {
  const { live } = useApp()
  return useSyncExternalStore((listener) => live.store.subscribe(listener), () => live.store.version)
}

/** The connection status. */
export const useConnection = (): ConnectionStatus => {
  const { client } = useApp()
  return useSyncExternalStore(client.onStatus, client.status)
}

/** Re-renders when `Info` or the live-update problem changes. */
export const useInfo = (): LiveTasks["info"] => {
  const { live } = useApp()
  const [, setTick] = useState(0)
  useEffect(() => live.onInfo(() => setTick((n) => n + 1)), [live])
  return live.info
}

/** Re-renders every `ms` while mounted (running durations). */
export const useTick = (ms: number): void => {
  const [, setTick] = useState(0)
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), ms)
    return () => clearInterval(timer)
  }, [ms])
}
