/** FrameCheck: which renderer frames reach the daemon, and what the renderer hears back for the others. */
import { describe, expect, it } from "vitest"
import * as FrameCheck from "../src/main/FrameCheck.ts"

const request = (fields: Record<string, unknown>) => JSON.stringify({ _tag: "Request", id: 7, headers: [], ...fields })

const rejected = (frame: string) => {
  const verdict = FrameCheck.check(frame)
  if (verdict._tag !== "Reject") throw new Error(`expected a rejection, got ${JSON.stringify(verdict)}`)
  return { ...verdict, reply: verdict.reply === undefined ? undefined : JSON.parse(verdict.reply) }
}

describe("FrameCheck", () => {
  it("forwards valid requests on one line, with the request id a reply is due for", () => {
    const frames = [
      request({ tag: "Info", payload: null }),
      request({ tag: "ListTasks", payload: { status: "running", limit: 50 } }),
      request({ tag: "Trigger", payload: { definitionId: "reindex", input: { folder: "a\nb" } } }),
      request({ tag: "Subscribe", payload: {}, id: "s-1" }),
    ]
    for (const frame of frames) {
      const verdict = FrameCheck.check(frame)
      expect(verdict._tag).toBe("Forward")
      if (verdict._tag !== "Forward") continue
      expect(verdict.line).not.toContain("\n")
      expect(JSON.parse(verdict.line)).toEqual(JSON.parse(frame))
      expect(verdict.requestId).toBe(JSON.parse(frame).id)
    }
  })

  it("forwards the other client messages and re-serializes a pretty-printed frame on one line", () => {
    for (const message of [{ _tag: "Ack", requestId: 3 }, { _tag: "Interrupt", requestId: "3" }, { _tag: "Ping" }, { _tag: "Eof" }]) {
      const verdict = FrameCheck.check(JSON.stringify(message, null, 2))
      expect(verdict).toEqual({ _tag: "Forward", line: JSON.stringify(message), requestId: undefined })
    }
  })

  it("drops envelope fields the protocol does not have", () => {
    const verdict = FrameCheck.check(request({ tag: "Info", payload: null, smuggled: "x" }))
    expect(verdict._tag === "Forward" && JSON.parse(verdict.line)).not.toHaveProperty("smuggled")
  })

  it("answers an unknown RPC tag with a Die exit for that request", () => {
    const { reason, reply } = rejected(request({ tag: "FormatDisk", payload: {} }))
    expect(reason).toBe("Unknown request tag: FormatDisk")
    expect(reply).toEqual({
      _tag: "Exit",
      requestId: 7,
      exit: { _tag: "Failure", cause: [{ _tag: "Die", defect: expect.stringContaining("Unknown request tag: FormatDisk") }] },
    })
  })

  it("answers a payload that does not decode with the RPC's schema, naming the field", () => {
    const { reply } = rejected(request({ tag: "GetTask", payload: { taskId: 42 } }))
    expect(reply.requestId).toBe(7)
    expect(reply.exit.cause[0].defect).toMatch(/invalid payload for GetTask: .*\n.*taskId/)
    expect(rejected(request({ tag: "ListTasks", payload: { limit: 5000 } })).reply.exit.cause[0].defect).toContain("limit")
    expect(rejected(request({ tag: "ListTasks", payload: { status: "sleeping" } })).reply._tag).toBe("Exit")
  })

  it("answers frames without a usable request id with a Defect frame", () => {
    for (const [frame, text] of [
      ["{ not json", "not JSON"],
      ["[1, 2]", "a JSON object"],
      ["null", "a JSON object"],
      [JSON.stringify({ _tag: "Shutdown" }), "Unknown request tag: Shutdown"],
      [JSON.stringify({ _tag: "Request", tag: "Info", headers: [] }), "id"],
      [JSON.stringify({ _tag: "Request", id: { toString: 0 }, tag: "Info", headers: [] }), "id"],
      [JSON.stringify({ _tag: "Ack" }), "requestId"],
    ] as const) {
      const { reply } = rejected(frame)
      expect(reply._tag).toBe("Defect")
      expect(reply.defect).toContain(text)
    }
  })

  it("answers a request with a bad envelope but a usable id for that id", () => {
    const { reply } = rejected(JSON.stringify({ _tag: "Request", id: 9, tag: "Info", payload: null, headers: { a: 1 } }))
    expect(reply).toMatchObject({ _tag: "Exit", requestId: 9 })
  })

  it("drops a bad notification silently: nobody waits for it", () => {
    expect(rejected(request({ tag: "Nope", isNotification: true })).reply).toBeUndefined()
  })

  it("refuses frames over the size limit", () => {
    const big = request({ tag: "Trigger", payload: { definitionId: "x", input: "a".repeat(FrameCheck.maxFrameBytes) } })
    expect(rejected(big).reply._tag).toBe("Defect")
  })
})
