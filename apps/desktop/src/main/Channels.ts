/**
 * The IPC channel names shared by the main process and the preload, so the
 * two ends cannot drift apart. Electron-free (the preload bundles it).
 *
 * Direction and kind:
 * - `connect`  renderer → main, `ipcRenderer.invoke` / `ipcMain.handle`: resolves when connected.
 * - `send`     renderer → main, `ipcRenderer.send` / `ipcMain.on`: one RPC frame.
 * - `close`    renderer → main, `ipcRenderer.send` / `ipcMain.on`.
 * - `frame`    main → renderer, `webContents.send`: one RPC frame from the daemon.
 * - `closed`   main → renderer, `webContents.send`: the connection closed, with a reason.
 * - `openHistory` main → renderer, `webContents.send`: a history file the user opened.
 */

/**
 * `DesktopBridge.globalName` ("tasklane"), repeated here so the preload does
 * not bundle all of @tasklane/core/client (and effect) for one string; a test
 * checks the two agree.
 */
export const bridgeGlobalName = "tasklane"

/** Every IPC channel the desktop app uses. */
export const Channels = {
  connect: "tasklane:connect",
  send: "tasklane:send",
  close: "tasklane:close",
  frame: "tasklane:frame",
  closed: "tasklane:closed",
  openHistory: "tasklane:open-history",
} as const
