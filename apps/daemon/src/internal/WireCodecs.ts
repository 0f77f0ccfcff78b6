/**
 * Effect's JSON `codecFor` for the RPC socket, with encoders for replies and
 * stream chunks compiled from the contract's schemas. Hot-path plumbing (plain
 * code behind RpcSerialization's `codecFor`; DESIGN §7).
 *
 * Why: RpcServer encodes every reply with Schema, and for a Trigger that is
 * the whole TaskState, about 5 µs a reply, for data the daemon built itself.
 * The compiled encoder walks the value once along the schema's AST and builds
 * what `Schema.toCodecJson` builds: the struct's own keys in schema order (a
 * key there but `undefined` as null, an absent optional key absent),
 * strings, booleans, literals and finite numbers as they are, `Unknown`
 * (`Json`) values as they are once they are seen to be plain JSON.
 *
 * Anything it is not sure of gives up and the stock codec encodes the whole
 * value (so a failure is Schema's failure, with Schema's message): a
 * non-finite number (Schema writes "NaN"), a `Json` value that is not plain
 * JSON, a missing required key, a value not of the declared kind, a value
 * of a schema with checks (bounds, lengths; brands are not checks). Schemas it
 * cannot compile (classes, unions of structs, anything with an encoding) get
 * the stock codec. Three kinds of schema are replaced:
 * - an RPC's exit schema (`Rpc.exitSchema`, cached per RPC), both ways (the
 *   daemon encodes replies, the client decodes them): its `Success` is
 *   compiled from the RPC's success schema; a `Failure` is the stock codec's;
 * - the chunk schema of a stream (`NonEmptyArray(success)`), both ways;
 * - an RPC's payload schema, both ways: decoding a request is the same walk
 *   (a null for an optional key is Schema's to read), and a payload the
 *   walker is not sure of (any bad one) is decoded by Schema, so the answer
 *   to a bad request, Schema's issue, does not change.
 * Defects and every other schema are Effect's own. test/WireCodecs.test.ts
 * checks compiled against stock on values generated from every RPC's
 * schemas, and payloads against any JSON.
 */
import { Effect, Exit, Schema, SchemaAST, SchemaGetter, type SchemaIssue } from "effect"
import { Rpc, type RpcGroup, type RpcSerialization } from "effect/rpc"

const bail: unique symbol = Symbol("bail")

/** A walker compiled from a schema, either way: the encoded (or decoded) value, or `bail` when Schema must decide. */
type Encoder = (value: unknown) => unknown

const givesUp: Encoder = () => bail

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

// Deeper values are left to Schema (which also finds cycles).
const maxJsonDepth = 64

/** A JSON tree of plain objects, arrays, strings, finite numbers, booleans and nulls. */
const isPlainJson = (value: unknown, depth: number): boolean => {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true
  if (typeof value === "number") return Number.isFinite(value)
  if (depth >= maxJsonDepth) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false
    return true
  }
  if (!isPlainObject(value)) return false
  for (const key in value) if (!isPlainJson(value[key], depth + 1)) return false
  return true
}

const primitives = new Set(["String", "Number", "Boolean", "Literal"])

/** Which way a compiled walker goes: type to JSON, or JSON to type. */
type Direction = "encode" | "decode"

/**
 * The walker of `ast` that encodes (or decodes) as `Schema.toCodecJson(ast)`
 * would, or undefined when it is not compiled. Both ways give the same
 * values but for `optional`'s undefined: encoding writes it as null;
 * decoding gives a null to Schema.
 */
const compile = (ast: SchemaAST.AST, direction: Direction): Encoder | undefined => {
  if (ast.encoding !== undefined) return undefined
  // A check (a bound, a length) is Schema's to run: such a value, when there is one, gives up.
  if (ast.checks !== undefined) return givesUp
  switch (ast._tag) {
    case "String":
      return (value) => (typeof value === "string" ? value : bail)
    case "Number":
      return (value) => (typeof value === "number" && Number.isFinite(value) ? value : bail)
    case "Boolean":
      return (value) => (typeof value === "boolean" ? value : bail)
    case "Literal": {
      const literal = ast.literal
      if (typeof literal === "bigint" || (typeof literal === "number" && !Number.isFinite(literal))) return undefined
      return (value) => (value === literal ? value : bail)
    }
    case "Unknown":
      return (value) => (isPlainJson(value, 0) ? value : bail)
    case "Union": {
      const optional = ast.types.some((member) => member._tag === "Undefined" && member.encoding === undefined)
      const members = ast.types.filter((member) => member._tag !== "Undefined")
      const encoders = members.map((member) => compile(member, direction))
      if (encoders.some((encoder) => encoder === undefined)) return undefined
      // One member: `optional(X)`. Several: only primitives, which encode to themselves, so any match is the answer.
      if (members.length > 1 && !members.every((member) => primitives.has(member._tag))) return undefined
      const all = encoders as ReadonlyArray<Encoder>
      return (value) => {
        // Schema's JSON codec writes a present `undefined` as null, and reads a null back as undefined.
        if (value === undefined) return optional && direction === "encode" ? null : bail
        if (value === null && optional && direction === "decode") return bail
        for (const encoder of all) {
          const encoded = encoder(value)
          if (encoded !== bail) return encoded
        }
        return bail
      }
    }
    case "Objects": {
      if (ast.indexSignatures.length > 0) return undefined
      const fields: Array<{ readonly name: string; readonly optional: boolean; readonly encode: Encoder }> = []
      for (const signature of ast.propertySignatures) {
        const encode = compile(signature.type, direction)
        if (typeof signature.name !== "string" || encode === undefined) return undefined
        fields.push({ name: signature.name, optional: SchemaAST.isOptional(signature.type), encode })
      }
      return (value) => {
        if (!isPlainObject(value)) return bail
        const out: Record<string, unknown> = {}
        for (const field of fields) {
          if (!Object.hasOwn(value, field.name)) {
            if (field.optional) continue
            return bail
          }
          const encoded = field.encode(value[field.name])
          if (encoded === bail) return bail
          out[field.name] = encoded
        }
        return out
      }
    }
    case "Arrays": {
      if (ast.rest.length > 1 || ast.elements.some(SchemaAST.isOptional)) return undefined
      const elements = ast.elements.map((element) => compile(element, direction))
      const rest = ast.rest.length === 0 ? undefined : compile(ast.rest[0]!, direction)
      if (elements.some((encoder) => encoder === undefined) || (ast.rest.length === 1 && rest === undefined)) return undefined
      return (value) => {
        if (!Array.isArray(value) || value.length < elements.length || (rest === undefined && value.length > elements.length)) return bail
        const out = new Array<unknown>(value.length)
        for (let i = 0; i < value.length; i++) {
          const encoded = (i < elements.length ? elements[i]! : rest!)(value[i])
          if (encoded === bail) return bail
          out[i] = encoded
        }
        return out
      }
    }
    default:
      return undefined
  }
}

/** A compiled walker that is not worth using: none, or one that always gives up. */
const useless = (walker: Encoder | undefined): walker is undefined => walker === undefined || walker === givesUp

/** `stock` with compiled walkers for either way; where there is none, or it gives up, `stock` does the work. */
const withWalkers = (stock: Schema.Top, fast: { readonly encode?: Encoder | undefined; readonly decode?: Encoder | undefined }): Schema.Top => {
  const encodeStock = Schema.encodeUnknownEffect(stock as Schema.Codec<unknown, unknown>)
  const decodeStock = Schema.decodeUnknownEffect(stock as Schema.Codec<unknown, unknown>)
  // Schema's own issue, unchanged: a bad value gets the message Schema gives it.
  const issueOf = (error: Schema.SchemaError): SchemaIssue.Issue => error.issue
  const run = (walker: Encoder | undefined, slow: typeof encodeStock) => (value: unknown): Effect.Effect<unknown, SchemaIssue.Issue> => {
    const done = walker === undefined ? bail : walker(value)
    if (done !== bail) return Effect.succeed(done)
    const result = slow(value)
    // A success is already done (Schema's encoders and decoders are eager): handed on as it is.
    return Exit.isExit(result) && Exit.isSuccess(result) ? Exit.succeed(result.value) : Effect.mapError(result, issueOf)
  }
  return Schema.Unknown.pipe(
    Schema.decodeTo(Schema.Unknown, {
      decode: SchemaGetter.transformEffect(run(fast.decode, decodeStock)),
      encode: SchemaGetter.transformEffect(run(fast.encode, encodeStock)),
    }),
  )
}

/** The compiled encoder of an exit whose success is `success`, or undefined when the success schema does not compile. */
const exitEncoder = (success: Schema.Top): Encoder | undefined => {
  const value = compile(success.ast, "encode")
  if (useless(value)) return undefined
  return (exit) => {
    const candidate = exit as { readonly _tag?: unknown; readonly value?: unknown }
    if (candidate === null || typeof candidate !== "object" || candidate._tag !== "Success") return bail
    const encoded = value(candidate.value)
    return encoded === bail ? bail : { _tag: "Success", value: encoded }
  }
}

/** The compiled decoder of an exit whose success is `success` (a client reading replies), or undefined. */
const exitDecoder = (success: Schema.Top): Encoder | undefined => {
  const value = compile(success.ast, "decode")
  if (useless(value)) return undefined
  return (encoded) => {
    if (!isPlainObject(encoded) || encoded["_tag"] !== "Success" || !Object.hasOwn(encoded, "value")) return bail
    const decoded = value(encoded["value"])
    return decoded === bail ? bail : Exit.succeed(decoded)
  }
}

/** Whether the values of `schema` get compiled walkers (a struct, an array, a primitive; for tests). */
export const compiles = (schema: Schema.Top): boolean => !useless(compile(schema.ast, "encode")) && !useless(compile(schema.ast, "decode"))

/**
 * Effect's JSON `codecFor`, with compiled walkers for the exits of `group`'s
 * RPCs, their payloads and stream chunks (for the daemon and for clients).
 */
export const codecFor = <Rpcs extends Rpc.Any>(group: RpcGroup.RpcGroup<Rpcs>): RpcSerialization.CodecFor => {
  const exits = new Map<Schema.Top, Schema.Top>()
  const payloads = new Set<Schema.Top>()
  for (const rpc of group.requests.values()) {
    const props = rpc as unknown as Rpc.AnyWithProps
    exits.set(Rpc.exitSchema(rpc) as Schema.Top, props.successSchema)
    payloads.add(props.payloadSchema)
  }
  const cache = new WeakMap<Schema.Top, Schema.Top>()
  const make = (schema: Schema.Top): Schema.Top => {
    const stock = Schema.toCodecJson(schema) as Schema.Top
    const success = exits.get(schema)
    const walkers = success !== undefined
      ? { encode: exitEncoder(success), decode: exitDecoder(success) }
      : payloads.has(schema) || schema.ast._tag === "Arrays"
      ? { encode: compile(schema.ast, "encode"), decode: compile(schema.ast, "decode") }
      : {}
    const encode = useless(walkers.encode) ? undefined : walkers.encode
    const decode = useless(walkers.decode) ? undefined : walkers.decode
    return encode === undefined && decode === undefined ? stock : withWalkers(stock, { encode, decode })
  }
  return ((schema: Schema.Top) => {
    let codec = cache.get(schema)
    if (codec === undefined) {
      codec = make(schema)
      cache.set(schema, codec)
    }
    return codec
  }) as RpcSerialization.CodecFor
}
