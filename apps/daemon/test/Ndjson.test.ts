/**
 * The daemon's NDJSON framing (src/internal/Ndjson.ts): same results as
 * Effect's parser for good input, however the bytes are chunked; byte-exact
 * frame limit; envelope rewrites that keep RpcServer answering.
 */
import { describe, expect, it } from "@effect/vitest"
import { RpcSerialization } from "effect/rpc"
import fc from "fast-check"
import * as Ndjson from "../src/internal/Ndjson.ts"

const parser = (maxBufferSize = 1024) => Ndjson.make({ maxBufferSize }).makeUnsafe()
const bytes = (text: string) => new TextEncoder().encode(text)

describe("Ndjson", () => {
  it("decodes the same objects however the bytes are split (including inside UTF-8 characters)", () => {
    const item = fc.dictionary(fc.string({ unit: "binary", maxLength: 4 }), fc.string({ unit: "binary", maxLength: 8 }), { maxKeys: 3 })
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (items, cuts) => {
        const encoded = bytes(items.map((value) => JSON.stringify(value) + "\n").join(""))
        const points = [...new Set(cuts.map((cut) => cut % (encoded.length + 1)))].sort((a, b) => a - b)
        const decode = parser(1 << 20)
        const out: Array<unknown> = []
        let start = 0
        for (const point of [...points, encoded.length]) {
          out.push(...decode.decode(encoded.subarray(start, point)))
          start = point
        }
        expect(out).toEqual(items)
      }),
    )
  })

  it("accepts CRLF, skips empty lines and takes strings as well as bytes", () => {
    expect(parser().decode('{"a":1}\r\n\n{"b":2}\n')).toEqual([{ a: 1 }, { b: 2 }])
  })

  it("counts the frame limit in bytes and resynchronises after exceeding it", () => {
    const decode = parser(8)
    expect(decode.decode(bytes('"\u00e9\u00e9\u00e9"\n'))).toEqual([{}]) // 8 bytes: at the limit
    expect(() => decode.decode(bytes('"\u00e9\u00e9\u00e9\u00e9'))).toThrow(RpcSerialization.MaxBufferSizeExceeded)
    expect(decode.decode(bytes('{"a":1}\n'))).toEqual([{ a: 1 }])
  })

  it("throws NdjsonDecodeError for a line that is not JSON, then parses the next line", () => {
    const decode = parser()
    expect(() => decode.decode("nope\n")).toThrow(RpcSerialization.NdjsonDecodeError)
    expect(decode.decode('{"a":1}\n')).toEqual([{ a: 1 }])
  })

  it("rewrites envelopes RpcServer would crash on", () => {
    const decode = parser()
    const one = (value: unknown) => decode.decode(JSON.stringify(value) + "\n")[0]
    expect(one(null)).toEqual({})
    expect(one({ _tag: { toString: 0 } })).toEqual({})
    expect(one({ _tag: "Request", id: { toString: 0 }, tag: "Info" })).toEqual({ _tag: "Request", id: null, tag: "Info" })
    expect(one({ _tag: "Request", id: "1", tag: 5 })).toEqual({ _tag: "Request", id: "1", tag: "(invalid tag)" })
    expect(one({ _tag: "Request", id: "1", tag: "Info", headers: [5] }))
      .toEqual({ _tag: "Request", id: "1", tag: "Info (invalid headers)", headers: [] })
    const good = { _tag: "Request", id: "1", tag: "Info", payload: null, headers: [["a", "b"]] }
    expect(one(good)).toEqual(good)
  })

  it("encodes exactly like Effect's NDJSON serialization", () => {
    const message = { _tag: "Exit", requestId: "1", exit: { _tag: "Success", value: "\u00e9" } }
    expect(parser().encode(message)).toBe(RpcSerialization.makeNdjson().makeUnsafe().encode(message))
  })
})
