/**
 * The preload's implementation of the `DesktopBridge` contract over Electron
 * IPC, as a function of a small IPC interface so it is tested without
 * Electron (`index.ts` passes the real `ipcRenderer`). Only this object
 * reaches the renderer: no `ipcRenderer`, no channel names, no Node.
 *
 * Lifecycle: `connect()` asks main (`invoke`) to open this window's daemon
 * link and resolves once it is open, or rejects with main's readable message.
 * While connected, `send` posts frames to main; main's frames and its
 * `closed` notice arrive as IPC messages and go to the listeners. As the
 * browser bridge does, `send` throws while not connected, so the renderer's
 * socket sees a write error instead of a frame silently lost.
 */
import type { DesktopBridge } from "@tasklane/core/client"
import { Channels } from "../main/Channels.ts"

/** The part of Electron's `ipcRenderer` the bridge uses. */
export interface Ipc {
  readonly invoke: (channel: string, ...args: Array<unknown>) => Promise<unknown>
  readonly send: (channel: string, ...args: Array<unknown>) => void
  readonly on: (channel: string, listener: (event: unknown, ...args: Array<unknown>) => void) => unknown
}

/** Main's answer to `connect`: Electron mangles thrown errors' messages, so main returns the outcome as data. */
export type ConnectResult = { readonly ok: true } | { readonly ok: false; readonly message: string }

const isOpenedFile = (value: unknown): value is DesktopBridge.OpenedFile =>
  typeof value === "object" && value !== null &&
  typeof (value as { name?: unknown }).name === "string" && typeof (value as { contents?: unknown }).contents === "string"

/** The bridge the preload exposes as `window.tasklane`. */
export const makeBridge = (ipc: Ipc) => {
  const frames = new Set<(frame: string) => void>()
  const closes = new Set<(reason: string) => void>()
  const histories = new Set<(file: DesktopBridge.OpenedFile) => void>()
  let connected = false

  // Copy the set: a listener may unsubscribe while being called.
  ipc.on(Channels.frame, (_event, frame) => {
    if (typeof frame === "string") for (const listener of [...frames]) listener(frame)
  })
  ipc.on(Channels.closed, (_event, reason) => {
    connected = false
    for (const listener of [...closes]) listener(typeof reason === "string" ? reason : "connection closed")
  })
  ipc.on(Channels.openHistory, (_event, file) => {
    if (isOpenedFile(file)) for (const listener of [...histories]) listener({ name: file.name, contents: file.contents })
  })

  const subscribe = <A>(set: Set<A>, listener: A) => {
    set.add(listener)
    return () => void set.delete(listener)
  }

  const bridge = {
    kind: "electron",
    connect: async () => {
      connected = false
      const result = (await ipc.invoke(Channels.connect)) as ConnectResult
      if (!result.ok) throw new Error(result.message)
      connected = true
    },
    send: (frame: string) => {
      if (!connected) throw new Error("not connected to the daemon")
      if (typeof frame !== "string") throw new TypeError("a frame is a string")
      ipc.send(Channels.send, frame)
    },
    onFrame: (listener) => subscribe(frames, listener),
    onClose: (listener) => subscribe(closes, listener),
    close: () => {
      connected = false
      ipc.send(Channels.close)
    },
    onOpenHistory: (listener) => subscribe(histories, listener),
  } satisfies DesktopBridge.DesktopBridge
  return bridge
}
