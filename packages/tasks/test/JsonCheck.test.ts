/**
 * What the daemon records when a `continue()` answer cannot be stored:
 * what is wrong and at which path, for inputs with and without a schema,
 * dates and bigints in their JSON form counting as storable.
 */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { TaskDefinition } from "../src/host.ts"

const task = (schema?: Schema.Codec<any, unknown>): TaskDefinition.Interface => ({
  id: "t",
  title: "T",
  run: ({ controller }) => controller.response.done(),
  ...(schema === undefined ? {} : { createInputValidation: () => schema }),
})

describe("findNotJson", () => {
  it("finds the first value JSON cannot keep, with its path", () => {
    class Cursor {}
    const circular: Record<string, unknown> = { a: {} }
    ;(circular["a"] as Record<string, unknown>)["self"] = circular["a"]
    expect(TaskDefinition.findNotJson({ a: [1, { b: () => 1 }] })).toEqual({ path: ["a", 1, "b"], found: "a function" })
    expect(TaskDefinition.findNotJson({ n: 10n })).toEqual({ path: ["n"], found: "a bigint (10n)" })
    expect(TaskDefinition.findNotJson([1, Number.NaN])).toEqual({ path: [1], found: "NaN" })
    expect(TaskDefinition.findNotJson({ list: [undefined] })).toEqual({ path: ["list", 0], found: "undefined" })
    expect(TaskDefinition.findNotJson({ at: new Map() })).toEqual({ path: ["at"], found: "an instance of Map" })
    expect(TaskDefinition.findNotJson({ c: new Cursor() })).toEqual({ path: ["c"], found: "an instance of Cursor" })
    expect(TaskDefinition.findNotJson(circular)).toEqual({ path: ["a", "self"], found: "a circular reference (back to value.a)" })
  })

  it("accepts plain JSON data, undefined object members included", () => {
    expect(TaskDefinition.findNotJson({ a: [1, "x", null, true, { b: undefined }], c: Object.create(null) })).toBeUndefined()
  })
})

describe("describeUnstorableContinue", () => {
  it("without a schema: the path of what is not JSON in the input", () => {
    expect(TaskDefinition.describeUnstorableContinue(task(), { page: 2, fetch: { retry: () => 1 } }, undefined)).toBe(
      "the input given to continue() is not JSON-serializable: input.fetch.retry is a function",
    )
  })

  it("the output kept for the next iteration is checked first", () => {
    expect(TaskDefinition.describeUnstorableContinue(task(), { page: 2 }, { total: 5n })).toBe(
      "the output kept for the next iteration (updateOutput) is not JSON-serializable: output.total is a bigint (5n)",
    )
  })

  it("with a schema: every mismatch with its path, or what the schema let through that JSON cannot hold", () => {
    const Input = Schema.Struct({ since: Schema.Date, cursor: Schema.Number, extra: Schema.Unknown })
    expect(TaskDefinition.describeUnstorableContinue(task(Input), { since: new Date(0), cursor: "x", extra: 1 }, undefined)).toBe(
      "the input given to continue() does not match the task's input schema: input.cursor: Expected number",
    )
    // The Date is stored as an ISO string: not the problem; the function under `extra` is.
    expect(TaskDefinition.describeUnstorableContinue(task(Input), { since: new Date(0), cursor: 1, extra: { items: [{ id: 1, parse: () => 1 }] } }, undefined)).toBe(
      "the input given to continue() is not JSON-serializable: input.extra.items[0].parse is a function",
    )
  })
})
