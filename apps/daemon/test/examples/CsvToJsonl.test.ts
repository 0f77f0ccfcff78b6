/**
 * `csvToJsonl` on real temp files: tricky CSV converted correctly across
 * several chunks, a large file streamed in many iterations, headerless input,
 * re-run iterations that do not duplicate rows, abort, and typed failures.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { TaskDefinition } from "@tasklane/tasks/host"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import csvToJsonl from "../../src/examples/CsvToJsonl.ts"
import { last, load, makeClock, runIteration, runToEnd, store } from "./TaskHarness.ts"

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tasklane-csv-"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const tricky = [
  "\uFEFFid,name,note\r\n",
  '1,"Smith, Jo","said ""hi"""\r\n',
  '2,Zoë,"two\r\nlines, with a comma"\r\n',
  "3,,\r\n",
  '4,"""quoted""",😀\r\n',
  "\r\n",
  '5,last,"no final line break"',
].join("")
const trickyRows = [
  { id: "1", name: "Smith, Jo", note: 'said "hi"' },
  { id: "2", name: "Zoë", note: "two\r\nlines, with a comma" },
  { id: "3", name: "", note: "" },
  { id: "4", name: '"quoted"', note: "😀" },
  { id: "5", name: "last", note: "no final line break" },
]

const files = (content: string) => {
  const source = join(dir, "in.csv")
  writeFileSync(source, content)
  return { source, target: join(dir, "out.jsonl") }
}
const readJsonl = (path: string) =>
  readFileSync(path, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as unknown)

describe("csvToJsonl", () => {
  it("converts quoted commas, line breaks and escaped quotes correctly across several chunks", async () => {
    const definition = await load(csvToJsonl)
    const { source, target } = files(tricky)
    const iterations = await runToEnd(definition, { source, target, chunkRows: 2 })
    expect(iterations.map(({ result }) => result._tag)).toEqual(["Continue", "Continue", "Done"]) // the header counts
    expect(last(iterations)).toEqual({
      _tag: "Done",
      message: "Converted 5 rows",
      output: { rows: 5, bytes: Buffer.byteLength(tricky), target },
    })
    expect(readJsonl(target)).toEqual(trickyRows)
    const progress = iterations.map((iteration) => iteration.progress.at(-1))
    expect(progress.map((p) => p?.message)).toEqual(["1 row converted", "3 rows converted", "5 rows converted"])
    expect(progress.at(-1)).toMatchObject({ completed: Buffer.byteLength(tricky), total: Buffer.byteLength(tricky) })
  })

  it("streams a large file in many iterations without losing or repeating a row", async () => {
    const definition = await load(csvToJsonl)
    const lines = ["n,text"]
    for (let n = 0; n < 20_000; n++) lines.push(n % 7 === 0 ? `${n},"multi\nline, ""${n}"""` : `${n},row ${n}`)
    const { source, target } = files(lines.join("\n") + "\n")
    const iterations = await runToEnd(definition, { source, target, chunkRows: 3000 })
    expect(iterations.length).toBe(7)
    const rows = readJsonl(target) as Array<{ n: string; text: string }>
    expect(rows.length).toBe(20_000)
    expect(rows.map((row) => Number(row.n))).toEqual(Array.from({ length: 20_000 }, (_, n) => n))
    expect(rows[14]).toEqual({ n: "14", text: 'multi\nline, "14"' })
  })

  it("checkpoints when the iteration is close to its timeout", async () => {
    const definition = await load(csvToJsonl)
    const { source, target } = files(tricky)
    // Every clock read costs 250 s: the third row's check leaves 150 s of 900, within the 180 s margin.
    const iterations = await runToEnd(definition, { source, target }, { clock: makeClock(250_000) })
    expect(iterations.map(({ result }) => result._tag)).toEqual(["Continue", "Done"])
    expect(iterations[0]!.logs.at(-1)?.message).toBe(
      `Checkpoint at byte ${Buffer.byteLength(tricky.slice(0, tricky.indexOf("3,,")))} of ${Buffer.byteLength(tricky)} (2 rows)`,
    )
    expect(readJsonl(target)).toEqual(trickyRows)
  })

  it("writes arrays without a header, with another delimiter", async () => {
    const definition = await load(csvToJsonl)
    const { source, target } = files('a;"b;c"\n1;2\n')
    const result = last(await runToEnd(definition, { source, target, header: false, delimiter: ";" }))
    expect(result).toMatchObject({ _tag: "Done", output: { rows: 2 } })
    expect(readJsonl(target)).toEqual([["a", "b;c"], ["1", "2"]])
  })

  it("does not duplicate rows when an iteration runs again with the same input (crash, retry)", async () => {
    const definition = await load(csvToJsonl)
    const { source, target } = files(tricky)
    const first = await runIteration(definition, { source, target, chunkRows: 2 })
    if (first.result._tag !== "Continue") throw new Error("expected continue")
    const second = await store(definition, first.result.input)
    await runIteration(definition, second) // its answer is "lost"
    const rest = await runToEnd(definition, second)
    expect(last(rest)._tag).toBe("Done")
    expect(readJsonl(target)).toEqual(trickyRows)
  })

  it("answers aborted, keeping the rows converted so far", async () => {
    const definition = await load(csvToJsonl)
    const { source, target } = files(tricky)
    const abort = new AbortController()
    const iterations = await runToEnd(definition, { source, target, chunkRows: 2 }, {
      signal: abort.signal,
      beforeIteration: (index) => (index === 1 ? abort.abort() : undefined),
    })
    expect(iterations.map(({ result }) => result._tag)).toEqual(["Continue", "Aborted"])
    expect(iterations[1]!.logs.at(-1)?.message).toBe(`Aborted: ${target} holds the first 2 rows`)
    expect(readJsonl(target)).toEqual(trickyRows.slice(0, 2))
  })

  it("fails with the byte offset of a row whose field count differs from the header's", async () => {
    const definition = await load(csvToJsonl)
    const { source, target } = files("a,b\n1,2\n3,4,5\n")
    const { result } = await runIteration(definition, { source, target })
    expect(result).toMatchObject({
      _tag: "Error",
      error: { code: "CsvShapeError", message: "invalid CSV row at byte 8: row 2 has 3 fields but the header has 2" },
    })
  })

  it("fails with a structured error when the CSV file cannot be read", async () => {
    const definition = await load(csvToJsonl)
    const source = join(dir, "missing.csv")
    const { result } = await runIteration(definition, { source, target: join(dir, "out.jsonl") })
    expect(result).toMatchObject({ _tag: "Error", error: { code: "SourceUnreadable", data: { source } } })
    expect(result._tag === "Error" && result.error.message).toMatch(/^Cannot read .*missing\.csv: ENOENT/)
  })

  it("fails on malformed quoting and on a duplicate column", async () => {
    const definition = await load(csvToJsonl)
    const { source, target } = files('a,b\n"1"x,2\n')
    expect((await runIteration(definition, { source, target })).result).toMatchObject({
      _tag: "Error",
      error: { code: "CsvSyntaxError", message: 'invalid CSV at byte 7: unexpected "x" after the closing quote of a field' },
    })
    writeFileSync(source, "a,b,a\n1,2,3\n")
    expect((await runIteration(definition, { source, target })).result).toMatchObject({
      _tag: "Error",
      error: { code: "CsvShapeError", message: 'invalid CSV row at byte 0: the header names the column "a" twice' },
    })
  })

  it("validates its input by field path, with the defaults applied", async () => {
    const definition = await load(csvToJsonl)
    const invalid = await Effect.runPromise(Effect.flip(TaskDefinition.decodeInput(definition.task, { source: "", target: "x", delimiter: "ab" })))
    expect(invalid.issues.map((issue) => issue.path)).toEqual([["source"], ["delimiter"]])
    expect(invalid.issues[1]?.message).toBe("must be one ASCII character other than a quote or a line break")
    const decoded = await Effect.runPromise(TaskDefinition.decodeInput(definition.task, { source: "a.csv", target: "a.jsonl" }))
    expect(decoded).toEqual({ source: "a.csv", target: "a.jsonl", delimiter: ",", header: true, chunkRows: 50_000 })
    expect(TaskDefinition.inputJsonSchema(definition.task)?.schema).toMatchObject({
      required: ["source", "target"],
      properties: { source: { title: "CSV file" }, delimiter: { title: "Delimiter", default: "," } },
    })
  })
})
