/**
 * One plain HTTP GET for tests of the daemon's listeners: the path is sent
 * exactly as written (no normalisation of `..`), headers may override Host,
 * and the whole body is read as UTF-8.
 */
import * as Http from "node:http"

/** What a GET answered. */
export interface Reply {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/** GETs `path` from the server at `url`'s host and port. */
export const httpGet = (url: URL, path: string, headers: Http.OutgoingHttpHeaders = {}): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const request = Http.request({ host: url.hostname, port: url.port, path, headers }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk) => (body += chunk))
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    request.on("error", reject)
    request.end()
  })
