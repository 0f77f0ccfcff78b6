/**
 * A small structural diff of two JSON values, for showing a user where a
 * replayed answer differs from the recorded one: objects are compared key by
 * key, arrays index by index, anything else by value; every difference is
 * named by its path (`total`, `input.n`, `items[2].name`, `(root)`).
 * Pure: no I/O, no colours (the caller paints the lines).
 */

/** One difference: a key only in `before` (removed), only in `after` (added), or with another value (changed). */
export interface Change {
  readonly path: string
  readonly op: "removed" | "added" | "changed"
  readonly before?: unknown
  readonly after?: unknown
}

type Segment = string | number

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** Renders a path: `a.b[2]["odd key"]`, `(root)` when empty. */
export const renderPath = (path: ReadonlyArray<Segment>): string => {
  if (path.length === 0) return "(root)"
  return path
    .map((segment, i) =>
      typeof segment === "number"
        ? `[${segment}]`
        : identifier.test(segment)
        ? `${i === 0 ? "" : "."}${segment}`
        : `[${JSON.stringify(segment)}]`
    )
    .join("")
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** JSON's view of a value: `undefined` members vanish, like after a round trip through storage. */
const normalise = (u: unknown): unknown => (u === undefined ? undefined : JSON.parse(JSON.stringify(u)) as unknown)

const walk = (before: unknown, after: unknown, path: Array<Segment>, out: Array<Change>): void => {
  if (isObject(before) && isObject(after)) {
    const keys = [...Object.keys(before), ...Object.keys(after).filter((key) => !(key in before))]
    for (const key of keys) {
      if (!(key in after)) out.push({ path: renderPath([...path, key]), op: "removed", before: before[key] })
      else if (!(key in before)) out.push({ path: renderPath([...path, key]), op: "added", after: after[key] })
      else walk(before[key], after[key], [...path, key], out)
    }
    return
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      if (i >= after.length) out.push({ path: renderPath([...path, i]), op: "removed", before: before[i] })
      else if (i >= before.length) out.push({ path: renderPath([...path, i]), op: "added", after: after[i] })
      else walk(before[i], after[i], [...path, i], out)
    }
    return
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ path: renderPath(path), op: "changed", before, after })
}

/** Every difference between two JSON values, in key order (`before`'s keys first); empty when equal. */
export const diff = (before: unknown, after: unknown): ReadonlyArray<Change> => {
  const out: Array<Change> = []
  const a = normalise(before)
  const b = normalise(after)
  if (a === undefined || b === undefined) {
    if (a !== b) out.push({ path: renderPath([]), op: "changed", before: a, after: b })
    return out
  }
  walk(a, b, [], out)
  return out
}

/** Whether two JSON values are equal (as stored: `undefined` members ignored). */
export const equal = (before: unknown, after: unknown): boolean => diff(before, after).length === 0

const show = (u: unknown): string => (u === undefined ? "(nothing)" : JSON.stringify(u))

/**
 * The changes as lines: the path, then `- before` and/or `+ after` (compact
 * JSON), e.g. `["total", "- 3", "+ 4"]`.
 */
export const render = (changes: ReadonlyArray<Change>): ReadonlyArray<string> =>
  changes.flatMap((change) => [
    change.path,
    ...(change.op === "added" ? [] : [`- ${show(change.before)}`]),
    ...(change.op === "removed" ? [] : [`+ ${show(change.after)}`]),
  ])
