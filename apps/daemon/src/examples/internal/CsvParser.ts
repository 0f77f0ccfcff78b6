/**
 * A streaming CSV parser (RFC 4180 plus common practice) that works on bytes,
 * so every record it returns carries the absolute byte offset just past its
 * terminator: a caller can stop anywhere and resume later from that offset.
 *
 * Lifecycle: `make({ delimiter, offset })` where `offset` is where the bytes
 * being fed start in the file; `push(chunk)` for every chunk in order returns
 * the records completed by it; `end()` at end of input returns the last record
 * (one without a trailing line break) or throws on an unterminated quote.
 *
 * Rules: fields are separated by a one-byte (ASCII) delimiter; records end
 * with LF, CRLF or a lone CR; a field that starts with `"` is quoted and may
 * contain delimiters, line breaks and `""` (an escaped quote); a quote inside
 * an unquoted field is kept literally; anything but a delimiter or line break
 * after a closing quote is an error; empty lines are skipped. Fields are
 * decoded as UTF-8 once complete, so multi-byte characters may straddle chunks.
 */
import { Schema } from "effect"

/** One record: its fields, and the byte offset just past its line break (or the end of input). */
export interface Row {
  readonly fields: ReadonlyArray<string>
  readonly end: number
}

/** The input is not valid CSV at byte `offset`. */
export class CsvSyntaxError extends Schema.TaggedError<CsvSyntaxError>()("CsvSyntaxError", {
  offset: Schema.Number,
  reason: Schema.String,
}) {
  override get message(): string {
    return `invalid CSV at byte ${this.offset}: ${this.reason}`
  }
}

/** A push parser; see the module comment for its lifecycle. */
export interface Parser {
  readonly push: (chunk: Uint8Array) => ReadonlyArray<Row>
  readonly end: () => ReadonlyArray<Row>
}

const QUOTE = 0x22
const CR = 0x0d
const LF = 0x0a

// Parser states. AfterQuote: a quote inside a quoted field, either `""` or the
// closing quote. AfterCR: a record ended with CR; an LF right after belongs to it.
const State = { FieldStart: 0, Unquoted: 1, Quoted: 2, AfterQuote: 3, AfterCR: 4 } as const
type State = (typeof State)[keyof typeof State]

/** Whether `delimiter` can be used: one ASCII character that is not a quote or a line break. */
export const isValidDelimiter = (delimiter: string): boolean =>
  delimiter.length === 1 && delimiter.charCodeAt(0) < 0x80 && !['"', "\r", "\n"].includes(delimiter)

/** Start parsing bytes that begin at file offset `offset`. */
export const make = (options: { readonly delimiter: string; readonly offset: number }): Parser => {
  if (!isValidDelimiter(options.delimiter)) {
    throw new RangeError(`CSV delimiter must be one ASCII character other than a quote or line break, got ${JSON.stringify(options.delimiter)}`)
  }
  const delimiter = options.delimiter.charCodeAt(0)
  let base = options.offset // file offset of the current chunk's first byte
  let state: State = State.FieldStart
  let fields: Array<string> = []
  let parts: Array<Uint8Array> = [] // bytes of the current field from earlier chunks
  let lineStarted = false // the current record has at least one byte
  let quotedFieldStart = 0
  let out: Array<Row> = []

  const decode = (chunk: Uint8Array, from: number, to: number): string => {
    const tail = chunk.subarray(from, to)
    const bytes = parts.length === 0 ? tail : Buffer.concat([...parts, tail])
    parts = []
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")
  }
  const endRecord = (end: number) => {
    if (lineStarted) out.push({ fields, end })
    fields = []
    lineStarted = false
  }

  const push = (chunk: Uint8Array): ReadonlyArray<Row> => {
    let sliceStart = state === State.Unquoted || state === State.Quoted ? 0 : -1
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!
      switch (state) {
        case State.AfterCR:
          state = State.FieldStart
          if (byte === LF) {
            endRecord(base + i + 1)
            continue
          }
          endRecord(base + i)
          i-- // a lone CR: look at this byte again as the start of a record
          continue
        case State.FieldStart:
          if (byte === QUOTE) {
            state = State.Quoted
            quotedFieldStart = base + i
            sliceStart = i + 1
            lineStarted = true
          } else if (byte === delimiter) {
            fields.push("")
            lineStarted = true
          } else if (byte === LF || byte === CR) {
            if (lineStarted) fields.push("") // the record ended with a delimiter
            if (byte === CR) state = State.AfterCR
            else endRecord(base + i + 1)
          } else {
            state = State.Unquoted
            sliceStart = i
            lineStarted = true
          }
          continue
        case State.Unquoted:
          if (byte === delimiter || byte === LF || byte === CR) {
            fields.push(decode(chunk, sliceStart, i))
            sliceStart = -1
            state = State.FieldStart
            if (byte === CR) state = State.AfterCR
            else if (byte === LF) endRecord(base + i + 1)
          }
          continue
        case State.Quoted:
          if (byte === QUOTE) {
            parts.push(Buffer.from(chunk.subarray(sliceStart, i)))
            sliceStart = -1
            state = State.AfterQuote
          }
          continue
        case State.AfterQuote:
          if (byte === QUOTE) {
            sliceStart = i // keep this quote: `""` is one literal quote
            state = State.Quoted
          } else if (byte === delimiter || byte === LF || byte === CR) {
            fields.push(decode(chunk, 0, 0))
            state = State.FieldStart
            if (byte === CR) state = State.AfterCR
            else if (byte === LF) endRecord(base + i + 1)
          } else {
            throw new CsvSyntaxError({
              offset: base + i,
              reason: `unexpected ${JSON.stringify(String.fromCharCode(byte))} after the closing quote of a field`,
            })
          }
          continue
      }
    }
    if (sliceStart >= 0) parts.push(Buffer.from(chunk.subarray(sliceStart)))
    base += chunk.length
    const records = out
    out = []
    return records
  }

  const end = (): ReadonlyArray<Row> => {
    switch (state) {
      case State.Quoted:
        throw new CsvSyntaxError({ offset: quotedFieldStart, reason: "a quoted field is never closed" })
      case State.Unquoted:
      case State.AfterQuote:
        fields.push(decode(new Uint8Array(0), 0, 0))
        break
      case State.FieldStart:
        if (lineStarted) fields.push("")
        break
      case State.AfterCR:
        break
    }
    state = State.FieldStart
    endRecord(base)
    const records = out
    out = []
    return records
  }

  return { push, end }
}
