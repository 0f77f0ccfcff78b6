/**
 * The typed Node client for the daemon's unix socket, used by the CLI and the
 * tests. (Not by the desktop: its main process tunnels the renderer's RPC
 * frames to the socket as they are, apps/desktop/src/main/DaemonLink.ts, and
 * the renderer's own client decodes them.) An Effect `RpcClient` for `TaskRpcs`
 * speaking NDJSON (replies read and requests written by the daemon's own
 * compiled walkers, internal/WireCodecs.ts), plus a promise-friendly
 * `connect` for non-Effect callers.
 *
 * Lifecycle: `make` first probes the socket with a bare connect (bounded by
 * `connectTimeout`, default 1 s) and fails fast with `DaemonUnreachable` if
 * no daemon answers: no socket file, a stale one (ECONNREFUSED), no
 * permission. Only then does it open the RPC connection, which lives until
 * the scope closes. If the daemon goes away later, calls in flight fail with
 * an `RpcClientError` and new calls fail at once with the same error while
 * Effect's socket protocol reconnects in the background (every 0.5 s to 5 s),
 * so a desktop that outlives a daemon restart recovers by itself.
 *
 * Errors: a call fails with the RPC's typed errors (`UnknownTask`, …) decoded
 * as their classes, or `RpcClientError` for transport trouble, or dies with
 * the server's defect (a payload the server could not decode, a handler bug).
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { TaskRpc } from "@tasklane/core"
import { Cause, Context, Effect, Exit, Layer, Schema, Scope } from "effect"
import { type RpcClientError, type RpcGroup, RpcClient } from "effect/rpc"
import * as Ndjson from "./internal/Ndjson.ts"
import { probeSocket } from "./internal/Probe.ts"
import * as WireCodecs from "./internal/WireCodecs.ts"

/** No daemon answers on the socket; the message says how to start one. */
export class DaemonUnreachable extends Schema.TaggedError<DaemonUnreachable>()("DaemonUnreachable", {
  socketPath: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `cannot reach the Tasklane daemon at ${this.socketPath}: ${this.reason}. ` +
      "Start it with `tasklane daemon` (or `pnpm start` in a checkout)."
  }
}

/** The typed client: one method per RPC in `TaskRpcs`. */
export type TaskClient = RpcClient.RpcClient<RpcGroup.Rpcs<typeof TaskRpc.TaskRpcs>, RpcClientError.RpcClientError>

/** The client as a service, for programs that take it from their context. */
export class Client extends Context.Service<Client, TaskClient>()("@tasklane/daemon/Client") {}

/** Where the daemon listens and how patient to be. */
export interface Options {
  readonly socketPath: string
  /** How long the initial connect may take, in ms (default 1000). */
  readonly connectTimeout?: number | undefined
  /** Largest reply frame accepted, in bytes (default 64 MiB: the daemon is trusted, History can be large). */
  readonly maxFrameBytes?: number | undefined
}

/** Largest reply frame the client accepts by default. */
export const defaultMaxFrameBytes = 64 * 1024 * 1024

/** Fail with `DaemonUnreachable` unless something answers on the socket. */
export const ensureReachable = (options: Options): Effect.Effect<void, DaemonUnreachable> =>
  Effect.flatMap(probeSocket(options.socketPath, options.connectTimeout ?? 1_000), (probe) =>
    probe._tag === "Answered"
      ? Effect.void
      : Effect.fail(new DaemonUnreachable({ socketPath: options.socketPath, reason: probe.reason })))

/** Connect to the daemon; the connection closes with the scope. */
export const make = (options: Options): Effect.Effect<TaskClient, DaemonUnreachable, Scope.Scope> =>
  Effect.gen(function* () {
    yield* ensureReachable(options)
    const protocol = yield* Layer.build(
      RpcClient.layerProtocolSocket().pipe(
        Layer.provide(NodeSocket.layerNet({ path: options.socketPath })),
        Layer.provide(Ndjson.layer({ maxBufferSize: options.maxFrameBytes ?? defaultMaxFrameBytes, codecFor: WireCodecs.codecFor(TaskRpc.TaskRpcs) })),
      ),
    ).pipe(
      // layerNet only dials when the protocol first reads, so this is not expected.
      Effect.mapError((error) => new DaemonUnreachable({ socketPath: options.socketPath, reason: error.message })),
    )
    return yield* RpcClient.make(TaskRpc.TaskRpcs, { disableTracing: true }).pipe(Effect.provide(protocol))
  })

/** The client as a layer (fails to build with `DaemonUnreachable`). */
export const layer = (options: Options): Layer.Layer<Client, DaemonUnreachable> =>
  Layer.effect(Client)(make(options))

/** A connection for promise-based callers (desktop main process, tests). */
export interface Connection {
  readonly client: TaskClient
  /** Run one use of the client; rejects with the typed error itself (e.g. an `UnknownTask` instance). */
  readonly call: <A, E>(use: (client: TaskClient) => Effect.Effect<A, E>) => Promise<A>
  readonly close: () => Promise<void>
}

/** Connect from promise land; rejects with `DaemonUnreachable` when no daemon answers. */
export const connect = async (socketPath: string, options: Omit<Options, "socketPath"> = {}): Promise<Connection> => {
  const scope = Scope.makeUnsafe()
  const exit = await Effect.runPromiseExit(Scope.provide(make({ ...options, socketPath }), scope))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, exit))
    throw Cause.squash(exit.cause)
  }
  const client = exit.value
  return {
    client,
    call: (use) => Effect.runPromise(use(client)),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void)),
  }
}
