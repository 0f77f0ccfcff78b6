/**
 * The form model: a tree of field nodes generated from a task definition's
 * input JSON Schema document (`DefinitionInfo.inputSchema`, the draft 2020-12
 * output of effect's `Schema.toJsonSchemaDocument`, or of zod's `z.toJSONSchema`
 * for a task validated with zod, in the same document form), plus the pure value
 * operations the form needs: initial values, immutable get/set at a path,
 * array row edits, number text parsing, constraint hints and field ids. No
 * React here; validation itself is the daemon's (`ValidateInput` with the
 * definition's real Effect Schema), see FormIssues.ts for showing its issues.
 *
 * Covered shapes: strings, numbers and integers (including effect's
 * `Schema.Number` encoding, a union with the "Infinity"/"NaN" strings), booleans,
 * literal unions (`enum` / `const` / anyOf of those) as selects, arrays of any
 * covered item (also `NonEmptyArray`'s prefixItems form), objects with
 * `required`, nullable (`anyOf` with `null`, or `type: [T, "null"]`), `$ref`
 * into `$defs` / `definitions`, annotation-only `allOf` (effect's `annotateKey`).
 * Anything else (unions of different shapes, records, tuples, unknown keywords,
 * a recursive `$ref`, no schema at all) becomes a `json` node: a JSON text editor.
 *
 * Value rules: an object field left empty is omitted from the value (so a
 * required one is reported "Missing key" by the schema) unless it is required
 * and nullable, when it holds `null`; an array row or the root cannot be
 * omitted, so an empty string there is `""`. Required fields without a
 * `default` start empty, except booleans (`false`: a checkbox has no "unset")
 * and single-option selects (their only value).
 */

/** Where a value sits in the input: object keys and array indexes, empty for the root. */
export type Path = ReadonlyArray<string | number>

/** A JSON scalar usable as a select option. */
export type Literal = string | number | boolean | null

/** Fields every node has. */
interface NodeBase {
  /** The `title` annotation, else the humanized key (`maxDepth` → "Max depth"). */
  readonly label: string
  /** The `description` annotation, shown as help text. */
  readonly description: string | undefined
  /**
   * `null` is accepted: a required nullable field left empty holds `null`. effect
   * writes `optional` as "or null" too, but an optional field left empty is omitted.
   */
  readonly nullable: boolean
  /** The `default` keyword, used as the initial value (undefined: none). */
  readonly defaultValue: unknown
}

/** A text input; length and pattern are shown as hints. */
export interface StringNode extends NodeBase {
  readonly kind: "string"
  readonly minLength: number | undefined
  readonly maxLength: number | undefined
  readonly pattern: string | undefined
  readonly format: string | undefined
}

/** A numeric text input (raw text kept while typing); `step` is 1 for integers. */
export interface NumberNode extends NodeBase {
  readonly kind: "number"
  readonly integer: boolean
  readonly minimum: number | undefined
  readonly maximum: number | undefined
  readonly exclusiveMinimum: number | undefined
  readonly exclusiveMaximum: number | undefined
  readonly multipleOf: number | undefined
  readonly step: number | undefined
}

/** A checkbox. */
export interface BooleanNode extends NodeBase {
  readonly kind: "boolean"
}

/** One choice of a select. */
export interface SelectOption {
  readonly label: string
  readonly value: Literal
}

/** A select over a union of literals. */
export interface SelectNode extends NodeBase {
  readonly kind: "select"
  readonly options: ReadonlyArray<SelectOption>
}

/** A list of rows of one item shape (add, remove, reorder). */
export interface ArrayNode extends NodeBase {
  readonly kind: "array"
  readonly item: FormNode
  readonly minItems: number | undefined
  readonly maxItems: number | undefined
  readonly uniqueItems: boolean
}

/** One property of an object node. */
export interface FormField {
  readonly key: string
  readonly required: boolean
  readonly node: FormNode
}

/** A fieldset of named fields. */
export interface ObjectNode extends NodeBase {
  readonly kind: "object"
  readonly fields: ReadonlyArray<FormField>
}

/** A JSON text editor for a shape the form does not cover; `reason` says why. */
export interface JsonNode extends NodeBase {
  readonly kind: "json"
  readonly reason: string
}

/** A node of the generated form. */
export type FormNode = StringNode | NumberNode | BooleanNode | SelectNode | ArrayNode | ObjectNode | JsonNode

/** How a node sits in its parent: a required or optional object field, or an array row / the root. */
export type Slot = "required" | "optional" | "item"

// ---------------------------------------------------------------------------
// Building the tree

type JsonObject = { readonly [key: string]: unknown }

interface Context {
  readonly definitions: JsonObject
  /** The `$ref`s being expanded on the way down: meeting one again is recursion. */
  readonly refs: ReadonlyArray<string>
}

const isObject = (u: unknown): u is JsonObject => typeof u === "object" && u !== null && !Array.isArray(u)

const isLiteral = (u: unknown): u is Literal =>
  u === null || typeof u === "string" || typeof u === "number" || typeof u === "boolean"

const annotationKeys = new Set([
  "title", "description", "default", "examples", "$comment", "$id", "$anchor", "$schema", "$defs", "definitions",
  "readOnly", "writeOnly", "deprecated",
])

const kindKeys: Record<string, ReadonlySet<string>> = {
  string: new Set(["type", "minLength", "maxLength", "pattern", "format", "contentEncoding", "contentMediaType"]),
  number: new Set(["type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]),
  boolean: new Set(["type"]),
  array: new Set(["type", "items", "prefixItems", "minItems", "maxItems", "uniqueItems"]),
  object: new Set(["type", "properties", "required", "additionalProperties", "propertyNames"]),
}

const nonFinite = new Set(["Infinity", "-Infinity", "NaN"])

/** "maxDepth" / "max_depth" → "Max depth". */
export const humanize = (key: string): string => {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .replace(/[_\-\s]+/g, " ")
    .trim()
    .toLowerCase()
  return words.length === 0 ? key : words.charAt(0).toUpperCase() + words.slice(1)
}

const num = (u: unknown): number | undefined => (typeof u === "number" && Number.isFinite(u) ? u : undefined)
const str = (u: unknown): string | undefined => (typeof u === "string" ? u : undefined)

const base = (schema: JsonObject, fallbackLabel: string): NodeBase => ({
  label: str(schema.title) ?? fallbackLabel,
  description: str(schema.description),
  nullable: false,
  defaultValue: schema.default,
})

const json = (schema: JsonObject, fallbackLabel: string, reason: string): JsonNode => ({
  ...base(schema, fallbackLabel),
  kind: "json",
  reason,
})

const unknownKey = (schema: JsonObject, allowed: ReadonlySet<string>): string | undefined =>
  Object.keys(schema).find((key) => !allowed.has(key) && !annotationKeys.has(key))

/** Annotations of `outer` (a union or `$ref` wrapper) override those of the node built from its inner schema. */
const overlay = (node: FormNode, outer: JsonObject, nullable: boolean): FormNode => ({
  ...node,
  label: str(outer.title) ?? node.label,
  description: str(outer.description) ?? node.description,
  defaultValue: outer.default !== undefined ? outer.default : node.defaultValue,
  nullable: node.nullable || nullable,
})

const refName = (ref: string): string | undefined => {
  const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref)
  return match?.[1]?.replace(/~1/g, "/").replace(/~0/g, "~")
}

/** Follow `$ref`s (merging sibling keywords over the target); or why it cannot (dangling or recursive). */
const deref = (schema: JsonObject, context: Context): { schema: JsonObject; context: Context } | string => {
  let current = schema
  let refs = context.refs
  while (typeof current.$ref === "string") {
    const ref = current.$ref
    if (refs.includes(ref)) return `recursive reference ${ref}`
    const name = refName(ref)
    const target = name === undefined ? undefined : context.definitions[name]
    if (!isObject(target) && target !== true) return `unresolved reference ${ref}`
    const { $ref: _, ...siblings } = current
    current = { ...(isObject(target) ? target : {}), ...siblings }
    refs = [...refs, ref]
  }
  return { schema: current, context: { ...context, refs } }
}

const literalValues = (schema: JsonObject): ReadonlyArray<Literal> | undefined => {
  if ("const" in schema) return isLiteral(schema.const) ? [schema.const] : undefined
  if (Array.isArray(schema.enum) && schema.enum.every(isLiteral)) return schema.enum
  return undefined
}

const isNullSchema = (schema: JsonObject): boolean =>
  schema.type === "null" || schema.const === null || (Array.isArray(schema.enum) && schema.enum.length === 1 && schema.enum[0] === null)

/** Merge annotation-only (or non-conflicting) `allOf` members into the schema, or say why not. */
const mergeAllOf = (schema: JsonObject): JsonObject | string => {
  const { allOf, ...rest } = schema
  if (!Array.isArray(allOf)) return "allOf is not a list"
  let merged: Record<string, unknown> = rest
  for (const member of allOf) {
    if (!isObject(member)) return "allOf member is not a schema"
    for (const [key, value] of Object.entries(member)) {
      if (key in merged && !annotationKeys.has(key) && JSON.stringify(merged[key]) !== JSON.stringify(value)) {
        return `allOf with conflicting "${key}"`
      }
      merged = { ...merged, [key]: value }
    }
  }
  return merged
}

const selectNode = (schema: JsonObject, label: string, options: ReadonlyArray<SelectOption>): FormNode => {
  const values = options.map((option) => option.value)
  if (values.length === 2 && values.includes(true) && values.includes(false)) {
    return { ...base(schema, label), kind: "boolean" }
  }
  return { ...base(schema, label), kind: "select", options }
}

const optionsOf = (schema: JsonObject): ReadonlyArray<SelectOption> | undefined => {
  const values = literalValues(schema)
  const title = str(schema.title)
  return values?.map((value) => ({ value, label: values.length === 1 && title !== undefined ? title : String(value) }))
}

const buildUnion = (schema: JsonObject, members: ReadonlyArray<unknown>, label: string, context: Context): FormNode => {
  const resolved: Array<{ schema: JsonObject; context: Context }> = []
  for (const member of members) {
    if (!isObject(member)) return json(schema, label, "union member is not a schema")
    const target = deref(member, context)
    if (typeof target === "string") return json(schema, label, target)
    resolved.push(target)
  }
  const nullable = resolved.some((member) => isNullSchema(member.schema))
  let rest = resolved.filter((member) => !isNullSchema(member.schema))
  if (rest.some(({ schema: m }) => (m.type === "number" || m.type === "integer") && !("enum" in m))) {
    // effect encodes `Schema.Number` as number | "Infinity" | "-Infinity" | "NaN": a number field covers it.
    rest = rest.filter(({ schema: m }) => !(m.type === "string" && Array.isArray(m.enum) && m.enum.every((v) => typeof v === "string" && nonFinite.has(v))))
  }
  const { anyOf: _a, oneOf: _o, ...outer } = schema
  const extra = unknownKey(outer, new Set())
  if (extra !== undefined) return json(schema, label, `unsupported keyword "${extra}" next to a union`)
  if (rest.length === 0) return nullable ? overlay(selectNode(outer, label, [{ value: null, label: "null" }]), outer, false) : json(schema, label, "empty union")
  const options = rest.map((member) => optionsOf(member.schema))
  if (options.every((o) => o !== undefined) && rest.length > 1) {
    return overlay(selectNode(outer, label, options.flat()), outer, nullable)
  }
  const [only] = rest
  if (rest.length === 1 && only !== undefined) return overlay(build(only.schema, label, only.context), outer, nullable)
  return json(schema, label, "union of different shapes")
}

const buildArray = (schema: JsonObject, label: string, context: Context): FormNode => {
  const { prefixItems, items } = schema
  if (items === false) return json(schema, label, "tuple")
  if (prefixItems !== undefined) {
    // `NonEmptyArray` repeats the item schema as its one prefix item; a real tuple differs.
    const same = Array.isArray(prefixItems) && prefixItems.every((p) => JSON.stringify(p) === JSON.stringify(items))
    if (!same || items === undefined) return json(schema, label, "tuple")
  }
  const item = items === undefined || items === true ? json({}, "Item", "any value") : build(items, "Item", context)
  return {
    ...base(schema, label),
    kind: "array",
    item,
    minItems: num(schema.minItems),
    maxItems: num(schema.maxItems),
    uniqueItems: schema.uniqueItems === true,
  }
}

const buildObject = (schema: JsonObject, label: string, context: Context): FormNode => {
  const { properties, additionalProperties } = schema
  // Declared fields that also let any other key through (a zod `looseObject`: `additionalProperties: {}`) stay a fieldset.
  const open = isObject(additionalProperties) && Object.keys(additionalProperties).length === 0 && properties !== undefined
  if (additionalProperties !== undefined && typeof additionalProperties !== "boolean" && !open) {
    return json(schema, label, "record")
  }
  if (properties === undefined) return json(schema, label, "object without declared properties")
  if (!isObject(properties)) return json(schema, label, "properties is not an object")
  const required = new Set(Array.isArray(schema.required) ? schema.required : [])
  const fields = Object.entries(properties).map(([key, property]): FormField => ({
    key,
    required: required.has(key),
    node: build(property, humanize(key), context),
  }))
  return { ...base(schema, label), kind: "object", fields }
}

const build = (input: unknown, label: string, context: Context): FormNode => {
  if (input === true) return json({}, label, "any value")
  if (!isObject(input)) return json({}, label, "not a schema")
  const target = deref(input, context)
  if (typeof target === "string") return json(input, label, target)
  let schema = target.schema
  const inner = target.context
  if ("allOf" in schema) {
    const merged = mergeAllOf(schema)
    if (typeof merged === "string") return json(schema, label, merged)
    return build(merged, label, inner)
  }
  if (Array.isArray(schema.anyOf)) return buildUnion(schema, schema.anyOf, label, inner)
  if (Array.isArray(schema.oneOf)) return buildUnion(schema, schema.oneOf, label, inner)
  let nullable = false
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((t) => t !== "null")
    nullable = types.length < schema.type.length
    if (types.length !== 1) return json(schema, label, "several types")
    schema = { ...schema, type: types[0] }
  }
  const options = optionsOf(schema)
  if (options !== undefined) {
    const rest = unknownKey(schema, new Set(["type", "enum", "const"]))
    if (rest !== undefined) return json(schema, label, `unsupported keyword "${rest}"`)
    return { ...selectNode(schema, label, options), nullable }
  }
  if ("enum" in schema || "const" in schema) return json(schema, label, "non-scalar literals")
  const type = schema.type ?? ("properties" in schema ? "object" : "items" in schema ? "array" : undefined)
  const kind = type === "integer" ? "number" : type
  const allowed = typeof kind === "string" ? kindKeys[kind] : undefined
  if (allowed === undefined) {
    return json(schema, label, type === undefined ? "any value" : `unsupported type ${JSON.stringify(type)}`)
  }
  const extra = unknownKey(schema, allowed)
  if (extra !== undefined) return json(schema, label, `unsupported keyword "${extra}"`)
  const node = ((): FormNode => {
    switch (kind) {
      case "string":
        return {
          ...base(schema, label),
          kind: "string",
          minLength: num(schema.minLength),
          maxLength: num(schema.maxLength),
          pattern: str(schema.pattern),
          format: str(schema.format),
        }
      case "number":
        return {
          ...base(schema, label),
          kind: "number",
          integer: type === "integer",
          minimum: num(schema.minimum),
          maximum: num(schema.maximum),
          exclusiveMinimum: num(schema.exclusiveMinimum),
          exclusiveMaximum: num(schema.exclusiveMaximum),
          multipleOf: num(schema.multipleOf),
          step: type === "integer" ? num(schema.multipleOf) ?? 1 : num(schema.multipleOf),
        }
      case "boolean":
        return { ...base(schema, label), kind: "boolean" }
      case "array":
        return buildArray(schema, label, inner)
      default:
        return buildObject(schema, label, inner)
    }
  })()
  return nullable ? { ...node, nullable } : node
}

/**
 * Build the form tree from a JSON Schema document (`{ schema, definitions }` as
 * effect writes it, or a bare JSON Schema); `undefined` or anything unusable is
 * a `json` root (the task takes any JSON input).
 */
export const fromJsonSchema = (document: unknown): FormNode => {
  const wrapped = isObject(document) && isObject(document.schema) && ("dialect" in document || "definitions" in document || "$defs" in document)
  const schema = wrapped ? document.schema : document
  const definitions = {
    ...(isObject(schema) && isObject(schema.definitions) ? schema.definitions : {}),
    ...(isObject(schema) && isObject(schema.$defs) ? schema.$defs : {}),
    ...(wrapped && isObject(document.definitions) ? document.definitions : {}),
    ...(wrapped && isObject(document.$defs) ? document.$defs : {}),
  }
  if (schema === undefined) return json({}, "Input", "no input schema")
  return build(schema, "Input", { definitions, refs: [] })
}

// ---------------------------------------------------------------------------
// Values

/** What an emptied field holds: `null` if it is nullable and cannot be left out, `""` for a string row, else absent. */
export const emptyValue = (node: FormNode, slot: Slot): unknown => {
  if (node.nullable && slot !== "optional") return null
  if (slot === "item" && node.kind === "string") return ""
  return undefined
}

/** Whether an object node has an on/off switch (it may be absent or null) rather than always being present. */
export const isToggleable = (node: ObjectNode, slot: Slot): boolean => slot === "optional" || node.nullable

/** The value a fresh form (or a fresh array row) starts with: `default`s, else empty per the module rules. */
export const initialValue = (node: FormNode, slot: Slot = "item"): unknown => {
  if (node.defaultValue !== undefined) return node.defaultValue
  switch (node.kind) {
    case "object":
      return isToggleable(node, slot) ? emptyValue(node, slot) : filledObject(node)
    case "array":
      return slot === "optional"
        ? undefined
        : Array.from({ length: node.minItems ?? 0 }, () => initialValue(node.item, "item"))
    case "boolean":
      return slot === "optional" ? undefined : false
    case "select": {
      const only = node.options.length === 1 ? node.options[0] : undefined
      return only !== undefined && slot !== "optional" ? only.value : emptyValue(node, slot)
    }
    default:
      return emptyValue(node, slot)
  }
}

/** An object node's value with every field at its initial value (absent ones left out): what switching it on gives. */
export const filledObject = (node: ObjectNode): Record<string, unknown> => {
  const value: Record<string, unknown> = {}
  for (const field of node.fields) {
    const initial = initialValue(field.node, field.required ? "required" : "optional")
    if (initial !== undefined) value[field.key] = initial
  }
  return value
}

/** The value at `path` (undefined when any step is missing). */
export const getIn = (value: unknown, path: Path): unknown => {
  let current = value
  for (const key of path) {
    if (typeof key === "number" ? !Array.isArray(current) : !isObject(current)) return undefined
    current = (current as Record<string | number, unknown>)[key]
  }
  return current
}

/**
 * `value` with `next` at `path`, copying only the containers on the way (missing
 * ones are created: an array for a numeric key, an object otherwise). Setting
 * `undefined` on an object key removes the key.
 */
export const setIn = (value: unknown, path: Path, next: unknown): unknown => {
  const [key, ...rest] = path
  if (key === undefined) return next
  if (typeof key === "number") {
    const list = Array.isArray(value) ? [...value] : []
    list[key] = setIn(list[key], rest, next)
    return list
  }
  const object: Record<string, unknown> = isObject(value) ? { ...value } : {}
  const child = setIn(object[key], rest, next)
  if (child === undefined) delete object[key]
  else object[key] = child
  return object
}

/** The rows of an array value (none when it is absent or not a list). */
export const rowsOf = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : [])

/** `list` with a fresh row (the item's initial value) appended. */
export const appendRow = (node: ArrayNode, list: unknown): ReadonlyArray<unknown> => [
  ...rowsOf(list),
  initialValue(node.item, "item"),
]

/** `list` without row `index`; an optional array emptied this way becomes absent. */
export const removeRow = (list: unknown, index: number, slot: Slot): ReadonlyArray<unknown> | undefined => {
  const rows = rowsOf(list).filter((_, i) => i !== index)
  return rows.length === 0 && slot === "optional" ? undefined : rows
}

/** `list` with row `from` moved to `to` (both clamped to the list). */
export const moveRow = (list: unknown, from: number, to: number): ReadonlyArray<unknown> => {
  const rows = [...rowsOf(list)]
  if (from < 0 || from >= rows.length) return rows
  const [row] = rows.splice(from, 1)
  rows.splice(Math.max(0, Math.min(rows.length, to)), 0, row)
  return rows
}

const numberText = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/

/** A number field's text as a value: blank → undefined, a complete number → that number, else the raw text (the schema reports it). */
export const parseNumberText = (text: string): number | string | undefined => {
  if (text.trim() === "") return undefined
  return numberText.test(text) ? Number(text) : text
}

// ---------------------------------------------------------------------------
// Hints and field ids

const range = (low: number | undefined, high: number | undefined, unit: string): string | undefined => {
  if (low !== undefined && high !== undefined) return `${low} to ${high}${unit}`
  if (low !== undefined) return `at least ${low}${unit}`
  if (high !== undefined) return `at most ${high}${unit}`
  return undefined
}

const safeBound = (n: number | undefined): number | undefined =>
  n === undefined || Math.abs(n) >= Number.MAX_SAFE_INTEGER ? undefined : n

/** Short texts describing a node's constraints ("1 to 10", "whole number", "at most 3 items"). */
export const hints = (node: FormNode): ReadonlyArray<string> => {
  const out: Array<string | undefined> = []
  switch (node.kind) {
    case "string": {
      const nonEmpty = node.minLength === 1 && node.maxLength === undefined
      out.push(nonEmpty ? "not empty" : range(node.minLength, node.maxLength, " characters"))
      if (node.pattern !== undefined) out.push(`pattern ${node.pattern}`)
      if (node.format !== undefined) out.push(node.format)
      break
    }
    case "number": {
      if (node.integer) out.push("whole number")
      if (node.exclusiveMinimum === undefined && node.exclusiveMaximum === undefined) {
        out.push(range(safeBound(node.minimum), safeBound(node.maximum), ""))
      } else {
        out.push(node.exclusiveMinimum !== undefined ? `more than ${node.exclusiveMinimum}` : range(safeBound(node.minimum), undefined, ""))
        out.push(node.exclusiveMaximum !== undefined ? `less than ${node.exclusiveMaximum}` : range(undefined, safeBound(node.maximum), ""))
      }
      if (node.multipleOf !== undefined && !(node.integer && node.multipleOf === 1)) out.push(`multiple of ${node.multipleOf}`)
      break
    }
    case "array":
      out.push(range(node.minItems, node.maxItems, " items"))
      if (node.uniqueItems) out.push("no duplicates")
      break
    default:
      break
  }
  return out.filter((hint): hint is string => hint !== undefined)
}

/** The `name`/`id` of the field at `path`: `input`, `input.tags.1`, `input.owner.name`. */
export const fieldId = (path: Path): string => ["input", ...path].join(".")
