/**
 * The daemon's unix-socket transport: serves an RpcGroup's handlers (by
 * default `TaskRpcs`) as NDJSON over `<data dir>/daemon.sock`.
 *
 * Lifecycle of `layer`: remove a stale socket file (`DataDir.removeStaleSocket`,
 * fails with `DaemonAlreadyRunning` if a daemon answers) → listen → chmod the
 * socket to 0600 (the directory is 0700 already, so there is no window in
 * which another user can connect) → serve until the layer's scope closes,
 * when Node closes the listener and unlinks the socket file.
 *
 * How bad input is answered (effect 4.1.0's RpcServer with our NDJSON framing,
 * internal/Ndjson.ts; every case is exercised by test/Server.test.ts, plus a
 * fuzz test of random envelopes):
 * - A line that is not JSON (garbage, truncated JSON followed by a newline):
 *   the parser throws `NdjsonDecodeError` and RpcServer replies with a
 *   connection-level `{"_tag":"Defect","defect":{"name":"NdjsonDecodeError",…}}`
 *   frame; the connection stays open. The parser drops what it buffered, so
 *   requests that arrived in the same read as the bad line get no reply of
 *   their own: the Defect stands for them (Effect's RpcClient fails every
 *   in-flight call on a Defect). The next newline resynchronises the stream.
 * - Valid JSON of the wrong shape: an unknown message `_tag` or a bad `id` →
 *   a `Defect` frame ("Unknown request tag: …", "Invalid request id: …");
 *   an unknown RPC `tag` or a payload that fails the RPC's schema → an `Exit`
 *   for that request id whose cause is a `Die` naming the tag or the schema
 *   issue (e.g. `Expected string at ["taskId"]`). A few shapes RpcServer
 *   itself crashes on (non-object JSON, unprintable ids, bad headers) are
 *   rewritten by internal/Ndjson.ts so they get these same answers. Clients
 *   see decode failures as defects, never as typed errors: the contract's
 *   typed errors are for requests that decode.
 * - A frame longer than `maxFrameBytes` (default 16 MiB) without a newline:
 *   the parser throws `MaxBufferSizeExceeded`, RpcServer writes a close event
 *   (code 1009) and the socket is destroyed. The socket is read only when the
 *   server pulls, so a connection holds at most about the limit in memory.
 * - A handler that dies fails only its own call (`disableFatalDefects`):
 *   RpcServer's default would send a connection-level Defect and so fail every
 *   other call on that connection, including a desktop's `Subscribe` stream.
 * In every case other connections, and new ones, are served as before.
 *
 * Replies are encoded by encoders compiled from the contract's schemas where
 * they compile (internal/WireCodecs.ts; the same JSON as Effect's codecs) and
 * written coalesced per event-loop turn (internal/CoalescingSocket.ts).
 */
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import { TaskRpc } from "@tasklane/core"
import { Cause, Effect, Layer, Schema } from "effect"
import { type Rpc, type RpcGroup, RpcServer } from "effect/rpc"
import { Socket, SocketServer } from "effect/socket"
import * as Fs from "node:fs/promises"
import * as DataDir from "./DataDir.ts"
import * as CoalescingSocket from "./internal/CoalescingSocket.ts"
import * as Ndjson from "./internal/Ndjson.ts"
import * as WireCodecs from "./internal/WireCodecs.ts"

/** Largest NDJSON frame (one request line) the server accepts before closing the connection: the contract's `maxRequestBytes`. */
export const defaultMaxFrameBytes = TaskRpc.maxRequestBytes

/** Where to listen and how large a frame may be. */
export interface Options {
  readonly socketPath: string
  readonly maxFrameBytes?: number | undefined
}

/** The socket could not be opened (bad path, path too long, permissions). */
export class ListenError extends Schema.TaggedError<ListenError>()("ListenError", {
  socketPath: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `cannot listen on ${this.socketPath}: ${this.reason}`
  }
}

/** Why the server could not start. */
export type StartError = ListenError | DataDir.DaemonAlreadyRunning | DataDir.DataDirError

// Linux allows 107 bytes in sun_path, macOS 103.
const maxSocketPathBytes = 103

const listen = (socketPath: string) =>
  Effect.gen(function* () {
    if (Buffer.byteLength(socketPath) > maxSocketPathBytes) {
      return yield* new ListenError({
        socketPath,
        reason: `unix socket paths are limited to ${maxSocketPathBytes} bytes; use a shorter --data-dir`,
      })
    }
    yield* DataDir.removeStaleSocket(socketPath)
    const server = yield* NodeSocketServer.make({ path: socketPath }).pipe(
      Effect.mapError((error) => new ListenError({ socketPath, reason: error.message })),
    )
    yield* Effect.tryPromise({
      try: () => Fs.chmod(socketPath, 0o600),
      catch: (cause) => new ListenError({ socketPath, reason: `cannot chmod 0600: ${String(cause)}` }),
    })
    return SocketServer.SocketServer.of({
      address: server.address,
      // A connection that ends badly (peer reset, oversized frame) is that
      // connection's business: record it without the platform's
      // "Unhandled error in SocketServer" error log.
      run: (handler) =>
        server.run((socket) =>
          handler(CoalescingSocket.coalesced(socket)).pipe(
            Effect.catchCause((cause) =>
              Socket.isSocketError(Cause.squash(cause))
                ? Effect.logDebug("rpc connection closed by a socket error", cause)
                : Effect.logWarning("rpc connection ended with an error", cause)
            ),
          )
        ),
    })
  })

/** Serve any RpcGroup's handlers over the unix socket; needs the group's handler layer. */
export const layerFor = <Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  options: Options,
): Layer.Layer<never, StartError, Rpc.ToHandler<Rpcs> | Rpc.Middleware<Rpcs> | Rpc.ServicesServer<Rpcs>> =>
  RpcServer.layer(group, { disableFatalDefects: true, disableTracing: true }).pipe(
    Layer.provide(RpcServer.layerProtocolSocketServer),
    Layer.provide(
      Layer.mergeAll(
        Ndjson.layer({ maxBufferSize: options.maxFrameBytes ?? defaultMaxFrameBytes, codecFor: WireCodecs.codecFor(group) }),
        Layer.effect(SocketServer.SocketServer)(listen(options.socketPath)),
      ),
    ),
  )

/** Serve `TaskRpcs` over the unix socket at `socketPath`; provide the handlers (`TaskRpcs.toLayer(…)`). */
export const layer = (options: Options) => layerFor(TaskRpc.TaskRpcs, options)
