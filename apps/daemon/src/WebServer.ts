/**
 * The daemon's web mode (`tasklane daemon --http HOST:PORT`): one Node `http`
 * server that serves the built web UI as static files and, on `GET /rpc`, the
 * same `TaskRpcs` handlers as the unix socket over WebSocket (one JSON
 * message per frame: Effect's JSON serialization with the rewrites of
 * internal/Ndjson.ts, so malformed envelopes get answers as on the unix socket), so a browser can drive a
 * headless daemon.
 *
 * Lifecycle of `layer`: read the token from `<data dir>/web-token` (created
 * 0600 on first start, `DataDir.webToken`) → listen on HOST:PORT (port 0
 * picks a free one; a busy port fails with `HttpListenError`) → write the URL
 * to `<data dir>/web-url` and print `web UI: http://HOST:PORT/?token=…` →
 * serve until the layer's scope closes, when `web-url` is removed, RPC
 * connections end, WebSocket clients are terminated and the listener closes.
 *
 * Access:
 * - Every request (page, asset or WebSocket upgrade) must name this server in
 *   its `Host` header (a DNS-rebinding guard, internal/HostGuard.ts);
 *   otherwise 403, before the token is looked at.
 * - Every request needs the token: the cookie `tasklane_token`, `?token=` or
 *   `Authorization: Bearer` (compared in constant time); otherwise 401.
 *   `GET /?token=T` answers 302 to the same path without the token and sets
 *   the cookie (HttpOnly, SameSite=Strict), so the page's assets and its
 *   WebSocket are authorised by the cookie and the token leaves the address bar.
 * - `GET /metrics` answers the daemon's metrics in Prometheus text format
 *   (Metrics.ts) under the same Host and token rules (a scraper sends
 *   `Authorization: Bearer`; `?token=` is accepted there without a redirect).
 * - A WebSocket upgrade with an `Origin` header must come from this server's
 *   own origin (`http://HOST:PORT` as bound; `localhost`, `127.0.0.1` and
 *   `[::1]` count as one host; on a wildcard bind, the origin must name the
 *   `Host` the request was sent to); otherwise 403. Clients that send no
 *   Origin (not browsers) only need the token.
 * - Frames are limited to 16 MiB like the unix socket's; a larger one closes
 *   that connection (1009). A handler that dies fails only its own call.
 * - At most {@link defaultMaxConnections} (32) WebSocket connections at once
 *   (`maxConnections`): one browser tab holds one, so 32 is plenty for the
 *   people who share a daemon, and each connection's live subscription costs
 *   the daemon work per event. One more upgrade is refused with 503 and a
 *   `Retry-After`, before the handshake; a connection that closes frees its
 *   place at once.
 */
import { TaskRpc } from "@tasklane/core"
import { Cause, Console, Effect, FiberSet, Layer, Queue, Schema } from "effect"
import { NetAddress } from "effect/net"
import { RpcServer } from "effect/rpc"
import { Socket, SocketServer } from "effect/socket"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import type * as Net from "node:net"
import { fileURLToPath } from "node:url"
import * as WS from "ws"
import * as DataDir from "./DataDir.ts"
import * as Metrics from "./Metrics.ts"
import * as HostGuard from "./internal/HostGuard.ts"
import * as Ndjson from "./internal/Ndjson.ts"
import * as WireCodecs from "./internal/WireCodecs.ts"
import * as StaticFiles from "./internal/StaticFiles.ts"
import { defaultMaxFrameBytes } from "./Server.ts"

/** The built renderer of apps/desktop (the same path from `src/` and from the `dist/` bundle). */
export const defaultUiDir = fileURLToPath(new URL("../../desktop/out/renderer", import.meta.url))

/** Where the web server listens. */
export interface Address {
  readonly host: string
  readonly port: number
}

/** What to serve, where, and whose token to require. */
export interface Options extends Address {
  readonly uiDir: string
  readonly paths: DataDir.Paths
  readonly maxFrameBytes?: number | undefined
  /** WebSocket connections served at once (default {@link defaultMaxConnections}); more are refused with 503. */
  readonly maxConnections?: number | undefined
}

/** WebSocket connections served at once unless `maxConnections` says otherwise. */
export const defaultMaxConnections = 32

/** The web server could not listen (port in use, address not on this machine…). */
export class HttpListenError extends Schema.TaggedError<HttpListenError>()("HttpListenError", {
  host: Schema.String,
  port: Schema.Number,
  reason: Schema.String,
}) {
  override get message() {
    return `cannot serve the web UI on ${hostForUrl(this.host)}:${this.port}: ${this.reason}`
  }
}

/** `HOST:PORT`, `[IPv6]:PORT` or `PORT` (meaning 127.0.0.1:PORT); undefined if it is none of these. */
export const parseAddress = (value: string): Address | undefined => {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value)
  if (match === null) return undefined
  const host = match[1] || match[2] || "127.0.0.1"
  const port = Number(match[3])
  return port <= 65_535 ? { host, port } : undefined
}

/** The host as written in a URL (`[::1]` for IPv6). */
export const hostForUrl = (host: string) => (host.includes(":") ? `[${host}]` : host)

const cookieName = "tasklane_token"
/** The 401 body. */
export const unauthorised = "missing or wrong token: open the URL the daemon printed\n"
/** The 403 body of a request whose Host header names another server. */
export const misdirected = "this daemon does not serve the host this request names (DNS-rebinding guard): open the URL it printed\n"
const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]"])
const wildcardHosts = new Set(["0.0.0.0", "[::]"])

const digest = (value: string) => Crypto.createHash("sha256").update(value).digest()

const cookie = (header: string | undefined, name: string): string | undefined =>
  header?.split(";").map((part) => part.trim().split("=")).find(([key]) => key === name)?.[1]

const bearer = (header: string | undefined): string | undefined => /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1]

/** The request target split without URL parsing (which would resolve `..` and may throw): raw path, query. */
export const target = (req: Http.IncomingMessage) => {
  const [rawPath = "/", ...rest] = (req.url ?? "/").split("?")
  return { rawPath, query: new URLSearchParams(rest.join("?")) }
}

/** Request checks bound to one token and one listening address (`port` is read once listening); also used by MetricsServer.ts. */
export const makeAccess = (token: string, host: string, port: () => number) => {
  const expected = digest(token)
  // Hashing first makes both sides the same length for timingSafeEqual.
  const matches = (candidate: string | undefined): candidate is string =>
    candidate !== undefined && Crypto.timingSafeEqual(digest(candidate), expected)
  const ownHost = hostForUrl(host).toLowerCase()
  const hostname = (value: string | undefined) => {
    try {
      return value === undefined ? undefined : new URL(`http://${value}`).hostname
    } catch {
      return undefined
    }
  }
  return {
    matches,
    authorised: (req: Http.IncomingMessage, query: URLSearchParams) =>
      [cookie(req.headers.cookie, cookieName), query.get("token") ?? undefined, bearer(req.headers.authorization)].some(matches),
    originAllowed: (req: Http.IncomingMessage) => {
      const origin = req.headers.origin
      if (origin === undefined) return true
      let parsed: URL
      try {
        parsed = new URL(origin)
      } catch {
        return false
      }
      if (parsed.protocol !== "http:" || Number(parsed.port || 80) !== port()) return false
      if (parsed.hostname === ownHost) return true
      if (loopbackHosts.has(parsed.hostname) && loopbackHosts.has(ownHost)) return true
      return wildcardHosts.has(ownHost) && parsed.hostname === hostname(req.headers.host)
    },
  }
}

/** A refused upgrade: a plain HTTP response written on the raw socket, which is then closed. */
const refuseUpgrade = (socket: Net.Socket, status: number, body: string, headers = "") => {
  socket.end(
    `HTTP/1.1 ${status} ${Http.STATUS_CODES[status]}\r\nContent-Type: text/plain; charset=utf-8\r\n${headers}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

/** Why a listener could not bind, in words (shared with MetricsServer.ts). */
export const listenFailure = (error: NodeJS.ErrnoException): string =>
  error.code === "EADDRINUSE"
    ? "the port is already in use (choose another, or 0 for a free one)"
    : error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND"
    ? "no such address on this machine"
    : error.message

const listen = (server: Http.Server, host: string, port: number) =>
  Effect.callback<Net.AddressInfo, HttpListenError>((resume) => {
    const onError = (error: NodeJS.ErrnoException) => resume(Effect.fail(new HttpListenError({ host, port, reason: listenFailure(error) })))
    server.once("error", onError)
    server.listen({ host, port }, () => {
      server.off("error", onError)
      resume(Effect.succeed(server.address() as Net.AddressInfo))
    })
  })

/** Answers `GET|HEAD /metrics` with the current Prometheus text (the request has passed the Host and token checks). */
export const serveMetrics = (metrics: Metrics.Metrics["Service"], req: Http.IncomingMessage, res: Http.ServerResponse): void => {
  Effect.runFork(Effect.map(metrics.scrape, (body) => {
    res.writeHead(200, { "Content-Type": Metrics.contentType, "Content-Length": Buffer.byteLength(body), "Cache-Control": "no-store" })
    res.end(req.method === "HEAD" ? undefined : body)
  }))
}

const serve = (options: Options) =>
  Effect.gen(function*() {
    const token = yield* DataDir.webToken(options.paths)
    const metrics = yield* Metrics.Metrics
    const accepted = yield* Queue.unbounded<WS.WebSocket>()
    const wss = new WS.WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? defaultMaxFrameBytes })
    const maxConnections = options.maxConnections ?? defaultMaxConnections
    let upgrading = 0
    const server = Http.createServer()
    const access = makeAccess(token, options.host, () => (server.address() as Net.AddressInfo).port)
    const hostAllowed = HostGuard.make(options.host, () => (server.address() as Net.AddressInfo).port)

    server.on("request", (req: Http.IncomingMessage, res: Http.ServerResponse) => {
      if (!hostAllowed(req.headers.host)) return StaticFiles.text(res, 403, misdirected)
      const { rawPath, query } = target(req)
      if (req.method !== "GET" && req.method !== "HEAD") return StaticFiles.text(res, 405, "method not allowed\n", { Allow: "GET, HEAD" })
      if (!access.authorised(req, query)) return StaticFiles.text(res, 401, unauthorised, { "WWW-Authenticate": "Bearer" })
      // Before the `?token=` redirect: a scraper does not keep cookies.
      if (rawPath === "/metrics") return serveMetrics(metrics, req, res)
      const queryToken = query.get("token") ?? undefined
      if (access.matches(queryToken)) {
        query.delete("token")
        const rest = query.toString()
        // Only a path on this server: never `//host` or an absolute-form target.
        const location = (rawPath.startsWith("/") && !rawPath.startsWith("//") ? rawPath : "/") + (rest === "" ? "" : `?${rest}`)
        return StaticFiles.text(res, 302, `see ${location}\n`, {
          Location: location,
          "Set-Cookie": `${cookieName}=${queryToken}; HttpOnly; SameSite=Strict; Path=/`,
          "Referrer-Policy": "no-referrer",
        })
      }
      if (rawPath === "/rpc") return StaticFiles.text(res, 426, "/rpc takes WebSocket connections\n", { Upgrade: "websocket" })
      StaticFiles.serve(options.uiDir, rawPath, req, res).catch((cause) => {
        if (!res.headersSent) StaticFiles.text(res, 500, `cannot read the UI files: ${String(cause)}\n`)
        else res.destroy()
      })
    })

    server.on("upgrade", (req: Http.IncomingMessage, socket: Net.Socket, head: Buffer) => {
      socket.on("error", () => socket.destroy())
      if (!hostAllowed(req.headers.host)) return refuseUpgrade(socket, 403, misdirected)
      const { rawPath, query } = target(req)
      if (rawPath !== "/rpc") return refuseUpgrade(socket, 404, "only /rpc takes WebSocket connections\n")
      if (!access.originAllowed(req)) return refuseUpgrade(socket, 403, "this origin may not connect\n")
      if (!access.authorised(req, query)) return refuseUpgrade(socket, 401, unauthorised)
      if (wss.clients.size + upgrading >= maxConnections) {
        return refuseUpgrade(socket, 503, `too many connections: this daemon serves at most ${maxConnections} at once\n`, "Retry-After: 5\r\n")
      }
      // Counted from here until the handshake ends (ws then tracks it in `wss.clients`) or fails (the socket closes).
      let counted = true
      const release = () => {
        if (!counted) return
        counted = false
        upgrading -= 1
      }
      upgrading += 1
      socket.once("close", release)
      wss.handleUpgrade(req, socket, head, (ws) => {
        release()
        Queue.offerUnsafe(accepted, ws)
      })
    })

    const bound = yield* Effect.acquireRelease(listen(server, options.host, options.port), () =>
      Effect.callback<void>((resume) => {
        for (const client of wss.clients) client.terminate()
        wss.close()
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      }))
    const port = bound.port

    const url = `http://${hostForUrl(options.host)}:${port}/?token=${token}`
    yield* DataDir.writeWebUrl(options.paths, url)
    yield* Console.log(`web UI: ${url}`)

    return SocketServer.SocketServer.of({
      address: NetAddress.inetAddressFromIpStringUnsafe(bound.address, port),
      run: (handler) =>
        Effect.gen(function*() {
          const connections = yield* FiberSet.make()
          return yield* Effect.forever(
            Effect.flatMap(Queue.take(accepted), (ws) =>
              FiberSet.run(
                connections,
                Socket.fromWebSocket(Effect.acquireRelease(Effect.succeed(ws), (ws) => Effect.sync(() => ws.close()))).pipe(
                  Effect.flatMap(handler),
                  // As on the unix socket: a connection that ends badly is that connection's business.
                  Effect.catchCause((cause) =>
                    Socket.isSocketError(Cause.squash(cause))
                      ? Effect.logDebug("web rpc connection closed by a socket error", cause)
                      : Effect.logWarning("web rpc connection ended with an error", cause)
                  ),
                ),
              )),
          )
        }).pipe(Effect.scoped),
    })
  })

/** Serve the web UI and `TaskRpcs` over WebSocket on HOST:PORT; provide the handlers (`TaskRpcs.toLayer(…)`). */
export const layer = (options: Options) =>
  RpcServer.layer(TaskRpc.TaskRpcs, { disableFatalDefects: true, disableTracing: true }).pipe(
    // Fresh: layers are shared by reference within one build, and Server.ts
    // uses this same constant for the unix socket's protocol.
    Layer.provide(Layer.fresh(RpcServer.layerProtocolSocketServer)),
    Layer.provide(Layer.mergeAll(Ndjson.layerJson({ codecFor: WireCodecs.codecFor(TaskRpc.TaskRpcs) }), Layer.effect(SocketServer.SocketServer)(serve(options)))),
  )
