/**
 * Serves a built single-page app from one directory over Node `http`, for
 * the web mode (`WebServer.ts`, which checks the token before calling this).
 *
 * - `/` and unknown paths without a file extension get `index.html` (client
 *   routing); unknown paths with an extension get 404.
 * - Nothing outside the directory is served: a path whose decoded segments
 *   include `..` (raw, `%2e%2e`, `..%2f`…), a NUL or bad percent-encoding
 *   gets 400, and a file that resolves (through symlinks) outside gets 404.
 * - No `index.html` in the directory: 503 saying how to build the UI.
 */
import * as Fs from "node:fs"
import type * as Http from "node:http"
import * as Path from "node:path"

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
}

/** Answers with a short plain-text body (and `headers`). */
export const text = (res: Http.ServerResponse, status: number, body: string, headers: Http.OutgoingHttpHeaders = {}): void => {
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    ...headers,
  })
  res.end(body)
}

const isFile = (path: string): Promise<Fs.Stats | undefined> =>
  Fs.promises.stat(path).then((stat) => (stat.isFile() ? stat : undefined), () => undefined)

/** The decoded path's segments, or undefined when it may not be served (bad encoding, NUL, `..`). */
const segments = (rawPath: string): ReadonlyArray<string> | undefined => {
  let decoded: string
  try {
    decoded = decodeURIComponent(rawPath)
  } catch {
    return undefined
  }
  if (decoded.includes("\0")) return undefined
  const parts = decoded.split(/[/\\]/)
  return parts.includes("..") ? undefined : parts.filter((part) => part !== "" && part !== ".")
}

/** Serve `rawPath` (the request path, still percent-encoded, without the query) from `root`. */
export const serve = async (root: string, rawPath: string, req: Http.IncomingMessage, res: Http.ServerResponse): Promise<void> => {
  const index = Path.join(root, "index.html")
  if ((await isFile(index)) === undefined) {
    return text(res, 503, `the web UI is not built (no index.html in ${root}); build it with \`pnpm --filter @tasklane/desktop build\`\n`)
  }
  const parts = segments(rawPath)
  if (parts === undefined) return text(res, 400, "bad path\n")
  const requested = Path.join(root, ...parts)
  const extension = Path.extname(requested).toLowerCase()
  let file = parts.length === 0 ? index : requested
  let stat = await isFile(file)
  if (stat === undefined) {
    if (extension !== "") return text(res, 404, "not found\n")
    file = index
    stat = await isFile(file)
  }
  const [realRoot, realFile] = await Promise.all([Fs.promises.realpath(root), Fs.promises.realpath(file).catch(() => "")])
  if (stat === undefined || !realFile.startsWith(realRoot + Path.sep)) return text(res, 404, "not found\n")
  res.writeHead(200, {
    "Content-Type": contentTypes[Path.extname(file).toLowerCase()] ?? "application/octet-stream",
    "Content-Length": stat.size,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
  })
  if (req.method === "HEAD") return void res.end()
  Fs.createReadStream(realFile).on("error", () => res.destroy()).pipe(res)
}
