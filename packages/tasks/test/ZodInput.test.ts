/**
 * `createInputValidation({ validator })` with zod, as Webiny's tasks write it:
 * a plain object of zod fields or a zod schema validates trigger input with
 * every problem at its path; objects are loose (undeclared keys kept, so a
 * continued `{ ...input, cursor }` survives); defaults apply; async
 * refinements work; values without a JSON form of their own are stored as
 * JSON; the JSON Schema is zod's own, in the document form clients read; and
 * what is not a schema is refused when definitions load.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { TaskDefinition } from "../src/host.ts"

type CreateInputValidation = NonNullable<TaskDefinition.Interface["createInputValidation"]>

const taskWith = (createInputValidation: CreateInputValidation): TaskDefinition.Interface => ({
  id: "zodTask",
  title: "zod task",
  createInputValidation,
  run: ({ controller }) => controller.response.done(),
})

const webhook = taskWith(({ validator }) => ({
  webhookId: validator.string().min(1),
  attempts: validator.number().int().max(5).default(3),
  items: validator.array(validator.object({ name: validator.string() })).optional(),
  data: validator.record(validator.unknown()).optional(),
}))

const decode = (task: TaskDefinition.Interface, input: unknown) => TaskDefinition.decodeInput(task, input)

describe("zod input validation", () => {
  it.effect("lists every invalid field with its path", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(decode(webhook, { webhookId: "", attempts: 9, items: [{ name: "a" }, { name: 2 }], data: [] }))
      expect(error._tag).toBe("InvalidInput")
      expect(error.issues.map((issue) => issue.path)).toEqual([["webhookId"], ["attempts"], ["items", 1, "name"], ["data"]])
      expect(error.message).toMatch(/^Invalid input for task definition "zodTask": webhookId: .*; items\[1\]\.name: /)
    }))

  it.effect("applies defaults and keeps keys the schema does not declare (Webiny's loose objects)", () =>
    Effect.gen(function*() {
      expect(yield* decode(webhook, { webhookId: "w", cursor: 40 })).toEqual({ webhookId: "w", attempts: 3, cursor: 40 })
      const schema = taskWith(({ validator }) => validator.object({ folder: validator.string() }))
      expect(yield* decode(schema, { folder: "/a", cursor: 1 })).toEqual({ folder: "/a", cursor: 1 })
    }))

  it.effect("takes a zod schema that is not an object as it is", () =>
    Effect.gen(function*() {
      const list = taskWith(({ validator }) => validator.array(validator.string()).min(1))
      expect(yield* decode(list, ["a"])).toEqual(["a"])
      expect((yield* Effect.flip(decode(list, []))).issues).toEqual([{ path: [], message: expect.stringContaining(">=1") }])
    }))

  it.effect("runs async refinements", () =>
    Effect.gen(function*() {
      const task = taskWith(({ validator }) => ({ name: validator.string().refine(async (name) => name !== "taken", "name is taken") }))
      expect(yield* decode(task, { name: "free" })).toEqual({ name: "free" })
      expect((yield* Effect.flip(decode(task, { name: "taken" }))).issues).toEqual([{ path: ["name"], message: "name is taken" }])
    }))

  it.effect("stores JSON input as it is, and a decoded Date as its ISO string", () =>
    Effect.gen(function*() {
      expect(yield* TaskDefinition.encodeInput(webhook, { webhookId: "w", attempts: 3 })).toEqual({ webhookId: "w", attempts: 3 })
      const dated = taskWith(({ validator }) => ({ from: validator.coerce.date() }))
      const input = yield* decode(dated, { from: "2026-12-01T00:00:00.000Z" })
      expect(input.from).toBeInstanceOf(Date)
      const stored = yield* TaskDefinition.encodeInput(dated, input)
      expect(stored).toEqual({ from: "2026-12-01T00:00:00.000Z" })
      expect(yield* decode(dated, stored)).toEqual(input)
      const big = taskWith(({ validator }) => ({ n: validator.bigint() }))
      expect((yield* Effect.flip(TaskDefinition.encodeInput(big, { n: 1n }))).issues[0]?.message).toMatch(/no JSON form/)
    }))

  it("generates zod's own JSON Schema, in the { dialect, schema, definitions } document form", () => {
    const document = TaskDefinition.inputJsonSchema(webhook)
    expect(document).toEqual({
      dialect: "draft-2020-12",
      schema: {
        type: "object",
        properties: {
          webhookId: { type: "string", minLength: 1 },
          attempts: { type: "integer", maximum: 5, minimum: -9007199254740991, default: 3 },
          items: { type: "array", items: { type: "object", properties: { name: { type: "string" } }, required: ["name"] } },
          data: { type: "object", propertyNames: { type: "string" }, additionalProperties: {} },
        },
        required: ["webhookId"],
      },
      definitions: {},
    })
  })

  it.effect("refuses, at load, a createInputValidation that returns no schema or throws", () =>
    Effect.gen(function*() {
      const problems = (create: unknown) =>
        Effect.flip(TaskDefinition.resolveDefinition({ ...taskWith(() => ({})), createInputValidation: create } as TaskDefinition.Interface))
      expect((yield* problems(() => ({ folder: "string" }))).reasons).toEqual([
        "createInputValidation() must return an Effect Schema, a zod schema, or an object of zod fields",
      ])
      expect((yield* problems(({ validator }: TaskDefinition.CreateInputValidationParams) => (validator as unknown as { nope: () => never }).nope())).reasons[0]).toMatch(
        /^createInputValidation\(\) threw: /,
      )
      const ok = yield* TaskDefinition.resolveDefinition(webhook)
      expect(ok.id).toBe("zodTask")
    }))
})
