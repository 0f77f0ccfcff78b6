/**
 * What every view gets from the app root: the daemon client and the live
 * task store, plus hooks that re-render on their changes (each one
 * {@link useObservable} over one model).
 */
import { createContext, useContext, useEffect, useState } from "react"
import type { ConnectionStatus, DaemonClient } from "./DaemonClient.ts"
import type { LiveSnapshot, LiveTasks } from "./LiveTasks.ts"
import { useObservable } from "./useObservable.ts"

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
export const useStoreVersion = (): number => useObservable(useApp().live.store)

/** The connection status. */
export const useConnection = (): ConnectionStatus => useObservable(useApp().client.connection)

/** The latest `Info` and the live-update problem. */
export const useLive = (): LiveSnapshot => useObservable(useApp().live)

/** Re-renders every `ms` while mounted (running durations). */
export const useTick = (ms: number): void => {
  const [, setTick] = useState(0)
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), ms)
    return () => clearInterval(timer)
  }, [ms])
}
