/**
 * The browser's implementation of the {@link DesktopBridge.DesktopBridge}
 * contract: the same frame tunnel as Electron's preload, over a WebSocket to
 * the daemon's web mode (`ws(s)://<this host>/rpc`, authorised by the cookie
 * the daemon set when the page was opened with `?token=…`).
 *
 * Lifecycle: `connect()` opens a fresh WebSocket (closing any previous one)
 * and resolves on `open`; an error or close before `open` rejects it with a
 * readable message. After `open`, frames flow both ways until the socket
 * closes, when every `onClose` listener gets the reason once.
 */
import type { DesktopBridge } from "@tasklane/core/client"

/** Why a WebSocket closed, in words a user can act on. */
const describeClose = (event: CloseEvent): string => {
  if (event.reason) return `${event.reason} (code ${event.code})`
  if (event.code === 1001) return "the daemon is shutting down"
  if (event.code === 1005 || event.code === 1006) return "the daemon closed the connection or cannot be reached (not running, or not signed in?)"
  if (event.code === 1009) return "a message was too large (code 1009)"
  return `connection closed (code ${event.code})`
}

/** The bridge over a WebSocket to `url` (default: `/rpc` on the page's own host). */
export const make = (url: string = defaultUrl()): DesktopBridge.DesktopBridge => {
  const frameListeners = new Set<(frame: string) => void>()
  const closeListeners = new Set<(reason: string) => void>()
  let socket: WebSocket | undefined

  const connect = () =>
    new Promise<void>((resolve, reject) => {
      socket?.close()
      const ws = new WebSocket(url)
      socket = ws
      let opened = false
      ws.onopen = () => {
        opened = true
        resolve()
      }
      ws.onmessage = (event) => {
        if (typeof event.data !== "string") return
        for (const listener of frameListeners) listener(event.data)
      }
      // A browser reports no detail on `error`; the `close` that follows carries the code.
      ws.onclose = (event) => {
        if (socket === ws) socket = undefined
        const reason = describeClose(event)
        if (!opened) return reject(new Error(`cannot connect to the daemon at ${url}: ${reason}`))
        for (const listener of closeListeners) listener(reason)
      }
    })

  const subscribe = <A>(set: Set<A>, listener: A) => {
    set.add(listener)
    return () => void set.delete(listener)
  }

  return {
    kind: "web",
    connect,
    send: (frame) => {
      if (socket?.readyState !== WebSocket.OPEN) throw new Error("not connected to the daemon")
      socket.send(frame)
    },
    onFrame: (listener) => subscribe(frameListeners, listener),
    onClose: (listener) => subscribe(closeListeners, listener),
    close: () => {
      socket?.close(1000, "closed by the page")
    },
    // A browser has no host menu to open history files from.
    onOpenHistory: () => () => {},
  }
}

/** `ws(s)://<page host>/rpc`. */
export const defaultUrl = (): string => `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/rpc`
