/**
 * Trigger input checking: decode unknown input with the definition's
 * `createInputValidation()` schema, reporting every problem with its field
 * path, plus the encode direction (for storing decoded input as JSON) and the
 * JSON Schema document clients use to render forms. A definition without a
 * schema accepts any input unchanged.
 */
import { Effect, type JsonSchema, Schema, SchemaIssue } from "effect"
import type { Interface } from "./Interface.ts"

/** One problem with an input: where (`["items", 2, "name"]`, empty for the root) and what. */
export interface InputIssue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

const renderPath = (path: ReadonlyArray<string | number>): string =>
  path.length === 0 ? "input" : path.map((key) => (typeof key === "number" ? `[${key}]` : `.${key}`)).join("").slice(1)

/** The input given for a definition does not match its schema; `issues` lists every problem. */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  definitionId: Schema.String,
  issues: Schema.Array(Schema.Struct({
    path: Schema.Array(Schema.Union([Schema.String, Schema.Number])),
    message: Schema.String,
  })),
}) {
  override get message(): string {
    const issues = this.issues.map((issue) => `${renderPath(issue.path)}: ${issue.message}`)
    return `Invalid input for task definition "${this.definitionId}": ${issues.join("; ")}`
  }
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const toInvalidInput = (definitionId: string) => (error: Schema.SchemaError): InvalidInput =>
  new InvalidInput({
    definitionId,
    issues: formatter(error.issue).issues.map((issue) => ({
      path: (issue.path ?? []).map((segment) => {
        const key = typeof segment === "object" ? segment.key : segment
        return typeof key === "symbol" ? String(key) : key
      }),
      message: issue.message,
    })),
  })

const all = { errors: "all" } as const

const samePath = (a: InputIssue, b: InputIssue) => a.path.length === b.path.length && a.path.every((key, i) => key === b.path[i])

/**
 * Decode `input` with the task's schema (all errors), or pass it through if
 * it has none. Input arrives as JSON (a form, the CLI, the stored input of
 * the next iteration), so a field whose type has no JSON form of its own
 * (`Schema.Date`, `Schema.BigInt`, …) is also accepted in the JSON form its
 * JSON Schema describes (an ISO date string, a string of digits): what the
 * schema refuses is tried again through `Schema.toCodecJson(schema)`. The
 * issues reported are the schema's own (`Expected number`, not the JSON
 * codec's `Expected "Infinity" | "-Infinity" | "NaN"`), for the fields the
 * JSON form did not fix either.
 */
export const decodeInput = <Input>(task: Interface<Input>, input: unknown): Effect.Effect<Input, InvalidInput> =>
  Effect.suspend(() => {
    const schema = task.createInputValidation?.()
    if (schema === undefined) return Effect.succeed(input as Input)
    const invalid = toInvalidInput(task.id)
    return Schema.decodeUnknownEffect(schema)(input, all).pipe(
      Effect.catch((error) =>
        Effect.suspend(() => Schema.decodeUnknownEffect(Schema.toCodecJson(schema))(input, all)).pipe(
          Effect.mapError((jsonError) => {
            const own = invalid(error)
            const remaining = invalid(jsonError).issues
            const issues = own.issues.filter((issue) => remaining.some((left) => samePath(issue, left)))
            return issues.length === 0 ? own : new InvalidInput({ definitionId: task.id, issues })
          }),
          // A schema the JSON codec cannot take (one built by another copy of effect): its own verdict stands.
          Effect.catchDefect(() => Effect.fail(invalid(error))),
        )
      ),
    )
  })

/** Whether `value` survives `JSON.stringify` unchanged: JSON scalars, arrays and plain objects of them. */
const isJson = (value: unknown): boolean => {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true
  if (typeof value === "number") return Number.isFinite(value)
  if (Array.isArray(value)) return value.every(isJson)
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false
  return Object.values(value).every((member) => member === undefined || isJson(member))
}

/**
 * Encode a decoded input back to its stored JSON form with the task's
 * schema, if any. When the schema's own encoding is not JSON (a `Date`, a
 * `bigint`), it goes through `Schema.toCodecJson(schema)` instead, so a date
 * is stored as its ISO string and a bigint as digits (which
 * {@link decodeInput} reads back), not mangled or refused by `JSON.stringify`.
 */
export const encodeInput = <Input>(task: Interface<Input>, input: Input): Effect.Effect<unknown, InvalidInput> =>
  Effect.suspend(() => {
    const schema = task.createInputValidation?.()
    if (schema === undefined) return Effect.succeed<unknown>(input)
    const invalid = toInvalidInput(task.id)
    return Schema.encodeEffect(schema)(input, all).pipe(
      Effect.flatMap((encoded): Effect.Effect<unknown, Schema.SchemaError> =>
        isJson(encoded) ? Effect.succeed(encoded) : Schema.encodeEffect(Schema.toCodecJson(schema))(input, all)
      ),
      Effect.mapError(invalid),
    )
  })

/** The task's input schema as a JSON Schema (draft 2020-12) document, or undefined without one. */
export const inputJsonSchema = (task: Interface): JsonSchema.Document<"draft-2020-12"> | undefined => {
  const schema = task.createInputValidation?.()
  return schema === undefined ? undefined : Schema.toJsonSchemaDocument(schema)
}
