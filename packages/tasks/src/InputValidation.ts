/**
 * What a definition's `createInputValidation({ validator })` receives and may
 * return, and how refused input is reported (`InvalidInput`, every problem
 * with its field path; the shape the wire uses too, from `@tasklane/core`).
 *
 * Two kinds of schema serve alike: an Effect Schema (the first-class path: one
 * schema gives decoding, encoding and the task's static types) and, as
 * Webiny's tasks write it, zod (`validator`) returning a zod schema or a plain
 * object of zod fields. Decoding and encoding input with them is the host's
 * (`host/InputCodec.ts`).
 */
import { TaskShapes } from "@tasklane/core"
import type { Schema } from "effect"
import type { z } from "zod"

/** zod's `record`, also with Webiny's one-argument form `record(valueType)` (string keys), which zod 4 runs but no longer types. */
export interface ValidatorRecord {
  <Value extends z.core.SomeType>(valueType: Value, params?: string | z.core.$ZodRecordParams): z.ZodRecord<z.ZodString, Value>
  <Key extends z.core.$ZodRecordKey, Value extends z.core.SomeType>(
    keyType: Key,
    valueType: Value,
    params?: string | z.core.$ZodRecordParams,
  ): z.ZodRecord<Key, Value>
}

/** zod as `createInputValidation` receives it (see {@link ValidatorRecord}). */
export type Validator = Omit<typeof z, "record"> & { readonly record: ValidatorRecord }

/** What `createInputValidation` receives: `validator` is zod, the library Webiny passes. */
export interface CreateInputValidationParams {
  readonly validator: Validator
}

/** What `createInputValidation` may return: an Effect Schema, a zod schema, or a plain object of zod fields. */
export type InputValidation<Input = any> = Schema.Codec<Input, unknown> | z.ZodType | { readonly [key: string]: z.ZodType }

/** One problem with an input: where (`["items", 2, "name"]`, empty for the root) and what. */
export type InputIssue = TaskShapes.InputIssue

/** The input given for a definition does not match its schema; `issues` lists every problem. */
export const InvalidInput = TaskShapes.InvalidInput
/** The input given for a definition does not match its schema; `issues` lists every problem. */
export type InvalidInput = TaskShapes.InvalidInput
