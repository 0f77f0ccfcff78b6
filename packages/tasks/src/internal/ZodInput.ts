/**
 * zod as an input validator, the way Webiny's background tasks use it:
 * `createInputValidation({ validator })` receives zod and returns a zod
 * schema or a plain object of zod fields. As in Webiny, an object schema is
 * made loose (keys it does not declare pass through unchanged), so a task that
 * continues with `{ ...input, cursor }` keeps its cursor on the next iteration.
 *
 * Plain synchronous code on the per-iteration path: a schema is parsed
 * synchronously and only falls back to zod's async parse when it has async
 * refinements. Schemas built by another copy of zod are accepted by shape
 * (`_zod`), not by `instanceof`.
 */
import { z } from "zod"

/** One problem with an input, as zod reports it (path and message). */
export interface ZodIssue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

/** A zod schema ready to validate task input: the loose validating schema and the one forms are generated from. */
export interface ZodInput {
  readonly _tag: "Zod"
  /** Validates (object schemas loosened). */
  readonly schema: z.ZodType
  /** As returned by the task: its JSON Schema is what clients render. */
  readonly declared: z.ZodType
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

/** Whether `u` is a zod (v4) schema, from any copy of zod. */
export const isZodSchema = (u: unknown): u is z.ZodType => isRecord(u) && isRecord(u["_zod"]) && isRecord(u["_zod"]["def"])

/** Whether `u` is a plain object whose every value is a zod schema (Webiny's shape form; `{}` takes any object). */
export const isZodShape = (u: unknown): u is Record<string, z.ZodType> =>
  isRecord(u) && !isZodSchema(u) && Object.getPrototypeOf(u) === Object.prototype && Object.values(u).every(isZodSchema)

/**
 * A zod schema or shape as validation uses it, as in Webiny: a shape becomes
 * `z.looseObject(shape)`, an object schema `.loose()`, anything else stays.
 */
export const fromZod = (returned: z.ZodType | Record<string, z.ZodType>): ZodInput => {
  if (!isZodSchema(returned)) {
    const object = z.object(returned)
    return { _tag: "Zod", schema: object.loose(), declared: object }
  }
  const loose = (returned as { loose?: unknown }).loose
  const schema = returned._zod.def.type === "object" && typeof loose === "function" ? (loose.call(returned) as z.ZodType) : returned
  return { _tag: "Zod", schema, declared: returned }
}

const toIssues = (error: z.ZodError): ReadonlyArray<ZodIssue> =>
  error.issues.map((issue) => ({
    path: issue.path.map((key) => (typeof key === "symbol" ? String(key) : key)),
    message: issue.message,
  }))

type Parsed = { readonly success: true; readonly data: unknown } | { readonly success: false; readonly issues: ReadonlyArray<ZodIssue> }

const settle = (result: z.ZodSafeParseResult<unknown>): Parsed =>
  result.success ? { success: true, data: result.data } : { success: false, issues: toIssues(result.error) }

/** Parses `input` (every issue with its path); synchronously unless the schema has async refinements. */
export const parse = (input: ZodInput, value: unknown): Parsed | Promise<Parsed> => {
  try {
    return settle(z.safeParse(input.schema, value))
  } catch (thrown) {
    if (thrown instanceof z.core.$ZodAsyncError) return z.safeParseAsync(input.schema, value).then(settle)
    throw thrown
  }
}

/**
 * `value` in the form it is stored in: itself when it is JSON (`isJson`),
 * else zod's encoding of it (a `z.codec` field turns back into its input
 * form), else its `JSON.stringify` form (a `Date` becomes its ISO string).
 * Undefined when it has no JSON form (a `bigint`, a cycle).
 */
export const toStored = (input: ZodInput, value: unknown, isJson: (u: unknown) => boolean): { readonly stored: unknown } | undefined => {
  if (isJson(value)) return { stored: value }
  try {
    const encoded = z.encode(input.schema, value as never)
    if (isJson(encoded)) return { stored: encoded }
    return { stored: JSON.parse(JSON.stringify(encoded)) }
  } catch {
    return undefined
  }
}

/**
 * The JSON Schema (draft 2020-12) of what the task accepts, from zod's own
 * `z.toJSONSchema` (input side; a type JSON cannot describe, like `z.date()`,
 * becomes "any value"), in the `{ dialect, schema, definitions }` document
 * form effect writes, so clients read both alike.
 */
export const jsonSchemaDocument = (input: ZodInput) => {
  const { $schema: _, $defs, ...schema } = z.toJSONSchema(input.declared, { io: "input", unrepresentable: "any" }) as Record<string, unknown>
  return { dialect: "draft-2020-12" as const, schema, definitions: (isRecord($defs) ? $defs : {}) as Record<string, unknown> }
}

/** zod itself: the `validator` `createInputValidation` receives. */
export const validator = z
