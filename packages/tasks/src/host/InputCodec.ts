/**
 * Trigger input checking, as the host does it: decode unknown input with the
 * definition's `createInputValidation({ validator })` schema, reporting every
 * problem with its field path ({@link InvalidInput}), plus the encode
 * direction (for storing decoded input as JSON) and the JSON Schema document
 * clients use to render forms. A definition without a schema accepts any
 * input unchanged.
 *
 * An Effect Schema and zod (`internal/ZodInput.ts`) serve alike. A task's
 * schema is built once, on first use, and kept for the task instance.
 */
import { Effect, type JsonSchema, Schema, SchemaIssue } from "effect"
import type { Interface } from "../Interface.ts"
import { type CreateInputValidationParams, type InputIssue, InvalidInput } from "../InputValidation.ts"
import * as ZodInput from "../internal/ZodInput.ts"

/** The JSON Schema document of a task's input, as clients receive it. */
export type InputJsonSchema = JsonSchema.Document<"draft-2020-12">

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Every problem a schema reported, with its field path (a symbol key as its string form). */
export const inputIssuesOf = (error: Schema.SchemaError): ReadonlyArray<InputIssue> =>
  formatter(error.issue).issues.map((issue) => ({
    path: (issue.path ?? []).map((segment) => {
      const key = typeof segment === "object" ? segment.key : segment
      return typeof key === "symbol" ? String(key) : key
    }),
    message: issue.message,
  }))

const toInvalidInput = (definitionId: string) => (error: Schema.SchemaError): InvalidInput =>
  new InvalidInput({ definitionId, issues: inputIssuesOf(error) })

const all = { errors: "all" } as const

/** A task's input schema, resolved once: none, an Effect Schema, or zod. */
type Resolved =
  | { readonly _tag: "None" }
  | { readonly _tag: "Effect"; readonly schema: Schema.Codec<unknown, unknown> }
  | ZodInput.ZodInput

const params: CreateInputValidationParams = { validator: ZodInput.validator }
const resolvedByTask = new WeakMap<object, Resolved>()

/** What `createInputValidation` returned, resolved; or a sentence saying why it is unusable. */
const resolve = (returned: unknown): Resolved | string => {
  if (returned === undefined) return { _tag: "None" }
  if (Schema.isSchema(returned)) return { _tag: "Effect", schema: returned as Schema.Codec<unknown, unknown> }
  if (ZodInput.isZodSchema(returned) || ZodInput.isZodShape(returned)) return ZodInput.fromZod(returned)
  return "createInputValidation() must return an Effect Schema, a zod schema, or an object of zod fields"
}

/**
 * Calls the task's `createInputValidation({ validator })` once and keeps what
 * it returned; throws (a defect where an Effect runs it) when that is
 * unusable, which the daemon rules out at load with {@link inputValidationProblem}.
 */
const resolvedOf = (task: Interface): Resolved => {
  const cached = resolvedByTask.get(task)
  if (cached !== undefined) return cached
  const resolved = task.createInputValidation === undefined ? { _tag: "None" as const } : resolve(task.createInputValidation(params))
  if (typeof resolved === "string") throw new TypeError(resolved)
  resolvedByTask.set(task, resolved)
  return resolved
}

/** The task's input schema when it is an Effect Schema (undefined: none, or zod). */
export const effectInputSchema = (task: Interface): Schema.Codec<unknown, unknown> | undefined => {
  const resolved = resolvedOf(task)
  return resolved._tag === "Effect" ? resolved.schema : undefined
}

/** Why the task's `createInputValidation` is unusable (it threw or returned no schema), or undefined. */
export const inputValidationProblem = (task: Interface): string | undefined => {
  if (task.createInputValidation === undefined) return undefined
  let returned: unknown
  try {
    returned = task.createInputValidation(params)
  } catch (thrown) {
    return `createInputValidation() threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`
  }
  const resolved = resolve(returned)
  if (typeof resolved === "string") return resolved
  resolvedByTask.set(task, resolved)
  return undefined
}

const decodeZod = (task: Interface, input: ZodInput.ZodInput, value: unknown): Effect.Effect<any, InvalidInput> => {
  const settle = (parsed: Awaited<ReturnType<typeof ZodInput.parse>>) =>
    parsed.success ? Effect.succeed(parsed.data) : Effect.fail(new InvalidInput({ definitionId: task.id, issues: parsed.issues }))
  const parsed = ZodInput.parse(input, value)
  return parsed instanceof Promise ? Effect.promise(() => parsed).pipe(Effect.flatMap(settle)) : settle(parsed)
}

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
    const resolved = resolvedOf(task)
    if (resolved._tag === "None") return Effect.succeed(input as Input)
    if (resolved._tag === "Zod") return decodeZod(task, resolved, input)
    const schema = resolved.schema as Schema.Codec<Input, unknown>
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
    const resolved = resolvedOf(task)
    if (resolved._tag === "None") return Effect.succeed<unknown>(input)
    if (resolved._tag === "Zod") {
      const encoded = ZodInput.toStored(resolved, input, isJson)
      return encoded === undefined
        ? Effect.fail(new InvalidInput({ definitionId: task.id, issues: [{ path: [], message: "the input has no JSON form to store (a bigint or a cycle?)" }] }))
        : Effect.succeed(encoded.stored)
    }
    const schema = resolved.schema as Schema.Codec<Input, unknown>
    const invalid = toInvalidInput(task.id)
    return Schema.encodeEffect(schema)(input, all).pipe(
      Effect.flatMap((encoded): Effect.Effect<unknown, Schema.SchemaError> =>
        isJson(encoded) ? Effect.succeed(encoded) : Schema.encodeEffect(Schema.toCodecJson(schema))(input, all)
      ),
      Effect.mapError(invalid),
    )
  })

/** The task's input schema as a JSON Schema (draft 2020-12) document (zod's own output for zod), or undefined without one. */
export const inputJsonSchema = (task: Interface): InputJsonSchema | undefined => {
  const resolved = resolvedOf(task)
  switch (resolved._tag) {
    case "None":
      return undefined
    case "Effect":
      return Schema.toJsonSchemaDocument(resolved.schema)
    case "Zod":
      return ZodInput.jsonSchemaDocument(resolved) as InputJsonSchema
  }
}
