/**
 * Checks every frame the renderer sends before the main process forwards it
 * to the daemon: the renderer is untrusted (it renders task data), so main
 * only writes messages to the daemon's socket that decode with the shared
 * Schemas.
 *
 * A frame is one JSON-serialized Effect RPC client message
 * (`RpcMessage.FromClientEncoded`: Request, Ack, Interrupt, Ping, Eof). A
 * Request's `tag` must name an RPC of `TaskRpc.TaskRpcs` and its `payload`
 * must decode with that RPC's payload schema (the JSON codec, as
 * `RpcSerialization.json` uses it).
 *
 * Verdicts:
 * - `Forward`: the message re-serialized on one line (excess envelope fields
 *   dropped, the payload as the renderer encoded it), ready for the NDJSON
 *   socket, with the request id a reply is due for.
 * - `Reject` with a `reply` frame for the renderer, the way `RpcServer`
 *   answers the same mistakes: a Request with a usable id gets an `Exit`
 *   failure (a Die with a readable message) for that id; a frame without a
 *   usable id gets a connection-level `Defect` frame. A bad notification
 *   (`isNotification`) has no one to answer and gets no reply.
 */
import { TaskRpc } from "@tasklane/core/client"
import { Exit, Schema } from "effect"

/** The largest frame accepted from the renderer (the daemon's own per-line limit is 16 MiB). */
export const maxFrameBytes = 16 * 1024 * 1024

const RequestId = Schema.Union([Schema.String, Schema.Finite])

const RequestEnvelope = Schema.Struct({
  _tag: Schema.Literal("Request"),
  id: RequestId,
  tag: Schema.String,
  // RpcClient leaves `payload` out for RPCs without one (`undefined` is dropped by JSON).
  payload: Schema.optionalKey(Schema.Unknown),
  headers: Schema.Array(Schema.Tuple([Schema.String, Schema.String])),
  isNotification: Schema.optionalKey(Schema.Literal(true)),
  discard: Schema.optionalKey(Schema.Literal(true)),
  traceId: Schema.optionalKey(Schema.String),
  spanId: Schema.optionalKey(Schema.String),
  sampled: Schema.optionalKey(Schema.Boolean),
})

/** The envelopes a client may send (`RpcMessage.FromClientEncoded`). */
export const ClientMessage = Schema.Union([
  RequestEnvelope,
  Schema.Struct({ _tag: Schema.Literal("Ack"), requestId: RequestId }),
  Schema.Struct({ _tag: Schema.Literal("Interrupt"), requestId: RequestId }),
  Schema.Struct({ _tag: Schema.Literal("Ping") }),
  Schema.Struct({ _tag: Schema.Literal("Eof") }),
])

const messageTags = new Set<unknown>(["Request", "Ack", "Interrupt", "Ping", "Eof"])

/** What to do with one renderer frame. */
export type Verdict =
  | {
    readonly _tag: "Forward"
    readonly line: string
    /** The request id a reply is expected for (absent for Ack, Interrupt, Ping, Eof and notifications). */
    readonly requestId?: string | number | undefined
  }
  | { readonly _tag: "Reject"; readonly reason: string; readonly reply: string | undefined }

const decodeEnvelope = Schema.decodeUnknownExit(ClientMessage)
const encodeDefect = Schema.encodeSync(Schema.toCodecJson(Schema.Defect()))

const payloadDecoders = new Map(
  [...TaskRpc.TaskRpcs.requests].map(([tag, rpc]) => [tag, Schema.decodeUnknownExit(Schema.toCodecJson(rpc.payloadSchema))]),
)

const issueText = (exit: Exit.Exit<unknown, Schema.SchemaError>): string =>
  Exit.isFailure(exit)
    ? exit.cause.reasons.map((reason) =>
      reason._tag === "Fail" ? reason.error.message : String(reason._tag === "Die" ? reason.defect : "interrupted")
    ).join("; ")
    : ""

const describe = (reason: string) => `the desktop app refused a frame from the UI: ${reason}`

/** A connection-level `Defect` frame (no request id to answer). */
export const defectFrame = (reason: string): string =>
  JSON.stringify({ _tag: "Defect", defect: encodeDefect(describe(reason)) })

/** An `Exit` frame failing request `id` with a Die carrying `reason`. */
export const dieFrame = (id: string | number, reason: string): string =>
  JSON.stringify({
    _tag: "Exit",
    requestId: id,
    exit: { _tag: "Failure", cause: [{ _tag: "Die", defect: encodeDefect(describe(reason)) }] },
  })

const reject = (reason: string, reply: string | undefined): Verdict => ({ _tag: "Reject", reason, reply })

const usableId = (value: unknown): string | number | undefined =>
  typeof value === "string" || (typeof value === "number" && Number.isFinite(value)) ? value : undefined

/** Decide whether a renderer frame may go to the daemon; never throws. */
export const check = (frame: string): Verdict => {
  if (frame.length > maxFrameBytes || Buffer.byteLength(frame) > maxFrameBytes) return reject(`frame larger than ${maxFrameBytes} bytes`, defectFrame("frame too large"))
  let json: unknown
  try {
    json = JSON.parse(frame)
  } catch (cause) {
    const reason = `not JSON (${cause instanceof Error ? cause.message : String(cause)})`
    return reject(reason, defectFrame(reason))
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    const reason = "expected one RPC message (a JSON object) per frame"
    return reject(reason, defectFrame(reason))
  }
  const raw = json as Record<string, unknown>
  if (!messageTags.has(raw._tag)) {
    const reason = `Unknown request tag: ${String(raw._tag)}`
    return reject(reason, defectFrame(reason))
  }
  const envelope = decodeEnvelope(json)
  if (Exit.isFailure(envelope)) {
    const reason = `not an RPC client message: ${issueText(envelope)}`
    // Answer for the request if the envelope at least names one.
    if (raw._tag === "Request" && raw.isNotification === true) return reject(reason, undefined)
    const id = raw._tag === "Request" ? usableId(raw.id) : undefined
    return reject(reason, id === undefined ? defectFrame(reason) : dieFrame(id, reason))
  }
  const message = envelope.value
  if (message._tag !== "Request") return { _tag: "Forward", line: JSON.stringify(message) }
  const answer = (reason: string) => reject(reason, message.isNotification ? undefined : dieFrame(message.id, reason))
  const decodePayload = payloadDecoders.get(message.tag)
  if (decodePayload === undefined) return answer(`Unknown request tag: ${message.tag}`)
  const payload = decodePayload(message.payload)
  if (Exit.isFailure(payload)) return answer(`invalid payload for ${message.tag}: ${issueText(payload)}`)
  return { _tag: "Forward", line: JSON.stringify(message), requestId: message.isNotification ? undefined : message.id }
}
