/**
 * A structural diff of two JSON values, for showing a user what differs:
 * two replayed task states (the History view's changes at an event, its
 * consistency check against the stored projection) or a replayed answer
 * against the recorded one (`tasklane replay-test`). Objects are compared key
 * by key, arrays index by index, anything else by value; a key whose value is
 * `undefined` counts as absent (as after a round trip through storage); every
 * difference is named by its path (`total`, `context.input.items[2]`,
 * `["odd key"]`, `(root)`). Shared subtrees (the same object in both) are
 * skipped without a walk, so consecutive fold states diff cheaply. Pure.
 */

/** One difference: a key only in `before` (removed), only in `after` (added), or with another value (changed). */
export interface Change {
  readonly path: string
  readonly kind: "removed" | "added" | "changed"
  readonly before?: unknown
  readonly after?: unknown
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** Renders a path: `a.b[2]["odd key"]`, `(root)` when empty. */
export const renderPath = (path: ReadonlyArray<string | number>): string => {
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

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const walk = (before: unknown, after: unknown, path: Array<string | number>, out: Array<Change>): void => {
  if (Object.is(before, after)) return
  if (isRecord(before) && isRecord(after)) {
    for (const key of Object.keys(before)) {
      if (before[key] === undefined) continue
      if (after[key] === undefined) out.push({ path: renderPath([...path, key]), kind: "removed", before: before[key] })
      else walk(before[key], after[key], [...path, key], out)
    }
    for (const key of Object.keys(after)) {
      if (before[key] === undefined && after[key] !== undefined) out.push({ path: renderPath([...path, key]), kind: "added", after: after[key] })
    }
    return
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const shared = Math.min(before.length, after.length)
    for (let i = 0; i < shared; i++) walk(before[i], after[i], [...path, i], out)
    for (let i = shared; i < before.length; i++) out.push({ path: renderPath([...path, i]), kind: "removed", before: before[i] })
    for (let i = shared; i < after.length; i++) out.push({ path: renderPath([...path, i]), kind: "added", after: after[i] })
    return
  }
  // Different leaves, or a leaf against a container: one change at this path.
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ path: renderPath(path), kind: "changed", before, after })
}

/** Every difference from `before` to `after`, in key order (`before`'s keys first); empty when equal. */
export const diff = (before: unknown, after: unknown): ReadonlyArray<Change> => {
  const out: Array<Change> = []
  walk(before, after, [], out)
  return out
}

const segment = /\.?([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y

/** The value at a path as {@link renderPath} writes it (`a.b[2]["odd key"]`); undefined where there is none. */
export const valueAt = (root: unknown, path: string): unknown => {
  if (path === "(root)") return root
  let value = root
  segment.lastIndex = 0
  while (segment.lastIndex < path.length) {
    const match = segment.exec(path)
    if (match === null) throw new Error(`not a JsonDiff path: ${path}`)
    const key = match[1] ?? (match[2] !== undefined ? Number(match[2]) : JSON.parse(match[3]!) as string)
    value = typeof value === "object" && value !== null ? (value as Record<string | number, unknown>)[key] : undefined
  }
  return value
}

/** Whether two JSON values are equal (`undefined` members ignored). */
export const equal = (before: unknown, after: unknown): boolean => diff(before, after).length === 0

const show = (value: unknown): string => (value === undefined ? "(nothing)" : JSON.stringify(value))

/** The changes as lines: the path, then `- before` and/or `+ after` (compact JSON), e.g. `["total", "- 3", "+ 4"]`. */
export const render = (changes: ReadonlyArray<Change>): ReadonlyArray<string> =>
  changes.flatMap((change) => [
    change.path,
    ...(change.kind === "added" ? [] : [`- ${show(change.before)}`]),
    ...(change.kind === "removed" ? [] : [`+ ${show(change.after)}`]),
  ])
