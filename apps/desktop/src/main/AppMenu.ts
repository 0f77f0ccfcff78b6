/**
 * The application menu as plain data (Electron's `MenuItemConstructorOptions`
 * shape, built here without importing Electron) and the "Open history…"
 * flow: choose a file, read it, hand it to the renderer (`onOpenHistory` in
 * the bridge). `index.ts` passes the Electron-specific actions in.
 */
import type { DesktopBridge } from "@tasklane/core/client"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"

/** One menu entry; a subset of Electron's `MenuItemConstructorOptions`. */
export interface MenuItem {
  readonly label?: string
  readonly accelerator?: string
  readonly type?: "separator"
  readonly click?: () => void
  readonly submenu?: Array<MenuItem>
}

/** What the menu's items do. */
export interface Actions {
  readonly openHistory: () => void
  readonly quit: () => void
  readonly reload: () => void
  readonly toggleDevTools: () => void
  readonly about: () => void
}

/** File > Open history… (Ctrl/Cmd+O), Quit; View > Reload, Toggle DevTools; Help > About. */
export const template = (actions: Actions, platform: NodeJS.Platform = process.platform): Array<MenuItem> => [
  {
    label: "&File",
    submenu: [
      { label: "Open history…", accelerator: "CmdOrCtrl+O", click: actions.openHistory },
      { type: "separator" },
      { label: platform === "darwin" ? "Quit Tasklane" : "Quit", accelerator: "CmdOrCtrl+Q", click: actions.quit },
    ],
  },
  {
    label: "&View",
    submenu: [
      { label: "Reload", accelerator: "CmdOrCtrl+R", click: actions.reload },
      { label: "Toggle DevTools", accelerator: platform === "darwin" ? "Alt+Cmd+I" : "Ctrl+Shift+I", click: actions.toggleDevTools },
    ],
  },
  { label: "&Help", submenu: [{ label: "About Tasklane", click: actions.about }] },
]

/** The largest history file the menu opens (exports are JSON; bigger files are almost surely something else). */
export const maxHistoryBytes = 256 * 1024 * 1024

/** Read a history file for the renderer; rejects with a readable message. */
export const readHistory = async (path: string): Promise<DesktopBridge.OpenedFile> => {
  const stat = await Fs.stat(path)
  if (!stat.isFile()) throw new Error(`${path} is not a file`)
  if (stat.size > maxHistoryBytes) throw new Error(`${path} is larger than ${maxHistoryBytes / 1024 / 1024} MiB`)
  return { name: Path.basename(path), contents: await Fs.readFile(path, "utf8") }
}

/** The "Open history…" flow: ask for a file, read it, deliver it, or report why not. */
export const openHistory = async (io: {
  readonly choose: () => Promise<string | undefined>
  readonly deliver: (file: DesktopBridge.OpenedFile) => void
  readonly fail: (message: string) => void
}): Promise<void> => {
  const path = await io.choose()
  if (path === undefined) return
  try {
    io.deliver(await readHistory(path))
  } catch (cause) {
    io.fail(`Cannot open ${path}: ${cause instanceof Error ? cause.message : String(cause)}`)
  }
}
