/**
 * The byte-level CSV parser behind `csvToJsonl`: quoting rules, line endings,
 * errors with offsets, and (property) any CSV split into any chunks parses to
 * the same rows with the byte offset just past each row.
 */
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as CsvParser from "../../src/examples/internal/CsvParser.ts"

const parse = (text: string, options: { readonly delimiter?: string; readonly chunk?: number } = {}) => {
  const bytes = Buffer.from(text, "utf8")
  const parser = CsvParser.make({ delimiter: options.delimiter ?? ",", offset: 0 })
  const size = options.chunk ?? bytes.length
  const rows: Array<CsvParser.Row> = []
  for (let at = 0; at < bytes.length; at += size) rows.push(...parser.push(bytes.subarray(at, at + size)))
  rows.push(...parser.end())
  return rows
}
const fieldsOf = (text: string, options?: { readonly delimiter?: string; readonly chunk?: number }) =>
  parse(text, options).map((row) => row.fields)

describe("CsvParser", () => {
  it("parses quoted delimiters, escaped quotes and line breaks inside quotes", () => {
    const text = 'name,note\n"Smith, Jo","said ""hi""\nthen left"\nplain,5\'11" tall\n'
    expect(fieldsOf(text)).toEqual([["name", "note"], ["Smith, Jo", 'said "hi"\nthen left'], ["plain", '5\'11" tall']])
  })

  it("accepts LF, CRLF and lone CR, skips empty lines, keeps empty fields, and needs no final line break", () => {
    expect(fieldsOf("a,b\r\n\r\n1,\r2,3\n,\n\"\"\nlast,row")).toEqual([["a", "b"], ["1", ""], ["2", "3"], ["", ""], [""], ["last", "row"]])
  })

  it("reports the byte offset just past each row's line break", () => {
    expect(parse("ab,c\r\nd\n\ne").map((row) => row.end)).toEqual([6, 8, 10])
  })

  it("uses another delimiter", () => {
    expect(fieldsOf('a;"b;c\tx";d\n', { delimiter: ";" })).toEqual([["a", "b;c\tx", "d"]])
    expect(() => CsvParser.make({ delimiter: '"', offset: 0 })).toThrow(RangeError)
    expect(CsvParser.isValidDelimiter("\t")).toBe(true)
    expect(CsvParser.isValidDelimiter("é")).toBe(false)
  })

  it("fails on text after a closing quote and on an unterminated quote, naming the byte", () => {
    expect(() => parse('a,"b"c\n')).toThrow(new CsvParser.CsvSyntaxError({ offset: 5, reason: 'unexpected "c" after the closing quote of a field' }))
    expect(() => parse('a\n"open,\nstill open')).toThrow("invalid CSV at byte 2: a quoted field is never closed")
  })

  it("decodes multi-byte characters split across chunks", () => {
    expect(fieldsOf('"é😀",ü\nß,"x"\n', { chunk: 1 })).toEqual([["é😀", "ü"], ["ß", "x"]])
  })

  it("parses any CSV split into any chunks to the rows it was written from", () => {
    const field = fc.string({ unit: fc.constantFrom("a", "b", " ", ",", '"', "\n", "\r", "é", "😀"), maxLength: 6 })
    const row = fc.array(field, { minLength: 1, maxLength: 4 })
    const csv = fc.record({
      rows: fc.array(row, { minLength: 1, maxLength: 8 }),
      crlf: fc.boolean(),
      finalBreak: fc.boolean(),
      quoteAll: fc.boolean(),
      chunk: fc.integer({ min: 1, max: 20 }),
    })
    fc.assert(
      fc.property(csv, ({ rows, crlf, finalBreak, quoteAll, chunk }) => {
        const quote = (value: string) =>
          quoteAll || /[,"\r\n]/.test(value) || value === "" ? `"${value.replaceAll('"', '""')}"` : value
        const lines = rows.map((fields) => fields.map(quote).join(","))
        const breakText = crlf ? "\r\n" : "\n"
        const text = lines.join(breakText) + (finalBreak ? breakText : "")
        const parsed = parse(text, { chunk })
        expect(parsed.map((r) => r.fields)).toEqual(rows)
        let end = 0
        const ends = lines.map((line, i) => (end += Buffer.byteLength(line) + (i < lines.length - 1 || finalBreak ? breakText.length : 0)))
        expect(parsed.map((r) => r.end)).toEqual(ends)
      }),
      { numRuns: 500 },
    )
  })
})
