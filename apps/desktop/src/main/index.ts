/**
 * The Electron main process: wiring only, and the one file that imports
 * `electron` (everything else in src/main runs and is tested in plain Node).
 *
 * Lifecycle: take the single-instance lock (a second launch focuses the
 * existing window and quits); build the menu; open the window with its saved
 * bounds (sandboxed, context-isolated, no Node in the renderer, the preload
 * as its only API); give each window one `DaemonLink`, created on the
 * renderer's first `connect` (which starts a detached daemon if none
 * answers); close the link when the window goes (the daemon keeps running,
 * as do its tasks); save the window's bounds when it closes.
 *
 * IPC (channel names in Channels.ts): every message is accepted only from
 * the main frame of one of our windows, and its arguments are checked
 * (frames are decoded by FrameCheck inside the link).
 */
import { DesktopBridge } from "@tasklane/core/client"
import * as Launcher from "@tasklane/daemon/launcher"
import { app, BrowserWindow, dialog, ipcMain, type IpcMainEvent, type IpcMainInvokeEvent, Menu, screen, shell } from "electron"
import * as Path from "node:path"
import * as AppMenu from "./AppMenu.ts"
import { Channels } from "./Channels.ts"
import * as DaemonLink from "./DaemonLink.ts"
import * as WindowState from "./WindowState.ts"
import type { ConnectResult } from "../preload/Bridge.ts"

const here = import.meta.dirname
const preload = Path.join(here, "..", "preload", "index.cjs")
const rendererFile = Path.join(here, "..", "renderer", "index.html")
const dataDir = Launcher.resolveDataDir()
const links = new Map<number, DaemonLink.DaemonLink>()

const stateFile = () => Path.join(app.getPath("userData"), "window-state.json")

/** The window whose main frame sent this IPC message, if it is one of ours. */
const senderWindow = (event: IpcMainEvent | IpcMainInvokeEvent): BrowserWindow | undefined => {
  const window = BrowserWindow.fromWebContents(event.sender)
  if (window === null || event.senderFrame === null || event.senderFrame !== event.sender.mainFrame) return undefined
  return window
}

const linkFor = (window: BrowserWindow): DaemonLink.DaemonLink => {
  const id = window.webContents.id
  let link = links.get(id)
  if (link === undefined) {
    const contents = window.webContents
    link = DaemonLink.make({
      dataDir,
      daemon: DaemonLink.daemonCommand(DaemonLink.defaultDaemonBin()),
      onFrame: (frame) => {
        if (!contents.isDestroyed()) contents.send(Channels.frame, frame)
      },
      onClose: (reason) => {
        if (!contents.isDestroyed()) contents.send(Channels.closed, reason)
      },
    })
    links.set(id, link)
  }
  return link
}

const rendererUrl = process.env.ELECTRON_RENDERER_URL

const createWindow = (): BrowserWindow => {
  const saved = WindowState.clamp(WindowState.load(stateFile()), screen.getAllDisplays().map((display) => display.workArea))
  const window = new BrowserWindow({
    ...saved.bounds,
    minWidth: WindowState.limits.minWidth,
    minHeight: WindowState.limits.minHeight,
    title: "Tasklane",
    show: false,
    webPreferences: { preload, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true },
  })
  if (saved.maximized) window.maximize()
  window.once("ready-to-show", () => window.show())
  const contentsId = window.webContents.id
  window.on("close", () => {
    try {
      WindowState.save(stateFile(), { bounds: window.getNormalBounds(), maximized: window.isMaximized() })
    } catch (cause) {
      console.error(`tasklane: cannot save the window state: ${cause instanceof Error ? cause.message : String(cause)}`)
    }
  })
  window.on("closed", () => {
    links.get(contentsId)?.close()
    links.delete(contentsId)
  })
  // Links open in the browser; the window never navigates away from the app.
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url)
    return { action: "deny" }
  })
  window.webContents.on("will-navigate", (event, url) => {
    if (rendererUrl === undefined || !url.startsWith(rendererUrl)) event.preventDefault()
  })
  // A reload starts a new renderer that will connect again: drop the old link.
  window.webContents.on("did-start-navigation", (details) => {
    if (details.isMainFrame && !details.isSameDocument) links.get(contentsId)?.close()
  })
  if (rendererUrl !== undefined) void window.loadURL(rendererUrl)
  else void window.loadFile(rendererFile)
  return window
}

const focusedWindow = () => BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0]

const buildMenu = () =>
  Menu.setApplicationMenu(Menu.buildFromTemplate(AppMenu.template({
    openHistory: () => {
      const window = focusedWindow()
      if (window === undefined) return
      void AppMenu.openHistory({
        choose: async () => {
          const result = await dialog.showOpenDialog(window, {
            title: "Open a Tasklane history",
            properties: ["openFile"],
            filters: [{ name: "Tasklane history", extensions: ["json"] }, { name: "All files", extensions: ["*"] }],
          })
          return result.canceled ? undefined : result.filePaths[0]
        },
        deliver: (file) => window.webContents.send(Channels.openHistory, file),
        fail: (message) => dialog.showErrorBox("Open history", message),
      })
    },
    quit: () => app.quit(),
    reload: () => focusedWindow()?.webContents.reload(),
    toggleDevTools: () => focusedWindow()?.webContents.toggleDevTools(),
    about: () => {
      const window = focusedWindow()
      const options = {
        type: "info" as const,
        title: "About Tasklane",
        message: `Tasklane ${app.getVersion()}`,
        detail: `Electron ${process.versions.electron}\nData directory: ${dataDir}\nBridge: window.${DesktopBridge.globalName}`,
      }
      void (window ? dialog.showMessageBox(window, options) : dialog.showMessageBox(options))
    },
  })))

const registerIpc = () => {
  ipcMain.handle(Channels.connect, async (event): Promise<ConnectResult> => {
    const window = senderWindow(event)
    if (window === undefined) return { ok: false, message: "refused: not a Tasklane window" }
    try {
      await linkFor(window).connect()
      return { ok: true }
    } catch (cause) {
      return { ok: false, message: cause instanceof Error ? cause.message : String(cause) }
    }
  })
  ipcMain.on(Channels.send, (event, frame: unknown) => {
    const window = senderWindow(event)
    if (window === undefined || typeof frame !== "string") return
    linkFor(window).send(frame)
  })
  ipcMain.on(Channels.close, (event) => {
    const window = senderWindow(event)
    if (window !== undefined) links.get(window.webContents.id)?.close()
  })
}

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on("second-instance", () => {
    const window = BrowserWindow.getAllWindows()[0]
    if (window === undefined) return void createWindow()
    if (window.isMinimized()) window.restore()
    window.focus()
  })
  app.on("window-all-closed", () => {
    if (process.platform !== "darwin") app.quit()
  })
  app.on("activate", () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
  void app.whenReady().then(() => {
    registerIpc()
    buildMenu()
    createWindow()
  })
}
