/**
 * LineFraming: NDJSON lines out of chunks as a socket delivers them, the
 * `\r\n` and empty-line cases, and the size limit.
 */
import { describe, expect, it } from "vitest"
import * as LineFraming from "../src/LineFraming.ts"

const splitter = (maxLineBytes = 1024) =>
  LineFraming.make({ maxLineBytes, tooLong: () => new Error(`longer than ${maxLineBytes}`) })
const text = (lines: ReadonlyArray<Buffer>) => lines.map((line) => line.toString("utf8"))

describe("LineFraming", () => {
  it("joins a line split across chunks and splits several lines in one chunk", () => {
    const lines = splitter()
    expect(text(lines.push(Buffer.from('{"a":')))).toEqual([])
    expect(text(lines.push(Buffer.from("1}\n{")))).toEqual(['{"a":1}'])
    expect(text(lines.push('"b":2}\n{"c":3}\n'))).toEqual(['{"b":2}', '{"c":3}'])
    expect(text(lines.push(Buffer.from("é".repeat(2)).subarray(0, 1)))).toEqual([])
    // A multi-byte character split between chunks comes out whole.
    expect(text(lines.push(Buffer.concat([Buffer.from("é".repeat(2)).subarray(1), Buffer.from("\n")])))).toEqual(["éé"])
  })

  it("drops a trailing \\r and skips empty lines", () => {
    const lines = splitter()
    expect(text(lines.push("one\r\n\n\r\ntwo\n"))).toEqual(["one", "two"])
  })

  it("throws when a line outgrows the limit, then starts afresh", () => {
    const lines = splitter(8)
    expect(text(lines.push("12345"))).toEqual([])
    expect(() => lines.push("6789")).toThrow("longer than 8")
    expect(text(lines.push("ok\n"))).toEqual(["ok"])
    // A complete line over the limit within one chunk too; a line of exactly the limit passes.
    expect(() => lines.push("123456789\n")).toThrow("longer than 8")
    expect(text(lines.push("12345678\n"))).toEqual(["12345678"])
  })

  it("reset forgets the unfinished line", () => {
    const lines = splitter()
    lines.push("half a li")
    lines.reset()
    expect(text(lines.push("ne\n"))).toEqual(["ne"])
  })
})
