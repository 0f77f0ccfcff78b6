/**
 * The app root: picks the host bridge (Electron's `window.tasklane`, else the
 * browser's {@link WebBridge}), connects the {@link DaemonClient}, starts the
 * live store, and renders the navigation, the routed view and the status bar.
 */
import { DesktopBridge, type Ids } from "@tasklane/core/client"
import { useEffect, useMemo } from "react"
import { type App as Services, AppContext } from "./AppContext.ts"
import * as DaemonClient from "./DaemonClient.ts"
import { DefinitionsView } from "./DefinitionsView.tsx"
import { FileHistoryView, TaskHistoryView } from "./history/HistoryView.tsx"
import * as OpenedHistory from "./history/OpenedHistory.tsx"
import { LiveTasks } from "./LiveTasks.ts"
import * as Router from "./Router.ts"
import { SchedulesView } from "./SchedulesView.tsx"
import { StatusBar } from "./StatusBar.tsx"
import { TaskDetailView } from "./TaskDetailView.tsx"
import { TaskListView } from "./TaskListView.tsx"
import * as WebBridge from "./WebBridge.ts"

/** The host's bridge: the preload's in Electron, a WebSocket one in a browser. */
const hostBridge = (): DesktopBridge.DesktopBridge =>
  (globalThis as unknown as Record<string, DesktopBridge.DesktopBridge | undefined>)[DesktopBridge.globalName] ?? WebBridge.make()

/** Creates the app's services once (and keeps the bridge for opened history files). */
const createServices = (): Services & { readonly bridge: DesktopBridge.DesktopBridge } => {
  const bridge = hostBridge()
  const client = DaemonClient.connect(bridge)
  return { bridge, client, live: new LiveTasks(client) }
}

const Routed = () => {
  const route = Router.useRoute()
  switch (route.view) {
    case "tasks":
      return <TaskListView />
    case "task":
      return <TaskDetailView key={route.taskId} taskId={route.taskId as Ids.TaskId} />
    case "history":
      return <TaskHistoryView key={route.taskId} taskId={route.taskId as Ids.TaskId} />
    case "historyFile":
      return <FileHistoryView />
    case "definitions":
      return <DefinitionsView definitionId={route.definitionId} fork={route.fork} />
    case "schedules":
      return <SchedulesView />
  }
}

/** The whole UI. */
export const App = () => {
  const services = useMemo(createServices, [])
  useEffect(() => () => {
    services.live.dispose()
    services.client.close()
  }, [services])
  OpenedHistory.useOpenSources(services.bridge)
  const route = Router.useRoute()
  const section = route.view === "definitions" || route.view === "schedules" ? route.view : "tasks"
  return (
    <AppContext.Provider value={services}>
      <div className="app">
        <header className="top-bar">
          <span className="brand">Tasklane</span>
          <nav>
            <a href={Router.href({ view: "tasks" })} className={section === "tasks" ? "active" : ""}>Tasks</a>
            <a href={Router.href({ view: "definitions" })} className={section === "definitions" ? "active" : ""}>Definitions</a>
            <a href={Router.href({ view: "schedules" })} className={section === "schedules" ? "active" : ""}>Schedules</a>
          </nav>
          <span className="spacer" />
          <OpenedHistory.OpenHistoryButton />
        </header>
        <main className="content"><Routed /></main>
        <StatusBar />
      </div>
    </AppContext.Provider>
  )
}
