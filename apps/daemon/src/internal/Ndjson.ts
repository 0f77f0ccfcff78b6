/**
 * NDJSON framing for the RPC socket, in linear time and bounded memory.
 *
 * Why not `RpcSerialization.layerNdjson` as is: effect 4.1.0's NDJSON parser
 * appends each chunk to one string and rescans it from the start, so a 16 MiB
 * line costs O(n²): measured 7.6 s of blocked event loop in 64 KiB chunks and
 * 37 s in 16 KiB chunks before it reaches its limit. That is a denial of
 * service for the daemon and a slow client for large History replies.
 *
 * This parser splits lines with LineFraming (shared with the desktop's tunnel),
 * which keeps the bytes of the unfinished line as a list of chunks, looks for
 * the newline only in new bytes, and joins a line once; each line is decoded once. It keeps
 * Effect's contract so RpcServer/RpcClient react as they do to the stock one:
 * a line that is not JSON throws `NdjsonDecodeError` (the whole buffer is
 * dropped), more than `maxBufferSize` bytes without a newline throws
 * `MaxBufferSizeExceeded` (the socket server then closes the connection).
 *
 * Some envelopes crash RpcServer's connection fiber with a TypeError (the
 * connection drops, no reply), so they are rewritten into shapes it answers
 * (found by the fuzz test in test/Server.test.ts):
 * - a JSON value that is not an object (`null`, `42`), or an object whose
 *   `_tag` is there but not a string, becomes `{}`: a "Unknown request tag:
 *   undefined" Defect frame;
 * - a Request whose `id` is an object (`${id}` throws for `{"toString":0}`)
 *   gets `id: null`: an "Invalid request id: null" Defect frame;
 * - a Request whose `tag` is not a string, or whose `headers` are not
 *   `[name, value]` pairs, keeps its id but gets a tag no RPC has: an `Exit`
 *   for that id dying with "Unknown request tag: … (invalid tag/headers)".
 * Encoding is Effect's own; `codecFor` may replace Effect's JSON codecs (the
 * daemon passes internal/WireCodecs.ts's compiled reply encoders). `layerJson` applies the same rewrites (and takes the same
 * `codecFor`) to Effect's JSON serialization (one message per frame), for the web mode's WebSocket.
 */
import { Layer } from "effect"
import { RpcSerialization } from "effect/rpc"
import * as LineFraming from "../LineFraming.ts"

const validHeaders = (headers: unknown): boolean =>
  headers === undefined ||
  (Array.isArray(headers)
    ? headers.every((entry) => Array.isArray(entry) && typeof entry[0] === "string")
    : typeof headers === "object" && headers !== null)

const sanitize = (value: unknown): unknown => {
  if (typeof value !== "object" || value === null) return {}
  const message = value as { readonly _tag?: unknown; readonly id?: unknown; readonly tag?: unknown; readonly headers?: unknown }
  if (message._tag !== undefined && typeof message._tag !== "string") return {}
  if (message._tag !== "Request") return value
  const badId = typeof message.id === "object" && message.id !== null
  const badTag = typeof message.tag !== "string"
  const badHeaders = !validHeaders(message.headers)
  if (!badId && !badTag && !badHeaders) return value
  const tag = badTag ? "(invalid tag)" : badHeaders ? `${String(message.tag)} (invalid headers)` : message.tag
  return { ...message, ...(badId ? { id: null } : {}), tag, ...(badHeaders ? { headers: [] } : {}) }
}

/** How large a frame may be (bytes) and, optionally, the codecs to use instead of Effect's JSON ones. */
export interface Options {
  readonly maxBufferSize: number
  readonly codecFor?: RpcSerialization.CodecFor | undefined
}

/** A linear-time NDJSON serialization; `maxBufferSize` is in bytes per frame. */
export const make = (options: Options): RpcSerialization.RpcSerialization["Service"] => {
  const stock = RpcSerialization.makeNdjson({ maxBufferSize: options.maxBufferSize })
  return RpcSerialization.RpcSerialization.of({
    ...stock,
    codecFor: options.codecFor ?? stock.codecFor,
    makeUnsafe: () => {
      const { encode } = stock.makeUnsafe()
      const lines = LineFraming.make({
        maxLineBytes: options.maxBufferSize,
        tooLong: () => new RpcSerialization.MaxBufferSizeExceeded({ maxBufferSize: options.maxBufferSize }),
      })
      const parseLine = (line: Buffer): unknown => {
        try {
          return sanitize(JSON.parse(line.toString("utf8")))
        } catch (cause) {
          lines.reset()
          throw new RpcSerialization.NdjsonDecodeError({ cause })
        }
      }
      const decode = (data: Uint8Array | string): ReadonlyArray<unknown> => lines.push(data).map(parseLine)
      return { decode, encode }
    },
  })
}

/** The serialization as a layer. */
export const layer = (options: Options): Layer.Layer<RpcSerialization.RpcSerialization> =>
  Layer.succeed(RpcSerialization.RpcSerialization)(make(options))

/**
 * Effect's JSON serialization (one message, or an array of them, per
 * WebSocket frame) with the same rewrites as the NDJSON parser, so the web
 * mode answers those envelopes instead of dropping the connection.
 */
export const layerJson = (options: { readonly codecFor?: RpcSerialization.CodecFor | undefined } = {}): Layer.Layer<RpcSerialization.RpcSerialization> =>
  Layer.succeed(RpcSerialization.RpcSerialization)(
    RpcSerialization.RpcSerialization.of({
      ...RpcSerialization.json,
      codecFor: options.codecFor ?? RpcSerialization.json.codecFor,
      makeUnsafe: () => {
        const stock = RpcSerialization.json.makeUnsafe()
        return { decode: (bytes) => stock.decode(bytes).map(sanitize), encode: stock.encode }
      },
    }),
  )
