/**
 * Built-in example task `csvToJsonl`, "Convert CSV to JSON Lines": converts a
 * CSV file of any size into a file with one JSON value per line.
 *
 * Lifecycle: the first iteration empties (or creates) the target. Every
 * iteration then truncates the target to the length recorded in the input's
 * `cursor` (so an iteration re-run after a crash or a retry never writes a row
 * twice), streams the source from the cursor's byte offset through the CSV
 * parser, appends up to `chunkRows` converted rows (fewer when aborted or close
 * to the timeout) and continues with the offset just past the last row written.
 * At the end of the source it answers done; an abort leaves the rows converted
 * so far in the target.
 *
 * With `header` (the default) the first row names the fields and every other
 * row becomes an object; without it every row becomes an array. Values stay
 * strings. A row whose field count differs from the header's, a duplicate
 * column name or malformed quoting fails the task with the byte offset.
 */
import { createReadStream } from "node:fs"
import { type FileHandle, open, stat, writeFile } from "node:fs/promises"
import { resolve } from "node:path"
import { Effect, Schema } from "effect"
import { TaskDefinition } from "@tasklane/tasks"
import * as CsvParser from "./internal/CsvParser.ts"

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

const Cursor = Schema.Struct({
  /** Byte offset in the source of the next row to convert. */
  offset: Count,
  /** Rows written so far (the header not counted). */
  rows: Count,
  /** Length of the target after the last iteration. */
  targetBytes: Count,
  /** The header's field names, once read. */
  columns: Schema.optionalKey(Schema.Array(Schema.String)),
}).annotate({ title: "Checkpoint", description: "Written by the task between iterations; leave it empty" })

/** The input of `csvToJsonl`. */
export const Input = Schema.Struct({
  source: Schema.NonEmptyString.annotate({ title: "CSV file", description: "Path of the UTF-8 CSV file to convert" }),
  target: Schema.NonEmptyString.annotate({ title: "JSON Lines file", description: "Where to write one JSON value per row; replaced if it exists" }),
  // Annotations go before a custom check: JSON Schema drops those of a check it cannot express.
  delimiter: Schema.String.annotate({ title: "Delimiter", description: "The character between fields", default: "," })
    .check(Schema.makeFilter((s) => CsvParser.isValidDelimiter(s) || "must be one ASCII character other than a quote or a line break"))
    .pipe(Schema.withDecodingDefaultKey(Effect.succeed(","))),
  header: Schema.Boolean.annotate({
    title: "First row is a header",
    description: "Name the fields after the first row (rows become objects); otherwise rows become arrays",
    default: true,
  }).pipe(Schema.withDecodingDefaultKey(Effect.succeed(true))),
  chunkRows: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
    .annotate({ title: "Rows per iteration", description: "Checkpoint after converting this many rows", default: 50_000 })
    .pipe(Schema.withDecodingDefaultKey(Effect.succeed(50_000))),
  cursor: Schema.optionalKey(Cursor),
})

/** The decoded input of `csvToJsonl`. */
export type Input = typeof Input.Type
type Cursor = typeof Cursor.Type

/** The output of `csvToJsonl`: rows written, bytes of CSV read, the target's absolute path. */
export interface Output {
  readonly rows: number
  readonly bytes: number
  readonly target: string
}

/** The CSV is well-formed but its rows do not fit together (field counts, column names). */
export class CsvShapeError extends Schema.TaggedError<CsvShapeError>()("CsvShapeError", {
  offset: Schema.Number,
  reason: Schema.String,
}) {
  override get message(): string {
    return `invalid CSV row at byte ${this.offset}: ${this.reason}`
  }
}

const flushBytes = 1 << 20

const rowsText = (n: number): string => (n === 1 ? "1 row" : `${n} rows`)

/** Where the data starts: after a UTF-8 byte order mark, if there is one. */
const dataStart = async (source: string): Promise<number> => {
  const handle = await open(source, "r")
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(3), 0, 3, 0)
    return bytesRead === 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0
  } finally {
    await handle.close()
  }
}

const checkHeader = (fields: ReadonlyArray<string>, offset: number): ReadonlyArray<string> => {
  const seen = new Set<string>()
  for (const name of fields) {
    if (seen.has(name)) throw new CsvShapeError({ offset, reason: `the header names the column ${JSON.stringify(name)} twice` })
    seen.add(name)
  }
  return fields
}

/** Converts a CSV file to JSON Lines in chunks; see the module comment. */
export class CsvToJsonl implements TaskDefinition.Interface<Input, Output> {
  readonly id = "csvToJsonl"
  readonly title = "Convert CSV to JSON Lines"
  readonly description = "Converts a CSV file of any size to one JSON object (or array) per line, in resumable chunks"
  readonly maxIterations = 10_000

  createInputValidation() {
    return Input
  }

  async run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    const { response, state, logger } = controller
    const source = resolve(input.source)
    const target = resolve(input.target)
    if (source === target) return response.error({ message: "The CSV file and the JSON Lines file must differ", code: "SameFile" })
    const size = await stat(source).then((stats) => stats.size, (error: unknown) => error)
    if (typeof size !== "number") {
      const reason = TaskDefinition.toErrorInfo(size).message
      return response.error({ message: `Cannot read ${source}: ${reason}`, code: "SourceUnreadable", data: { source } })
    }
    let cursor = input.cursor
    if (cursor === undefined) {
      await writeFile(target, "")
      cursor = { offset: await dataStart(source), rows: 0, targetBytes: 0 }
      logger.info(`Converting ${source} (${size} bytes) to ${target}`)
    }

    const handle = await open(target, "r+")
    let chunk: Chunk
    try {
      chunk = await convertChunk(input, cursor, source, handle, controller)
    } catch (error) {
      if (error instanceof CsvParser.CsvSyntaxError || error instanceof CsvShapeError) return response.error(error)
      throw error
    } finally {
      await handle.close()
    }
    const next = chunk.cursor
    state.setProgress({ completed: chunk.read, total: Math.max(size, chunk.read), message: `${rowsText(next.rows)} converted` })
    switch (chunk.stop) {
      case "aborted":
        logger.warn(`Aborted: ${target} holds the first ${rowsText(next.rows)}`)
        return response.aborted()
      case "end":
        return response.done(`Converted ${rowsText(next.rows)}`, { rows: next.rows, bytes: chunk.read, target })
      default:
        logger.info(`Checkpoint at byte ${next.offset} of ${size} (${rowsText(next.rows)})`)
        return response.continue({ ...input, cursor: next })
    }
  }
}

/** What one iteration did: the next cursor, how far the source was read, and why it stopped. */
interface Chunk {
  readonly cursor: Cursor
  readonly read: number
  readonly stop: "end" | "chunkRows" | "closeToTimeout" | "aborted"
}

const convertChunk = async (
  input: Input,
  cursor: Cursor,
  source: string,
  target: FileHandle,
  controller: TaskDefinition.Controller<Input, Output>,
): Promise<Chunk> => {
  const { runtime } = controller
  await target.truncate(cursor.targetBytes)
  let position = cursor.targetBytes
  let lines: Array<string> = []
  let buffered = 0
  const flush = async () => {
    const bytes = Buffer.from(lines.join(""), "utf8")
    lines = []
    buffered = 0
    await target.write(bytes, 0, bytes.length, position)
    position += bytes.length
  }

  let { offset, rows, columns } = cursor
  let taken = 0
  const take = (row: CsvParser.Row) => {
    if (input.header && columns === undefined) {
      columns = checkHeader(row.fields, offset)
    } else {
      if (columns !== undefined && row.fields.length !== columns.length) {
        const reason = `row ${rows + 1} has ${row.fields.length} fields but the header has ${columns.length}`
        throw new CsvShapeError({ offset, reason })
      }
      const names = columns
      const line = JSON.stringify(names === undefined ? row.fields : Object.fromEntries(names.map((name, i) => [name, row.fields[i]])))
      lines.push(line, "\n")
      buffered += line.length + 1
      rows++
    }
    offset = row.end
    taken++
  }

  const parser = CsvParser.make({ delimiter: input.delimiter, offset })
  let read = offset
  let stop: Chunk["stop"] = "end"
  reading: for await (const bytes of createReadStream(source, { start: offset, highWaterMark: 1 << 16 })) {
    read += (bytes as Buffer).length
    for (const row of parser.push(bytes as Buffer)) {
      take(row)
      if (taken >= input.chunkRows) stop = "chunkRows"
      else if (runtime.isAborted()) stop = "aborted"
      else if (runtime.isCloseToTimeout()) stop = "closeToTimeout"
      if (stop !== "end") break reading
    }
    if (buffered >= flushBytes) await flush()
  }
  if (stop === "end") for (const row of parser.end()) take(row)
  await flush()
  const next: Cursor = { offset, rows, targetBytes: position, ...(columns === undefined ? {} : { columns }) }
  return { cursor: next, read: stop === "end" ? read : offset, stop }
}

/** The `csvToJsonl` example task. */
export default TaskDefinition.createImplementation({ implementation: CsvToJsonl })
