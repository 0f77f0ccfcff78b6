/**
 * What changed between two JSON values (two replayed task states): every
 * leaf path that was added, removed or changed, with its before and after
 * values. Pure; used by the History view's "changes at this event" panel and
 * by the consistency check (replay vs the daemon's projection).
 */

/** One difference; `path` is rendered like `context.progress.completed` or `context.input.items[2]`. */
export interface Change {
  readonly path: string
  readonly kind: "added" | "removed" | "changed"
  readonly before?: unknown
  readonly after?: unknown
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const join = (path: string, key: string | number): string =>
  typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`

const walk = (before: unknown, after: unknown, path: string, out: Array<Change>): void => {
  if (Object.is(before, after)) return
  if (isRecord(before) && isRecord(after)) {
    for (const key of Object.keys(before)) {
      if (before[key] === undefined) continue
      if (after[key] === undefined) out.push({ path: join(path, key), kind: "removed", before: before[key] })
      else walk(before[key], after[key], join(path, key), out)
    }
    for (const key of Object.keys(after)) {
      if (before[key] === undefined && after[key] !== undefined) out.push({ path: join(path, key), kind: "added", after: after[key] })
    }
    return
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const shared = Math.min(before.length, after.length)
    for (let i = 0; i < shared; i++) walk(before[i], after[i], join(path, i), out)
    for (let i = shared; i < before.length; i++) out.push({ path: join(path, i), kind: "removed", before: before[i] })
    for (let i = shared; i < after.length; i++) out.push({ path: join(path, i), kind: "added", after: after[i] })
    return
  }
  // Different leaves, or a leaf against a container: one change at this path.
  out.push({ path: path === "" ? "(root)" : path, kind: "changed", before, after })
}

/**
 * The differences from `before` to `after`, in key order (before's keys
 * first). A key whose value is `undefined` counts as absent, so a stored
 * projection (no undefined keys) and a fold's state compare equal.
 */
export const diff = (before: unknown, after: unknown): ReadonlyArray<Change> => {
  const out: Array<Change> = []
  walk(before, after, "", out)
  return out
}

/** True when the two values have no difference. */
export const equal = (a: unknown, b: unknown): boolean => diff(a, b).length === 0
