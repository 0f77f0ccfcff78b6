/**
 * Why a value cannot be stored: the daemon keeps a task's input and output
 * as JSON between iterations, and when a `continue()` answer cannot be
 * stored, the recorded error says what is wrong and where
 * (`input.data.callback is a function`), not just that it failed.
 *
 * Pure: `findNotJson` walks a value; `describeUnstorableContinue` composes
 * the message from the task's input schema (its own encoding, then the JSON
 * form `Schema.toCodecJson` gives dates and bigints) and that walk. Called
 * only on the failure path, so it may redo work the runner did.
 */
import { Exit, Schema } from "effect"
import type { Interface } from "../Interface.ts"
import { effectInputSchema, inputIssuesOf } from "./InputCodec.ts"

/** Where a value stops being JSON (`["data", "callback"]`, empty for the value itself) and what was found there. */
export interface NotJson {
  readonly path: ReadonlyArray<string | number>
  readonly found: string
}

const describeFound = (value: unknown): string | undefined => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined
    case "number":
      return Number.isFinite(value) ? undefined : String(value)
    case "bigint":
      return `a bigint (${value}n)`
    case "function":
      return "a function"
    case "symbol":
      return "a symbol"
    case "undefined":
      return "undefined"
  }
  if (value === null || Array.isArray(value)) return undefined
  const prototype = Object.getPrototypeOf(value)
  if (prototype === Object.prototype || prototype === null) return undefined
  if (value instanceof Date) return "a Date (store an ISO string, or declare the field Schema.Date in the input schema)"
  const name = (prototype as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === "string" && name !== "" ? `an instance of ${name}` : "an object that is not a plain object"
}

/**
 * The first place where `value` is not plain JSON data (JSON scalars,
 * arrays and plain objects; `undefined` object members, and an `undefined`
 * value itself, count as absent), depth first; undefined when it is all JSON.
 */
export const findNotJson = (value: unknown): NotJson | undefined => {
  const ancestors: Array<unknown> = []
  const walk = (current: unknown, path: ReadonlyArray<string | number>, inObject: boolean): NotJson | undefined => {
    if (current === undefined && inObject) return undefined
    const found = describeFound(current)
    if (found !== undefined) return { path, found }
    if (typeof current !== "object" || current === null) return undefined
    const cycle = ancestors.indexOf(current)
    if (cycle >= 0) return { path, found: `a circular reference (back to ${render("value", path.slice(0, cycle))})` }
    ancestors.push(current)
    try {
      if (Array.isArray(current)) {
        for (let i = 0; i < current.length; i++) {
          const problem = walk(current[i], [...path, i], false)
          if (problem !== undefined) return problem
        }
        return undefined
      }
      for (const [key, member] of Object.entries(current)) {
        const problem = walk(member, [...path, key], true)
        if (problem !== undefined) return problem
      }
      return undefined
    } finally {
      ancestors.pop()
    }
  }
  return walk(value, [], true)
}

const render = (root: string, path: ReadonlyArray<string | number>): string =>
  root + path.map((key) => (typeof key === "number" ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`)).join("")

const at = (root: string, problem: NotJson) => `${render(root, problem.path)} is ${problem.found}`

const issuesOf = (exit: Exit.Exit<unknown, unknown>) => {
  const error = Exit.isFailure(exit) ? exit.cause.reasons.find((reason) => reason._tag === "Fail")?.error : undefined
  return Schema.isSchemaError(error) ? inputIssuesOf(error) : undefined
}

const valueAt = (value: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>((current, key) => (typeof current === "object" && current !== null ? (current as Record<PropertyKey, unknown>)[key] : undefined), value)

/**
 * The message recorded when a `continue()` answer cannot be stored: the
 * output kept for the next iteration is not JSON, or the new input does not
 * match the task's input schema (every issue with its path), or it is not
 * JSON where the schema lets anything through (the path and what is there).
 */
export const describeUnstorableContinue = (task: Interface, input: unknown, output: unknown): string => {
  const outputProblem = findNotJson(output)
  if (outputProblem !== undefined) {
    return `the output kept for the next iteration (updateOutput) is not JSON-serializable: ${at("output", outputProblem)}`
  }
  const notJson = (problem: NotJson) => `the input given to continue() is not JSON-serializable: ${at("input", problem)}`
  // zod (and schema-less) inputs: only their JSON form can be at fault here.
  const schema = effectInputSchema(task)
  if (schema === undefined) {
    const problem = findNotJson(input)
    return problem === undefined ? "the input given to continue() cannot be stored as JSON" : notJson(problem)
  }
  try {
    const own = Schema.encodeExit(schema)(input, { errors: "all" })
    if (Exit.isFailure(own)) {
      const issues = issuesOf(own) ?? []
      return `the input given to continue() does not match the task's input schema: ${
        issues.map((issue) => `${render("input", issue.path)}: ${issue.message}`).join("; ")
      }`
    }
    // Dates and bigints are stored in their JSON form: only what that form refuses is a problem.
    const json = issuesOf(Schema.encodeExit(Schema.toCodecJson(schema))(input, { errors: "all" })) ?? []
    for (const issue of json) {
      const problem = findNotJson(valueAt(own.value, issue.path))
      if (problem !== undefined) return notJson({ path: [...issue.path, ...problem.path], found: problem.found })
    }
    const issues = json.map((issue) => `${render("input", issue.path)}: ${issue.message}`).join("; ")
    return `the input given to continue() cannot be stored as JSON${issues === "" ? "" : `: ${issues}`}`
  } catch {
    // A schema built by another copy of effect (its JSON codec cannot be made here): walk the input itself.
    const problem = findNotJson(input)
    return problem === undefined ? "the input given to continue() does not match the task's input schema" : notJson(problem)
  }
}
