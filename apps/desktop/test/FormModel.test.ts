/**
 * The form model generated from input schemas: a table of Effect Schemas,
 * converted exactly as the daemon does (`TaskDefinition.inputJsonSchema`), with
 * the fields, labels, constraints, defaults and options each one should give;
 * the shapes that fall back to a JSON editor; and, for every row, that filling
 * the generated fields the way the form does yields a value the original
 * schema decodes, and that the issues for an untouched form land on fields.
 */
import { TaskDefinition } from "@tasklane/tasks/host"
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  appendRow,
  fieldId,
  filledObject,
  type FormNode,
  fromJsonSchema,
  getIn,
  hints,
  humanize,
  initialValue,
  moveRow,
  parseNumberText,
  type Path,
  removeRow,
  rowsOf,
  setIn,
  type Slot,
} from "../src/renderer/form/FormModel.ts"
import { placeIssues } from "../src/renderer/form/FormIssues.ts"

const taskWith = (schema: Schema.Codec<unknown, unknown>): TaskDefinition.Interface => ({
  id: "form-test",
  title: "Form test",
  createInputValidation: () => schema,
  run: ({ controller }) => controller.response.done(),
})

const documentOf = (schema: Schema.Codec<unknown, unknown>): unknown => TaskDefinition.inputJsonSchema(taskWith(schema))

const nodeOf = (schema: Schema.Codec<unknown, unknown>): FormNode => fromJsonSchema(documentOf(schema))

/** The node of the field at `path` (array indexes step into the item). */
const at = (root: FormNode, path: Path): FormNode => {
  let node = root
  for (const key of path) {
    if (node.kind === "object") {
      const field = node.fields.find((f) => f.key === key)
      if (field === undefined) throw new Error(`no field ${String(key)}`)
      node = field.node
    } else if (node.kind === "array") node = node.item
    else throw new Error(`cannot step into a ${node.kind} node`)
  }
  return node
}

const requiredKeys = (node: FormNode): ReadonlyArray<string> =>
  node.kind === "object" ? node.fields.filter((f) => f.required).map((f) => f.key) : []

/** What a user would type or pick in a leaf field, turned into a value as the form does. */
const typed = (node: FormNode): unknown => {
  switch (node.kind) {
    case "string":
      return "x".repeat(Math.min(Math.max(node.minLength ?? 1, 1), node.maxLength ?? Infinity))
    case "number": {
      const low = node.minimum ?? (node.exclusiveMinimum === undefined ? undefined : node.exclusiveMinimum + (node.multipleOf ?? 1))
      return parseNumberText(String(low ?? Math.min(0, node.maximum ?? 0)))
    }
    case "boolean":
      return true
    case "select":
      return node.options[0]?.value
    default:
      throw new Error(`${node.kind} is not a leaf`)
  }
}

/**
 * Fill the generated fields at `path` through the form's own operations:
 * switch optional objects on, add array rows, type into leaves; `mode` says
 * whether optional fields are filled too. JSON fields take `json[fieldId]`.
 */
const fill = (
  node: FormNode,
  path: Path,
  value: unknown,
  mode: "all" | "required",
  json: Readonly<Record<string, unknown>>,
): unknown => {
  const id = fieldId(path)
  if (id in json) return setIn(value, path, json[id])
  switch (node.kind) {
    case "object": {
      const current = getIn(value, path)
      let next = typeof current === "object" && current !== null ? value : setIn(value, path, filledObject(node))
      for (const field of node.fields) {
        if (field.required || mode === "all") next = fill(field.node, [...path, field.key], next, mode, json)
      }
      return next
    }
    case "array": {
      const rows = Math.min(Math.max(node.minItems ?? 0, 1), node.maxItems ?? Infinity)
      let next = value
      while (rowsOf(getIn(next, path)).length < rows) next = setIn(next, path, appendRow(node, getIn(next, path)))
      for (let i = 0; i < rows; i++) next = fill(node.item, [...path, i], next, mode, json)
      return next
    }
    case "json":
      throw new Error(`no JSON given for ${id}`)
    default:
      return setIn(value, path, typed(node))
  }
}

/** The value as the daemon receives it: through JSON. */
const overTheWire = (value: unknown): unknown => {
  const text = JSON.stringify(value)
  return text === undefined ? undefined : JSON.parse(text)
}

const issuesOf = (schema: Schema.Codec<unknown, unknown>, value: unknown) =>
  Effect.runSync(Effect.flip(TaskDefinition.decodeInput(taskWith(schema), overTheWire(value)))).issues

class Person extends Schema.Class<Person>("Person")({
  name: Schema.NonEmptyString.annotate({ title: "Full name" }),
  age: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
}) {}

interface Tree {
  readonly value: number
  readonly children: ReadonlyArray<Tree>
}
const Tree = Schema.Struct({
  value: Schema.Finite,
  children: Schema.Array(Schema.suspend((): Schema.Codec<Tree> => Tree)),
}).annotate({ identifier: "Tree" })

interface Row {
  readonly name: string
  readonly schema: Schema.Codec<any, any>
  /** Expected nodes by field path ("" for the root), matched with `toMatchObject`. */
  readonly nodes: Readonly<Record<string, object>>
  /** Required keys of the root object. */
  readonly required?: ReadonlyArray<string>
  /** `initialValue` of the root. */
  readonly initial: unknown
  /** Values for JSON editor fields when filling, by field id. */
  readonly json?: Readonly<Record<string, unknown>>
}

const table: ReadonlyArray<Row> = [
  {
    name: "struct with required and optional fields",
    schema: Schema.Struct({
      folder: Schema.String.annotate({ title: "Folder", description: "Where to look" }),
      maxDepth: Schema.optional(Schema.Finite),
      dryRun: Schema.optionalKey(Schema.Boolean),
      force: Schema.Boolean,
    }),
    nodes: {
      folder: { kind: "string", label: "Folder", description: "Where to look", nullable: false },
      maxDepth: { kind: "number", label: "Max depth", integer: false },
      dryRun: { kind: "boolean", label: "Dry run" },
      force: { kind: "boolean", label: "Force" },
    },
    required: ["folder", "force"],
    initial: { force: false },
  },
  {
    name: "integers and numbers with ranges",
    schema: Schema.Struct({
      count: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10 })),
      ratio: Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(5), Schema.isMultipleOf(0.5)),
      anyNumber: Schema.Number,
      page: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
    }),
    nodes: {
      count: { kind: "number", integer: true, minimum: 1, maximum: 10, step: 1, label: "Count" },
      ratio: { kind: "number", integer: false, exclusiveMinimum: 0, maximum: 5, multipleOf: 0.5, step: 0.5 },
      anyNumber: { kind: "number", integer: false, label: "Any number" },
      page: { kind: "number", integer: true, minimum: 0 },
    },
    required: ["count", "ratio", "anyNumber", "page"],
    initial: {},
  },
  {
    name: "strings with length and pattern",
    schema: Schema.Struct({
      title: Schema.NonEmptyString,
      code: Schema.String.check(Schema.isMaxLength(4)),
      trimmed: Schema.optionalKey(Schema.Trimmed),
    }),
    nodes: {
      title: { kind: "string", minLength: 1, maxLength: undefined },
      code: { kind: "string", maxLength: 4 },
      trimmed: { kind: "string", pattern: expect.any(String) },
    },
    required: ["title", "code"],
    initial: {},
  },
  {
    name: "literal unions as selects",
    schema: Schema.Struct({
      mode: Schema.Literals(["fast", "slow", 3]),
      kind: Schema.Enum({ Full: "full", Delta: "delta" }),
      version: Schema.Literal("v1"),
      flag: Schema.Literals([true, false]),
      level: Schema.optionalKey(Schema.Literals(["low", "high"]).annotate({ default: "high" })),
    }),
    nodes: {
      mode: { kind: "select", options: [{ value: "fast", label: "fast" }, { value: "slow", label: "slow" }, { value: 3, label: "3" }] },
      kind: { kind: "select", options: [{ value: "full", label: "Full" }, { value: "delta", label: "Delta" }] },
      version: { kind: "select", options: [{ value: "v1", label: "v1" }] },
      flag: { kind: "boolean" },
      level: { kind: "select", defaultValue: "high" },
    },
    required: ["mode", "kind", "version", "flag"],
    initial: { version: "v1", flag: false, level: "high" },
  },
  {
    name: "arrays of strings, numbers and objects",
    schema: Schema.Struct({
      tags: Schema.Array(Schema.String).check(Schema.isMinLength(1), Schema.isMaxLength(3)),
      ids: Schema.NonEmptyArray(Schema.Int),
      people: Schema.Array(Schema.Struct({ name: Schema.String, admin: Schema.optionalKey(Schema.Boolean) })),
      extra: Schema.optionalKey(Schema.Array(Schema.Finite)),
    }),
    nodes: {
      tags: { kind: "array", minItems: 1, maxItems: 3, item: { kind: "string" } },
      ids: { kind: "array", minItems: 1, item: { kind: "number", integer: true } },
      people: { kind: "array", item: { kind: "object" } },
      "people.0.name": { kind: "string", label: "Name" },
      extra: { kind: "array", item: { kind: "number" } },
    },
    required: ["tags", "ids", "people"],
    initial: { tags: [""], ids: [undefined], people: [] },
  },
  {
    name: "nested objects, optional and nullable",
    schema: Schema.Struct({
      target: Schema.Struct({ host: Schema.String, port: Schema.Int }).annotate({ title: "Target server" }),
      proxy: Schema.optional(Schema.Struct({ url: Schema.String })),
      parent: Schema.NullOr(Schema.Struct({ id: Schema.String })),
      note: Schema.NullOr(Schema.String),
      priority: Schema.NullOr(Schema.Literals(["low", "high"])),
    }),
    nodes: {
      target: { kind: "object", label: "Target server" },
      "target.port": { kind: "number", integer: true },
      // effect writes `optional` as "or null" (its JSON form of undefined); optional fields never hold null.
      proxy: { kind: "object", nullable: true },
      parent: { kind: "object", nullable: true },
      note: { kind: "string", nullable: true },
      priority: { kind: "select", nullable: true },
    },
    required: ["target", "parent", "note", "priority"],
    initial: { target: {}, parent: null, note: null, priority: null },
  },
  {
    name: "defaults and key annotations",
    schema: Schema.Struct({
      greeting: Schema.String.annotate({ default: "hello" }),
      retries: Schema.Int.annotate({ title: "Retries", description: "How often", default: 2 }),
      tags: Schema.Array(Schema.String).annotate({ default: ["a"] }),
      limit: Schema.Finite.pipe(Schema.withDecodingDefaultKey(Effect.succeed(7))),
      owner: Schema.String.annotateKey({ title: "Owner", description: "Who asked" }),
    }),
    nodes: {
      greeting: { kind: "string", defaultValue: "hello", label: "Greeting" },
      retries: { kind: "number", integer: true, defaultValue: 2, label: "Retries", description: "How often" },
      tags: { kind: "array", defaultValue: ["a"] },
      limit: { kind: "number" },
      owner: { kind: "string", label: "Owner", description: "Who asked" },
    },
    required: ["greeting", "retries", "tags", "owner"],
    initial: { greeting: "hello", retries: 2, tags: ["a"] },
  },
  {
    name: "classes as $refs into definitions",
    schema: Schema.Struct({ author: Person, reviewer: Schema.optionalKey(Person) }),
    nodes: {
      author: { kind: "object", label: "Author" },
      "author.name": { kind: "string", label: "Full name", minLength: 1 },
      "author.age": { kind: "number", integer: true, minimum: 0 },
      reviewer: { kind: "object" },
    },
    required: ["author"],
    initial: { author: {} },
  },
  {
    name: "recursive $ref becomes a JSON editor",
    schema: Schema.Struct({ tree: Tree }),
    nodes: {
      tree: { kind: "object" },
      "tree.children": { kind: "array", item: { kind: "json", reason: expect.stringContaining("recursive") } },
    },
    initial: { tree: { children: [] } },
    json: { "input.tree.children.0": { value: 2, children: [] } },
  },
  {
    name: "shapes without a form fall back to JSON",
    schema: Schema.Struct({
      choice: Schema.Union([Schema.Struct({ a: Schema.String }), Schema.Struct({ b: Schema.Finite })]),
      counts: Schema.Record(Schema.String, Schema.Finite),
      pair: Schema.Tuple([Schema.String, Schema.Finite]),
      anything: Schema.Unknown,
      either: Schema.Union([Schema.String, Schema.Finite]),
    }),
    nodes: {
      choice: { kind: "json", reason: "union of different shapes" },
      counts: { kind: "json", reason: expect.stringContaining("record") },
      pair: { kind: "json", reason: "tuple" },
      anything: { kind: "json" },
      either: { kind: "json" },
    },
    required: ["choice", "counts", "pair", "anything", "either"],
    initial: {},
    json: {
      "input.choice": { b: 1 },
      "input.counts": { a: 1 },
      "input.pair": ["x", 2],
      "input.anything": [1, { deep: true }],
      "input.either": "text",
    },
  },
  {
    name: "a root that is not an object",
    schema: Schema.String.check(Schema.isMinLength(1)).annotate({ title: "Query" }),
    nodes: { "": { kind: "string", label: "Query", minLength: 1 } },
    initial: "",
  },
]

describe("fromJsonSchema", () => {
  it.each(table)("$name: fields, labels, constraints", (row) => {
    const root = nodeOf(row.schema)
    for (const [key, expected] of Object.entries(row.nodes)) {
      const path = key === "" ? [] : key.split(".").map((k) => (/^\d+$/.test(k) ? Number(k) : k))
      expect(at(root, path), key).toMatchObject(expected)
    }
    if (row.required !== undefined) expect(requiredKeys(root)).toEqual(row.required)
  })

  it("labels fall back to the humanized key", () => {
    expect(humanize("maxDepth")).toBe("Max depth")
    expect(humanize("max_depth")).toBe("Max depth")
    expect(humanize("userID")).toBe("User id")
    expect(humanize("HTTPServer")).toBe("Http server")
  })

  it("no schema at all is one JSON editor for any input", () => {
    expect(fromJsonSchema(undefined)).toMatchObject({ kind: "json", label: "Input" })
    expect(fromJsonSchema({})).toMatchObject({ kind: "json" })
  })

  it("reads bare JSON Schemas too: const unions, type lists with null, $defs", () => {
    const root = fromJsonSchema({
      type: "object",
      properties: {
        size: { oneOf: [{ const: "s", title: "Small" }, { const: "l", title: "Large" }] },
        label: { type: ["string", "null"], maxLength: 3 },
        point: { $ref: "#/$defs/Point" },
        odd: { type: "string", format: "email", "x-widget": "fancy" },
        both: { allOf: [{ minimum: 1 }, { minimum: 2 }], type: "number" },
      },
      required: ["size", "label"],
      $defs: { Point: { type: "object", properties: { x: { type: "number" } } } },
    })
    expect(at(root, ["size"])).toMatchObject({ kind: "select", options: [{ value: "s", label: "Small" }, { value: "l", label: "Large" }] })
    expect(at(root, ["label"])).toMatchObject({ kind: "string", nullable: true, maxLength: 3 })
    expect(at(root, ["point", "x"])).toMatchObject({ kind: "number" })
    expect(at(root, ["odd"])).toMatchObject({ kind: "json", reason: 'unsupported keyword "x-widget"' })
    expect(at(root, ["both"])).toMatchObject({ kind: "json", reason: 'allOf with conflicting "minimum"' })
  })

  it("turns constraints into hints", () => {
    const root = nodeOf(table[1]!.schema)
    expect(hints(at(root, ["count"]))).toEqual(["whole number", "1 to 10"])
    expect(hints(at(root, ["ratio"]))).toEqual(["more than 0", "at most 5", "multiple of 0.5"])
    expect(hints(at(root, ["page"]))).toEqual(["whole number", "at least 0"])
    const arrays = nodeOf(table[4]!.schema)
    expect(hints(at(arrays, ["tags"]))).toEqual(["1 to 3 items"])
    const strings = nodeOf(table[2]!.schema)
    expect(hints(at(strings, ["title"]))).toEqual(["not empty"])
    expect(hints(at(strings, ["code"]))).toEqual(["at most 4 characters"])
  })
})

describe("initialValue and the round trip", () => {
  it.each(table)("$name: initial value", (row) => {
    expect(initialValue(nodeOf(row.schema))).toEqual(row.initial)
  })

  it.each(table)("$name: filling every field decodes with the original schema", (row) => {
    const root = nodeOf(row.schema)
    const value = fill(root, [], initialValue(root), "all", row.json ?? {})
    expect(() => Schema.decodeUnknownSync(row.schema)(overTheWire(value))).not.toThrow()
  })

  it.each(table)("$name: filling only required fields decodes, optional ones are omitted", (row) => {
    const root = nodeOf(row.schema)
    const value = fill(root, [], initialValue(root), "required", row.json ?? {})
    expect(() => Schema.decodeUnknownSync(row.schema)(overTheWire(value))).not.toThrow()
    if (root.kind === "object") {
      const optional = root.fields.filter((f) => !f.required && f.node.defaultValue === undefined).map((f) => f.key)
      for (const key of optional) expect(Object.keys(value as object)).not.toContain(key)
    }
  })

  it.each(table.filter((row) => row.name !== "shapes without a form fall back to JSON"))(
    "$name: every issue of an untouched form lands on a field",
    (row) => {
      const root = nodeOf(row.schema)
      const value = initialValue(root)
      let issues: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }> = []
      try {
        Schema.decodeUnknownSync(row.schema)(overTheWire(value))
      } catch {
        issues = issuesOf(row.schema, value)
      }
      expect(placeIssues(root, value, issues).unplaced).toEqual([])
    },
  )

  it("required fields without a default are reported as missing, on their field", () => {
    const schema = table[0]!.schema
    const root = nodeOf(schema)
    const placement = placeIssues(root, initialValue(root), issuesOf(schema, initialValue(root)))
    expect([...placement.byField.keys()]).toEqual(["input.folder"])
    expect(placement.byField.get("input.folder")?.[0]?.message).toMatch(/Missing key/)
  })

  it("a number typed as text that does not parse stays text, and the schema reports it", () => {
    const schema = table[1]!.schema
    const root = nodeOf(schema)
    const value = fill(root, [], initialValue(root), "all", {})
    const edited = setIn(value, ["count"], parseNumberText("3x"))
    expect(getIn(edited, ["count"])).toBe("3x")
    const placement = placeIssues(root, edited, issuesOf(schema, edited))
    expect([...placement.byField.keys()]).toEqual(["input.count"])
  })
})

describe("values at paths", () => {
  const value = { a: { b: [1, 2] }, c: "x" }

  it("gets and sets immutably, creating containers on the way", () => {
    const next = setIn(value, ["a", "b", 1], 5)
    expect(next).toEqual({ a: { b: [1, 5] }, c: "x" })
    expect(value).toEqual({ a: { b: [1, 2] }, c: "x" })
    expect((next as typeof value).c).toBe("x")
    expect(getIn(next, ["a", "b", 1])).toBe(5)
    expect(getIn(next, ["a", "missing", 0])).toBeUndefined()
    expect(setIn(undefined, ["list", 0, "name"], "n")).toEqual({ list: [{ name: "n" }] })
    expect(setIn(value, [], 1)).toBe(1)
  })

  it("setting undefined on a key removes it", () => {
    expect(setIn(value, ["c"], undefined)).toEqual({ a: { b: [1, 2] } })
    expect(Object.keys(setIn({ a: { x: 1 } }, ["a", "x"], undefined) as object)).toEqual(["a"])
  })

  it("adds, removes and reorders rows", () => {
    const root = nodeOf(table[4]!.schema)
    const tags = at(root, ["tags"])
    if (tags.kind !== "array") throw new Error("tags is not an array")
    expect(appendRow(tags, ["a"])).toEqual(["a", ""])
    expect(appendRow(tags, undefined)).toEqual([""])
    expect(moveRow(["a", "b", "c"], 0, 2)).toEqual(["b", "c", "a"])
    expect(moveRow(["a", "b", "c"], 2, 1)).toEqual(["a", "c", "b"])
    expect(moveRow(["a", "b"], 1, 5)).toEqual(["a", "b"])
    expect(removeRow(["a", "b"], 0, "required" satisfies Slot)).toEqual(["b"])
    expect(removeRow(["a"], 0, "required")).toEqual([])
    expect(removeRow(["a"], 0, "optional")).toBeUndefined()
  })

  it("parses number text as the form keeps it", () => {
    expect(parseNumberText("")).toBeUndefined()
    expect(parseNumberText("  ")).toBeUndefined()
    expect(parseNumberText("1.")).toBe(1)
    expect(parseNumberText("-.5")).toBe(-0.5)
    expect(parseNumberText(" 2e3 ")).toBe(2000)
    expect(parseNumberText("1.2.3")).toBe("1.2.3")
    expect(parseNumberText("abc")).toBe("abc")
  })
})

describe("placeIssues", () => {
  const root = fromJsonSchema({
    type: "object",
    properties: {
      tags: { type: "array", items: { type: "string" } },
      meta: {},
      owner: { anyOf: [{ type: "object", properties: { name: { type: "string" } } }, { type: "null" }] },
    },
    required: ["tags", "meta", "owner"],
  })
  const value = { tags: ["a", "b"], meta: { x: 1 }, owner: null }

  it("puts each issue on the field at its path", () => {
    const placement = placeIssues(root, value, [
      { path: ["tags", 1], message: "too short" },
      { path: ["tags"], message: "too few" },
      { path: ["meta", "x", "y"], message: "bad" },
    ])
    expect(placement.byField.get("input.tags.1")).toEqual([{ message: "too short", subPath: [] }])
    expect(placement.byField.get("input.tags")).toEqual([{ message: "too few", subPath: [] }])
    expect(placement.byField.get("input.meta")).toEqual([{ message: "bad", subPath: ["x", "y"] }])
    expect(placement.unplaced).toEqual([])
  })

  it("keeps issues that fit no rendered field for the list on top", () => {
    const issues = [
      { path: [], message: "root" },
      { path: ["tags", 5], message: "no such row" },
      { path: ["owner", "name"], message: "owner is switched off" },
      { path: ["unknown"], message: "no such field" },
    ]
    expect(placeIssues(root, value, issues).unplaced).toEqual(issues)
  })
})
