/**
 * The JSON of event bodies, written by a writer compiled from their schema
 * (the members of `TaskEvent`'s union), for the append path: it checks each
 * field's type as the schema does and writes the field as the schema's
 * encoding would (known keys only, in schema order, an unset optional key
 * left out), without going through Schema's parser (about 2.5 µs an event).
 *
 * It handles only the schema shapes the events use: structs without index
 * signatures, strings, finite numbers, booleans, literals, unions of literals,
 * unknown JSON values, and optional keys. A member using anything else is not
 * compiled, and wherever a value is not plainly valid the writer answers
 * undefined: the caller then takes Schema's own encode, which decides (and
 * says what is wrong). A property test keeps the two equal. Plain
 * synchronous code, no Effect.
 */
import { SchemaAST } from "effect"

/** Writes a value's JSON, or undefined when the value is not plainly valid for the schema. */
type Writer = (value: unknown) => string | undefined

const literalWriter = (ast: SchemaAST.AST): Map<unknown, string> | undefined => {
  if (ast._tag === "Literal" && ast.checks === undefined && ast.encoding === undefined) return new Map([[ast.literal, JSON.stringify(ast.literal)]])
  if (ast._tag !== "Union" || ast.checks !== undefined || ast.encoding !== undefined) return undefined
  const literals = new Map<unknown, string>()
  for (const member of ast.types) {
    const one = literalWriter(member)
    if (one === undefined) return undefined
    for (const [literal, json] of one) literals.set(literal, json)
  }
  return literals
}

const writeString: Writer = (value) => (typeof value === "string" ? JSON.stringify(value) : undefined)
const writeNumber: Writer = (value) => (typeof value === "number" && Number.isFinite(value) ? String(value) : undefined)
const writeBoolean: Writer = (value) => (value === true ? "true" : value === false ? "false" : undefined)
const writeUnknown: Writer = (value) => (value === undefined ? undefined : JSON.stringify(value))

/** The writer of `ast`, or undefined when this module does not handle its shape. */
const compile = (ast: SchemaAST.AST): Writer | undefined => {
  if (ast.checks !== undefined || ast.encoding !== undefined) return undefined
  switch (ast._tag) {
    case "String":
      return writeString
    case "Number":
      return writeNumber
    case "Boolean":
      return writeBoolean
    case "Unknown":
      return writeUnknown
    case "Literal":
    case "Union": {
      const literals = literalWriter(ast)
      return literals === undefined ? undefined : (value) => literals.get(value)
    }
    case "Objects":
      return compileObject(ast)
    default:
      return undefined
  }
}

interface Field {
  readonly name: string
  /** `"name":` */
  readonly prefix: string
  readonly optional: boolean
  readonly write: Writer
}

/** An optional key's type is `X | undefined`: its writer is X's (an undefined value leaves the key out). */
const optionalType = (ast: SchemaAST.AST): SchemaAST.AST | undefined => {
  if (ast._tag !== "Union" || ast.checks !== undefined || ast.encoding !== undefined || ast.types.length !== 2) return undefined
  const [a, b] = ast.types
  return b?._tag === "Undefined" ? a : a?._tag === "Undefined" ? b : undefined
}

const compileFields = (ast: SchemaAST.Objects, skip?: string): ReadonlyArray<Field> | undefined => {
  if (ast.indexSignatures.length > 0) return undefined
  const fields: Array<Field> = []
  for (const property of ast.propertySignatures) {
    if (typeof property.name !== "string") return undefined
    if (property.name === skip) continue
    const optional = SchemaAST.isOptional(property.type)
    const type = optional ? optionalType(property.type) : property.type
    const write = type === undefined ? undefined : compile(type)
    if (write === undefined) return undefined
    fields.push({ name: property.name, prefix: `${JSON.stringify(property.name)}:`, optional, write })
  }
  return fields
}

const writeFields = (fields: ReadonlyArray<Field>, value: unknown): string | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const record = value as Record<string, unknown>
  let json = "{"
  for (const field of fields) {
    const fieldValue = record[field.name]
    if (fieldValue === undefined) {
      if (field.optional) continue
      return undefined
    }
    const written = field.write(fieldValue)
    if (written === undefined) return undefined
    json += json.length === 1 ? field.prefix + written : "," + field.prefix + written
  }
  return json + "}"
}

const compileObject = (ast: SchemaAST.Objects): Writer | undefined => {
  const fields = compileFields(ast)
  return fields === undefined ? undefined : (value) => writeFields(fields, value)
}

/**
 * Compiles the bodies of a tagged union (each member a struct with a literal
 * `_tag`) into one writer of a body's data: its JSON without `_tag`, or
 * undefined when the body is not plainly valid (or its member not compiled).
 */
export const compileBodies = (members: ReadonlyArray<SchemaAST.AST>): (body: { readonly _tag: string }) => string | undefined => {
  const byTag = new Map<string, ReadonlyArray<Field>>()
  for (const member of members) {
    if (member._tag !== "Objects" || member.checks !== undefined || member.encoding !== undefined) continue
    const tag = member.propertySignatures.find((property) => property.name === "_tag")?.type
    if (tag?._tag !== "Literal" || typeof tag.literal !== "string") continue
    const fields = compileFields(member, "_tag")
    if (fields !== undefined) byTag.set(tag.literal, fields)
  }
  return (body) => {
    const fields = byTag.get(body._tag)
    return fields === undefined ? undefined : writeFields(fields, body)
  }
}
