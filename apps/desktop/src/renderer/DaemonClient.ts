/**
 * The renderer's one connection to the daemon: Effect's `RpcClient` for
 * `TaskRpc.TaskRpcs` (JSON frames, `RpcSerialization.json`) over the host's
 * {@link DesktopBridge.DesktopBridge}, behind a small promise/callback facade
 * for React.
 *
 * Lifecycle: `connect(bridge)` builds the client at once; the protocol dials
 * in the background and keeps redialling (500 ms backoff up to 5 s) whenever
 * the bridge closes. Status goes `connecting` → `connected`, then
 * `reconnecting` ⇄ `connected`; `detail` says why the last attempt failed.
 * Calls made while connecting wait for the connection; calls made while
 * reconnecting fail at once with a transport error, and streams end with
 * one. Every reconnect bumps `epoch`, so followers (the live task store, log
 * views) know to resubscribe. The status is the {@link Observable} `connection`.
 */
import { type DesktopBridge, TaskRpc } from "@tasklane/core/client"
import { Cause, Effect, Exit, Fiber, Layer, Scope, Stream } from "effect"
import { RpcClient, type RpcClientError, type RpcGroup, RpcSerialization } from "effect/rpc"
import * as BridgeSocket from "./BridgeSocket.ts"
import { Listeners, type Observable } from "./Observable.ts"

/** The typed client: one method per RPC. */
export type TaskClient = RpcClient.RpcClient<RpcGroup.Rpcs<typeof TaskRpc.TaskRpcs>, RpcClientError.RpcClientError>

/** Where the connection stands. */
export interface ConnectionStatus {
  readonly state: "connecting" | "connected" | "reconnecting"
  /** Why the last attempt failed or the connection closed (empty when connected). */
  readonly detail: string
  /** Counts successful connects: a change means streams must be reopened. */
  readonly epoch: number
}

/** The facade the views use. */
export interface DaemonClient {
  /** The connection status; a new snapshot on every change. */
  readonly connection: Observable<ConnectionStatus>
  /** Runs one RPC; rejects with the typed error instance itself (e.g. `InvalidInput`) or a transport error. */
  readonly call: <A, E>(use: (client: TaskClient) => Effect.Effect<A, E>) => Promise<A>
  /**
   * Runs a streaming RPC, handing each batch of items to `onItems` as it arrives;
   * `onEnd` gets the error (or undefined when the stream completed). Returns a cancel function.
   */
  readonly stream: <A, E>(
    use: (client: TaskClient) => Stream.Stream<A, E>,
    onItems: (items: ReadonlyArray<A>) => void,
    onEnd: (error: unknown) => void,
  ) => () => void
  readonly close: () => void
}

/** A readable message for anything an RPC or the transport failed with. */
export const describeError = (error: unknown): string => {
  // Transport trouble (`RpcClientError`): say so in words, with the socket's own reason.
  if (typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "RpcClientError") {
    const reason = (error as { reason?: { message?: unknown } }).reason
    return `not connected to the daemon${reason?.message ? ` (${String(reason.message)})` : ""}`
  }
  if (error instanceof Error || (typeof error === "object" && error !== null && "message" in error)) {
    const message = String((error as { message: unknown }).message)
    if (message) return message
  }
  if (typeof error === "object" && error !== null && "_tag" in error) return String((error as { _tag: unknown })._tag)
  return String(error)
}

/** Builds the client over `bridge`; the connection is made in the background. */
export const connect = (bridge: DesktopBridge.DesktopBridge): DaemonClient => {
  let status: ConnectionStatus = { state: "connecting", detail: "", epoch: 0 }
  const statusListeners = new Listeners()
  const setStatus = (next: Partial<ConnectionStatus>) => {
    status = { ...status, ...next }
    statusListeners.notify()
  }
  // See what the bridge says on failures, so the status bar can show it.
  // (Explicit members, not a spread: Electron's contextBridge object is a proxy of the preload's.)
  const observed: DesktopBridge.DesktopBridge = {
    kind: bridge.kind,
    send: (frame) => bridge.send(frame),
    onFrame: (listener) => bridge.onFrame(listener),
    onClose: (listener) => bridge.onClose(listener),
    close: () => bridge.close(),
    onOpenHistory: (listener) => bridge.onOpenHistory(listener),
    connect: () =>
      bridge.connect().catch((cause: unknown) => {
        setStatus({ detail: describeError(cause) })
        throw cause
      }),
  }
  bridge.onClose((reason) => setStatus({ detail: reason }))

  const hooks = Layer.succeed(RpcClient.ConnectionHooks)({
    onConnect: Effect.sync(() => setStatus({ state: "connected", detail: "", epoch: status.epoch + 1 })),
    onDisconnect: Effect.sync(() => {
      if (status.state === "connected") setStatus({ state: "reconnecting" })
    }),
  })
  const protocol = RpcClient.layerProtocolSocket({ retryTransientErrors: true }).pipe(
    Layer.provide([BridgeSocket.layer(observed), RpcSerialization.layerJson, hooks]),
  )
  const scope = Scope.makeUnsafe()
  // The protocol is built in the client's own scope (not `Effect.provide(layer)`, which would close it on return).
  const client = Effect.runSync(
    Scope.provide(Effect.flatMap(Layer.build(protocol), (context) => RpcClient.make(TaskRpc.TaskRpcs, { disableTracing: true }).pipe(Effect.provide(context))), scope),
  ) as TaskClient

  return {
    connection: { subscribe: statusListeners.add, getSnapshot: () => status },
    call: (use) =>
      Effect.runPromiseExit(use(client)).then((exit) => {
        if (Exit.isSuccess(exit)) return exit.value
        throw Cause.squash(exit.cause)
      }),
    stream: (use, onItems, onEnd) => {
      const fiber = Effect.runFork(Stream.runForEachArray(use(client), (items) => Effect.sync(() => onItems(items))))
      fiber.addObserver((exit) => {
        if (Exit.isSuccess(exit)) return onEnd(undefined)
        if (!Cause.hasInterruptsOnly(exit.cause)) onEnd(Cause.squash(exit.cause))
      })
      return () => void Effect.runFork(Fiber.interrupt(fiber))
    },
    close: () => {
      void Effect.runPromise(Scope.close(scope, Exit.void))
    },
  }
}
