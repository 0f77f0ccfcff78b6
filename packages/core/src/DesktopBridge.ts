/**
 * The one API the UI's renderer gets from its host: a message tunnel to the
 * daemon's RPC server, over which the renderer runs Effect's `RpcClient` for
 * `TaskRpc.TaskRpcs` (so the UI has one client code path everywhere).
 *
 * - In Electron the preload implements it over IPC; main decodes every frame
 *   from the renderer with the shared Schemas (the RPC message envelope and
 *   the request's payload schema) before forwarding it to the daemon's unix
 *   socket, and answers a frame that does not decode with an error.
 * - In a browser the web build implements it over a WebSocket to the
 *   daemon's web mode (`tasklane daemon --http …`, path `/rpc`).
 *
 * Frames are Effect RPC messages serialized as JSON, one message per frame
 * (`RpcSerialization.json`). Lifecycle of a connection: `connect()` resolves
 * once connected (Electron's main starts a daemon first if none answers);
 * frames flow both ways; when the daemon goes away every `onClose` listener
 * is told why, and the renderer calls `connect()` again to reconnect.
 * Everything here is structured-clone safe (strings and plain objects), as
 * Electron's contextBridge requires.
 */

/** A history file the host opened for the renderer (File > Open history…, drag-and-drop). */
export interface OpenedFile {
  readonly name: string
  readonly contents: string
}

/** The tunnel the renderer's host provides; `window.tasklane` in Electron. */
export interface DesktopBridge {
  /** Which host implements the bridge. */
  readonly kind: "electron" | "web"
  /** Opens the connection to the daemon; rejects with a readable message if it cannot. */
  readonly connect: () => Promise<void>
  /** Sends one JSON-serialized RPC message to the daemon. */
  readonly send: (frame: string) => void
  /** Calls `listener` with each JSON-serialized RPC message from the daemon; returns an unsubscribe function. */
  readonly onFrame: (listener: (frame: string) => void) => () => void
  /** Calls `listener` when the connection closes, with the reason; returns an unsubscribe function. */
  readonly onClose: (listener: (reason: string) => void) => () => void
  /** Closes the connection (the daemon keeps running). */
  readonly close: () => void
  /** Calls `listener` when the user opens a history file through the host's menu; returns an unsubscribe function. */
  readonly onOpenHistory: (listener: (file: OpenedFile) => void) => () => void
}

/** The global name under which the Electron preload exposes the bridge. */
export const globalName = "tasklane"
