/**
 * Placing the daemon's validation issues (`InvalidInput.issues` from
 * `ValidateInput`) on the rendered field they belong to: the field at the
 * issue's path given the current value (array rows that exist, objects that
 * are switched on), or the nearest JSON editor above it. Issues that fit no
 * field, including those about the root object itself, are left for a list
 * at the top of the form.
 */
import { fieldId, type FormNode, getIn, isToggleable, type Path, rowsOf, type Slot } from "./FormModel.ts"

/** A validation problem as the daemon reports it (`InvalidInput.issues`). */
export interface Issue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

/** An issue placed on a field; `subPath` is what remains below it (only inside a JSON editor). */
export interface PlacedIssue {
  readonly message: string
  readonly subPath: Path
}

/** Issues grouped by the id of the rendered field they belong to, and those that fit no field. */
export interface IssuePlacement {
  readonly byField: ReadonlyMap<string, ReadonlyArray<PlacedIssue>>
  readonly unplaced: ReadonlyArray<Issue>
}

/** The path of the rendered field an issue at `path` belongs to (a JSON editor takes everything below it). */
const fieldFor = (root: FormNode, value: unknown, path: Path): { field: Path; subPath: Path } | undefined => {
  let node = root
  let slot: Slot = "item"
  for (let i = 0; i < path.length; i++) {
    const key = path[i]
    const here = path.slice(0, i)
    if (node.kind === "json") return { field: here, subPath: path.slice(i) }
    const current = getIn(value, here)
    if (node.kind === "object") {
      const field = node.fields.find((f) => f.key === key)
      if (field === undefined || (isToggleable(node, slot) && (typeof current !== "object" || current === null))) return undefined
      node = field.node
      slot = field.required ? "required" : "optional"
    } else if (node.kind === "array") {
      if (typeof key !== "number" || key < 0 || key >= rowsOf(current).length) return undefined
      node = node.item
      slot = "item"
    } else {
      return undefined
    }
  }
  // The root object is the form itself, not a field: its own issues go to the list at the top.
  return path.length === 0 && root.kind === "object" ? undefined : { field: path, subPath: [] }
}

/** Place each issue on the field at its path (given the current value's rows), or leave it for the top list. */
export const placeIssues = (root: FormNode, value: unknown, issues: ReadonlyArray<Issue>): IssuePlacement => {
  const byField = new Map<string, Array<PlacedIssue>>()
  const unplaced: Array<Issue> = []
  for (const issue of issues) {
    const place = fieldFor(root, value, issue.path)
    if (place === undefined) {
      unplaced.push(issue)
      continue
    }
    const id = fieldId(place.field)
    byField.set(id, [...(byField.get(id) ?? []), { message: issue.message, subPath: place.subPath }])
  }
  return { byField, unplaced }
}
