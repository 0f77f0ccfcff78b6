/**
 * Trigger input decoding (every problem with its path), encoding for storage,
 * and the JSON Schema document clients render forms from.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { TaskDefinition } from "../src/host.ts"

const Input = Schema.Struct({
  folder: Schema.String.annotate({ title: "Folder", description: "Where to look" }),
  batchSize: Schema.optional(Schema.Number),
  since: Schema.optional(Schema.NumberFromString),
  tags: Schema.Array(Schema.Struct({ name: Schema.String })),
})

class Import implements TaskDefinition.Interface<typeof Input.Type> {
  readonly id = "import"
  readonly title = "Import"
  createInputValidation() {
    return Input
  }
  run({ controller }: TaskDefinition.RunParams<typeof Input.Type>) {
    return controller.response.done()
  }
}

class Untyped implements TaskDefinition.Interface {
  readonly id = "untyped"
  readonly title = "No schema"
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

const Dated = Schema.Struct({ at: Schema.Date, count: Schema.Number, total: Schema.optional(Schema.BigInt) })

class Report implements TaskDefinition.Interface<typeof Dated.Type> {
  readonly id = "report"
  readonly title = "Report"
  createInputValidation() {
    return Dated
  }
  run({ controller }: TaskDefinition.RunParams<typeof Dated.Type>) {
    return controller.response.done()
  }
}

describe("decodeInput", () => {
  it.effect("returns the decoded input", () =>
    Effect.gen(function*() {
      const input = yield* TaskDefinition.decodeInput(new Import(), { folder: "/a", since: "12", tags: [] })
      expect(input).toEqual({ folder: "/a", since: 12, tags: [] })
    }))

  it.effect("lists every invalid field with its path, not just the first", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        TaskDefinition.decodeInput(new Import(), { folder: 1, batchSize: "ten", tags: [{ name: "a" }, { name: 2 }] }),
      )
      expect(error._tag).toBe("InvalidInput")
      expect(error.definitionId).toBe("import")
      expect(error.issues.map((issue) => issue.path)).toEqual([["folder"], ["batchSize"], ["tags", 1, "name"]])
      expect(error.issues[0]?.message).toBe("Expected string")
      expect(error.message).toBe(
        `Invalid input for task definition "import": folder: Expected string; ` +
          `batchSize: Expected number | undefined; tags[1].name: Expected string`,
      )
    }))

  it.effect("reports missing fields and a non-object input", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(TaskDefinition.decodeInput(new Import(), {}))
      expect(missing.issues).toEqual([
        { path: ["folder"], message: "Missing key" },
        { path: ["tags"], message: "Missing key" },
      ])
      const notObject = yield* Effect.flip(TaskDefinition.decodeInput(new Import(), "folder=/a"))
      expect(notObject.issues).toHaveLength(1)
      expect(notObject.issues[0]?.path).toEqual([])
      expect(notObject.message).toContain(`"import": input: Expected object`)
    }))

  it.effect("passes any input through when the definition has no schema", () =>
    Effect.gen(function*() {
      const raw = { anything: [1, 2] }
      expect(yield* TaskDefinition.decodeInput(new Untyped(), raw)).toBe(raw)
    }))
})

describe("decodeInput and encodeInput with fields that have no JSON form of their own", () => {
  it.effect("accepts a Date as an ISO string and a bigint as digits (what their JSON Schema says), and stores them so", () =>
    Effect.gen(function*() {
      const input = yield* TaskDefinition.decodeInput(new Report(), { at: "2026-11-29T05:00:00.000Z", count: 3, total: "90071992547409930" })
      expect(input).toEqual({ at: new Date("2026-11-29T05:00:00.000Z"), count: 3, total: 90071992547409930n })
      const stored = yield* TaskDefinition.encodeInput(new Report(), input)
      expect(stored).toEqual({ at: "2026-11-29T05:00:00.000Z", count: 3, total: "90071992547409930" })
      // The stored form is JSON and reads back to the same input (the next iteration's input takes this road).
      expect(yield* TaskDefinition.decodeInput(new Report(), JSON.parse(JSON.stringify(stored)))).toEqual(input)
      // Decoded values given directly still decode.
      expect(yield* TaskDefinition.decodeInput(new Report(), input)).toEqual(input)
    }))

  it.effect("reports the schema's own messages, only for the fields the JSON form does not fix", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(TaskDefinition.decodeInput(new Report(), { at: "2026-11-29T05:00:00.000Z", count: "three" }))
      expect(error.issues).toEqual([{ path: ["count"], message: "Expected number" }])
      const both = yield* Effect.flip(TaskDefinition.decodeInput(new Report(), { at: "not a date", count: "three" }))
      expect(both.issues.map((issue) => issue.path)).toEqual([["at"], ["count"]])
      expect(both.issues[1]?.message).toBe("Expected number")
    }))
})

describe("encodeInput", () => {
  it.effect("turns a decoded input back into its stored form", () =>
    Effect.gen(function*() {
      const encoded = yield* TaskDefinition.encodeInput(new Import(), { folder: "/a", since: 12, tags: [] })
      expect(encoded).toEqual({ folder: "/a", since: "12", tags: [] })
    }))
})

describe("inputJsonSchema", () => {
  it("describes the input for clients, with annotations", () => {
    const document = TaskDefinition.inputJsonSchema(new Import())
    expect(document?.dialect).toBe("draft-2020-12")
    expect(document?.schema).toMatchObject({
      type: "object",
      required: ["folder", "tags"],
      properties: { folder: { type: "string", title: "Folder", description: "Where to look" } },
    })
    expect(TaskDefinition.inputJsonSchema(new Untyped())).toBeUndefined()
  })
})
