/**
 * An Effect `Socket` over a {@link DesktopBridge.DesktopBridge}, so Effect's
 * `RpcClient.layerProtocolSocket` runs unchanged on top of whichever host
 * tunnel the renderer has (Electron IPC or the browser's WebSocket).
 *
 * Each run of the socket's reader (the RPC protocol re-runs it to reconnect)
 * makes one "connection": it calls `bridge.connect()`, delivers the bridge's
 * frames, and ends with a close error when the bridge's `onClose` fires (or
 * with an open error carrying the bridge's message if `connect()` rejects).
 * The adapter presents that connection as the small `WebSocketLike` shape
 * Effect's `Socket.fromWebSocket` already handles (buffering, open waits,
 * close codes), rather than a second hand-written reader.
 */
import type { DesktopBridge } from "@tasklane/core/client"
import { Effect, Layer } from "effect"
import { Socket } from "effect/socket"

type Listener = (event: Socket.WebSocketEvent) => void
type EventName = "open" | "message" | "error" | "close"

/** One connection over the bridge, shaped like a WebSocket (readyState 0 connecting, 1 open, 3 closed). */
const connection = (bridge: DesktopBridge.DesktopBridge): Socket.WebSocketLike => {
  const listeners: Record<EventName, Set<Listener>> = { open: new Set(), message: new Set(), error: new Set(), close: new Set() }
  const once = new WeakSet<Listener>()
  let readyState = 0
  const emit = (type: EventName, event: Socket.WebSocketEvent) => {
    for (const listener of [...listeners[type]]) {
      if (once.has(listener)) listeners[type].delete(listener)
      listener(event)
    }
  }
  const unsubscribeFrame = bridge.onFrame((data) => {
    if (readyState === 1) emit("message", { type: "message", data })
  })
  const unsubscribeClose = bridge.onClose((reason) => finish(1006, reason))
  const finish = (code: number, reason: string) => {
    if (readyState === 3) return
    readyState = 3
    unsubscribeFrame()
    unsubscribeClose()
    emit("close", { type: "close", code, reason })
  }
  bridge.connect().then(
    () => {
      if (readyState !== 0) return
      readyState = 1
      emit("open", { type: "open" })
    },
    (cause: unknown) => {
      if (readyState !== 0) return
      const reason = cause instanceof Error ? cause.message : String(cause)
      emit("error", { type: "error", reason })
      finish(1006, reason)
    },
  )
  return {
    get readyState() {
      return readyState
    },
    addEventListener: (type, listener, options) => {
      listeners[type].add(listener)
      if (options?.once) once.add(listener)
    },
    removeEventListener: (type, listener) => void listeners[type].delete(listener),
    send: (data) => bridge.send(typeof data === "string" ? data : new TextDecoder().decode(data)),
    close: (code = 1000, reason = "closed by the client") => {
      if (readyState === 3) return
      bridge.close()
      finish(code, reason)
    },
  }
}

/** The socket: every read run opens a new bridge connection and closes it when the run ends. */
export const make = (bridge: DesktopBridge.DesktopBridge): Effect.Effect<Socket.Socket> =>
  Socket.fromWebSocket(
    Effect.acquireRelease(Effect.sync(() => connection(bridge)), (ws) => Effect.sync(() => ws.close())),
    { openTimeout: "15 seconds" },
  )

/** {@link make} as the `Socket` service. */
export const layer = (bridge: DesktopBridge.DesktopBridge): Layer.Layer<Socket.Socket> =>
  Layer.effect(Socket.Socket)(make(bridge))
