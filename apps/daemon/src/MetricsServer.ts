/**
 * The metrics-only listener (`tasklane daemon --metrics HOST:PORT`): a Node
 * `http` server with one route, `GET /metrics` (Metrics.ts), for a
 * Prometheus scraper on a daemon that serves no web UI (with `--http` the
 * web server answers `/metrics` too).
 *
 * Access is web mode's (WebServer.ts): the `Host` header must name this
 * listener (DNS-rebinding guard, 403) and the request must carry the daemon's
 * token, `<data dir>/web-token` (`Authorization: Bearer`, `?token=` or the
 * web UI's cookie; 401). Metrics name task definitions and show the
 * daemon's load, so they are not public by default: point Prometheus'
 * `authorization.credentials_file` at the token file.
 *
 * Lifecycle of `layer`: listen (port 0 picks a
 * free one; a failure is a {@link MetricsListenError}) → print
 * `metrics: http://HOST:PORT/metrics` → serve until the scope closes, when
 * the listener and its connections close.
 */
import { Console, Effect, Layer, Schema } from "effect"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as HostGuard from "./internal/HostGuard.ts"
import * as StaticFiles from "./internal/StaticFiles.ts"
import * as Metrics from "./Metrics.ts"
import * as WebServer from "./WebServer.ts"

/** Where to listen and which token to require (read once by the caller: web mode reads the same file at the same time). */
export interface Options extends WebServer.Address {
  /** The token, from `DataDir.webToken`. */
  readonly token: string
  /** Where it is kept (named in messages). */
  readonly tokenFile: string
}

/** The metrics listener could not listen (port in use, address not on this machine…). */
export class MetricsListenError extends Schema.TaggedError<MetricsListenError>()("MetricsListenError", {
  host: Schema.String,
  port: Schema.Number,
  reason: Schema.String,
}) {
  override get message() {
    return `cannot serve metrics on ${WebServer.hostForUrl(this.host)}:${this.port}: ${this.reason}`
  }
}

const listen = (server: Http.Server, host: string, port: number) =>
  Effect.callback<Net.AddressInfo, MetricsListenError>((resume) => {
    const onError = (error: NodeJS.ErrnoException) =>
      resume(Effect.fail(new MetricsListenError({ host, port, reason: WebServer.listenFailure(error) })))
    server.once("error", onError)
    server.listen({ host, port }, () => {
      server.off("error", onError)
      resume(Effect.succeed(server.address() as Net.AddressInfo))
    })
  })

/** Serves `GET /metrics` alone on HOST:PORT until the layer's scope closes. */
export const layer = (options: Options): Layer.Layer<never, MetricsListenError, Metrics.Metrics> =>
  Layer.effectDiscard(
    Effect.gen(function*() {
      const metrics = yield* Metrics.Metrics
      const server = Http.createServer()
      const port = () => (server.address() as Net.AddressInfo).port
      const access = WebServer.makeAccess(options.token, options.host, port)
      const hostAllowed = HostGuard.make(options.host, port)
      server.on("request", (req: Http.IncomingMessage, res: Http.ServerResponse) => {
        if (!hostAllowed(req.headers.host)) return StaticFiles.text(res, 403, WebServer.misdirected)
        const { rawPath, query } = WebServer.target(req)
        if (rawPath !== "/metrics") return StaticFiles.text(res, 404, "this listener serves only /metrics\n")
        if (req.method !== "GET" && req.method !== "HEAD") return StaticFiles.text(res, 405, "method not allowed\n", { Allow: "GET, HEAD" })
        if (!access.authorised(req, query)) {
          return StaticFiles.text(res, 401, `missing or wrong token: send the one in ${options.tokenFile} as a bearer token\n`, {
            "WWW-Authenticate": "Bearer",
          })
        }
        WebServer.serveMetrics(metrics, req, res)
      })
      const bound = yield* Effect.acquireRelease(listen(server, options.host, options.port), () =>
        Effect.callback<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        }))
      yield* Console.log(`metrics: http://${WebServer.hostForUrl(options.host)}:${bound.port}/metrics (token in ${options.tokenFile})`)
    }),
  )
