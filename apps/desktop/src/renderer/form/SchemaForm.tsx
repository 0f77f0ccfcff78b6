/**
 * `SchemaForm`: the form for a task definition's input, generated from its
 * JSON Schema document (FormModel.ts: the shapes covered and the value rules).
 * It is controlled: the caller owns `value` (start it with
 * `initialValue(fromJsonSchema(schema))`), validates it with the daemon's
 * `ValidateInput`, and passes the reported `issues` back; each issue is shown
 * under the field at its path, and those that fit no field in a list on top
 * (FormIssues.ts).
 *
 * Every input's `id` and `name` is its path (`input.tags.1`, see `fieldId`),
 * error messages are `role="alert"` with `data-testid="error-<id>"`. Number and
 * JSON fields keep their own text while it is being typed (`1.`, half-written
 * JSON) and put a value into the form only as the text allows.
 */
import { type ReactNode, useMemo, useState } from "react"
import {
  appendRow,
  type ArrayNode,
  type BooleanNode,
  emptyValue,
  fieldId,
  filledObject,
  type FormNode,
  fromJsonSchema,
  getIn,
  hints,
  isToggleable,
  type JsonNode,
  moveRow,
  type NumberNode,
  type ObjectNode,
  parseNumberText,
  type Path,
  removeRow,
  rowsOf,
  type SelectNode,
  setIn,
  type Slot,
  type StringNode,
} from "./FormModel.ts"
import { type Issue, type PlacedIssue, placeIssues } from "./FormIssues.ts"
import "./SchemaForm.css"

/** Props of {@link SchemaForm}. */
export interface SchemaFormProps {
  /** The definition's `inputSchema` (a JSON Schema document); undefined: any JSON input. */
  readonly schema: unknown
  /** The current input value. */
  readonly value: unknown
  /** Called with the whole new input value after every edit. */
  readonly onChange: (value: unknown) => void
  /** Problems reported by `ValidateInput` (`InvalidInput.issues`). */
  readonly issues?: ReadonlyArray<Issue> | undefined
  /** Disables every input (e.g. while triggering). */
  readonly disabled?: boolean | undefined
}

/** What every field needs from the form. */
interface Env {
  readonly value: unknown
  readonly set: (path: Path, next: unknown) => void
  readonly errors: (path: Path) => ReadonlyArray<PlacedIssue>
}

interface FieldProps<N extends FormNode> {
  readonly node: N
  readonly path: Path
  readonly slot: Slot
  readonly label: string
  readonly env: Env
}

/** A form for the input described by `schema`. */
export function SchemaForm({ schema, value, onChange, issues = [], disabled = false }: SchemaFormProps): ReactNode {
  const root = useMemo(() => fromJsonSchema(schema), [schema])
  const placement = useMemo(() => placeIssues(root, value, issues), [root, value, issues])
  const env: Env = {
    value,
    set: (path, next) => onChange(setIn(value, path, next)),
    errors: (path) => placement.byField.get(fieldId(path)) ?? [],
  }
  return (
    <fieldset className="sf-form" disabled={disabled}>
      {placement.unplaced.length > 0 && (
        <ul className="sf-issues" role="alert" data-testid="sf-issues">
          {placement.unplaced.map((issue, i) => (
            <li key={i}>
              {issue.path.length > 0 && <code>{fieldId(issue.path)}</code>} {readable(issue.message)}
            </li>
          ))}
        </ul>
      )}
      {root.kind === "object" && !isToggleable(root, "item")
        ? <ObjectFields node={root} path={[]} env={env} />
        : <Field node={root} path={[]} slot="item" label={root.label} env={env} />}
    </fieldset>
  )
}

function Field(props: FieldProps<FormNode>): ReactNode {
  const { node } = props
  switch (node.kind) {
    case "string":
      return <StringField {...props} node={node} />
    case "number":
      return <NumberField {...props} node={node} />
    case "boolean":
      return <BooleanField {...props} node={node} />
    case "select":
      return <SelectField {...props} node={node} />
    case "array":
      return <ArrayField {...props} node={node} />
    case "object":
      return <ObjectField {...props} node={node} />
    case "json":
      return <JsonField {...props} node={node} />
  }
}

/** Ids of the texts describing a field, for `aria-describedby`. */
const describedBy = (id: string, node: FormNode, errors: number, extra = false): string | undefined =>
  [
    node.description !== undefined ? `${id}-help` : undefined,
    hints(node).length > 0 || extra ? `${id}-hints` : undefined,
    errors > 0 ? `${id}-error` : undefined,
  ].filter((s) => s !== undefined).join(" ") || undefined

function Label({ id, label, slot }: { id: string; label: string; slot: Slot }): ReactNode {
  return (
    <label className="sf-label" htmlFor={id}>
      {label}
      {slot === "optional" && <span className="sf-optional"> (optional)</span>}
    </label>
  )
}

/** The schema's wording for a user: Effect says "Missing key" for a required field left empty. */
const readable = (message: string): string => (message === "Missing key" ? "Required" : message)

/** Help text, constraint hints and error messages under a field. */
function Notes({ id, node, errors, extraHints = [] }: {
  id: string
  node: FormNode
  errors: ReadonlyArray<PlacedIssue>
  extraHints?: ReadonlyArray<string>
}): ReactNode {
  const all = [...hints(node), ...extraHints]
  return (
    <>
      {node.description !== undefined && <p className="sf-help" id={`${id}-help`}>{node.description}</p>}
      {all.length > 0 && <p className="sf-hint" id={`${id}-hints`}>{all.join(" · ")}</p>}
      {errors.length > 0 && (
        <div id={`${id}-error`}>
          {errors.map((error, i) => (
            <p key={i} className="sf-error" role="alert" data-testid={`error-${id}`}>
              {error.subPath.length > 0 && <code>{error.subPath.join(".")}: </code>}
              {readable(error.message)}
            </p>
          ))}
        </div>
      )}
    </>
  )
}

const nullHint = (node: FormNode, slot: Slot): ReadonlyArray<string> =>
  node.nullable && slot !== "optional" ? ["empty means null"] : []

function StringField({ node, path, slot, label, env }: FieldProps<StringNode>): ReactNode {
  const id = fieldId(path)
  const errors = env.errors(path)
  const value = getIn(env.value, path)
  const extra = nullHint(node, slot)
  return (
    <div className="sf-field">
      <Label id={id} label={label} slot={slot} />
      <input
        className="sf-input"
        type="text"
        id={id}
        name={id}
        value={typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value)}
        placeholder={node.defaultValue === undefined ? undefined : String(node.defaultValue)}
        aria-required={slot !== "optional"}
        aria-invalid={errors.length > 0}
        aria-describedby={describedBy(id, node, errors.length, extra.length > 0)}
        onChange={(e) => env.set(path, e.target.value === "" ? emptyValue(node, slot) : e.target.value)}
      />
      <Notes id={id} node={node} errors={errors} extraHints={extra} />
    </div>
  )
}

/**
 * Text that is shown for `value` but may run ahead of it while typing: it is
 * replaced only when `value` changes to something the text does not stand for.
 */
function useDraft(value: unknown, format: (value: unknown) => string, standsFor: (text: string, value: unknown) => boolean) {
  const [text, setText] = useState(() => format(value))
  const [seen, setSeen] = useState(value)
  if (seen !== value) {
    setSeen(value)
    if (!standsFor(text, value)) setText(format(value))
  }
  return [text, setText] as const
}

const formatNumber = (value: unknown): string =>
  typeof value === "number" ? String(value) : typeof value === "string" ? value : ""

const clamp = (node: NumberNode, n: number): number =>
  Math.min(node.maximum ?? Infinity, Math.max(node.minimum ?? -Infinity, n))

function NumberField({ node, path, slot, label, env }: FieldProps<NumberNode>): ReactNode {
  const id = fieldId(path)
  const errors = env.errors(path)
  const value = getIn(env.value, path)
  const [text, setText] = useDraft(value, formatNumber, (t, v) => {
    const parsed = parseNumberText(t)
    return parsed === undefined ? v === undefined || v === null : parsed === v
  })
  const update = (next: string) => {
    setText(next)
    const parsed = parseNumberText(next)
    env.set(path, parsed === undefined ? emptyValue(node, slot) : parsed)
  }
  const step = (direction: 1 | -1) => {
    const current = parseNumberText(text)
    update(String(clamp(node, typeof current === "number" ? current + direction * (node.step ?? 1) : 0)))
  }
  const extra = nullHint(node, slot)
  return (
    <div className="sf-field">
      <Label id={id} label={label} slot={slot} />
      <input
        className="sf-input sf-number"
        type="text"
        inputMode={node.integer ? "numeric" : "decimal"}
        id={id}
        name={id}
        value={text}
        placeholder={node.defaultValue === undefined ? undefined : String(node.defaultValue)}
        aria-required={slot !== "optional"}
        aria-invalid={errors.length > 0}
        aria-describedby={describedBy(id, node, errors.length, extra.length > 0)}
        onChange={(e) => update(e.target.value)}
        onKeyDown={(e) => {
          if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return
          e.preventDefault()
          step(e.key === "ArrowUp" ? 1 : -1)
        }}
      />
      <Notes id={id} node={node} errors={errors} extraHints={extra} />
    </div>
  )
}

function BooleanField({ node, path, slot, label, env }: FieldProps<BooleanNode>): ReactNode {
  const id = fieldId(path)
  const errors = env.errors(path)
  return (
    <div className="sf-field sf-check">
      <div className="sf-check-row">
        <input
          type="checkbox"
          id={id}
          name={id}
          checked={getIn(env.value, path) === true}
          aria-invalid={errors.length > 0}
          aria-describedby={describedBy(id, node, errors.length)}
          onChange={(e) => env.set(path, e.target.checked)}
        />
        <Label id={id} label={label} slot={slot} />
      </div>
      <Notes id={id} node={node} errors={errors} />
    </div>
  )
}

function SelectField({ node, path, slot, label, env }: FieldProps<SelectNode>): ReactNode {
  const id = fieldId(path)
  const errors = env.errors(path)
  const value = getIn(env.value, path)
  const index = node.options.findIndex((option) => Object.is(option.value, value))
  const empty = emptyValue(node, slot)
  const fixed = node.options.length === 1 && slot !== "optional" && !node.nullable
  return (
    <div className="sf-field">
      <Label id={id} label={label} slot={slot} />
      <select
        className="sf-input"
        id={id}
        name={id}
        value={index < 0 ? "" : String(index)}
        aria-required={slot !== "optional"}
        aria-invalid={errors.length > 0}
        aria-describedby={describedBy(id, node, errors.length)}
        onChange={(e) => env.set(path, e.target.value === "" ? empty : node.options[Number(e.target.value)]?.value)}
      >
        {(!fixed || index < 0) && <option value="">{empty === null ? "None (null)" : slot === "optional" ? "—" : "Choose…"}</option>}
        {node.options.map((option, i) => <option key={i} value={String(i)}>{option.label}</option>)}
      </select>
      <Notes id={id} node={node} errors={errors} />
    </div>
  )
}

function ArrayField({ node, path, slot, label, env }: FieldProps<ArrayNode>): ReactNode {
  const id = fieldId(path)
  const errors = env.errors(path)
  const list = getIn(env.value, path)
  const rows = rowsOf(list)
  const full = node.maxItems !== undefined && rows.length >= node.maxItems
  const atMinimum = node.minItems !== undefined && rows.length <= node.minItems
  return (
    <fieldset className="sf-fieldset sf-array" id={id} aria-invalid={errors.length > 0} aria-describedby={describedBy(id, node, errors.length)}>
      <legend className="sf-label">
        {label}
        {slot === "optional" && <span className="sf-optional"> (optional)</span>}
      </legend>
      <Notes id={id} node={node} errors={errors} />
      {rows.map((_, i) => {
        const rowPath = [...path, i]
        const rowLabel = `${label} ${i + 1}`
        const rowId = fieldId(rowPath)
        return (
          <div className="sf-row" key={i}>
            <div className="sf-row-field">
              <Field node={node.item} path={rowPath} slot="item" label={rowLabel} env={env} />
            </div>
            <div className="sf-row-actions">
              <button type="button" className="sf-button" aria-label={`Move ${rowLabel} up`} data-testid={`${rowId}-up`}
                disabled={i === 0} onClick={() => env.set(path, moveRow(list, i, i - 1))}>↑</button>
              <button type="button" className="sf-button" aria-label={`Move ${rowLabel} down`} data-testid={`${rowId}-down`}
                disabled={i === rows.length - 1} onClick={() => env.set(path, moveRow(list, i, i + 1))}>↓</button>
              <button type="button" className="sf-button" aria-label={`Remove ${rowLabel}`} data-testid={`${rowId}-remove`}
                disabled={atMinimum} onClick={() => env.set(path, removeRow(list, i, slot))}>✕</button>
            </div>
          </div>
        )
      })}
      <button type="button" className="sf-button sf-add" aria-label={`Add ${label} row`} data-testid={`${id}-add`}
        disabled={full} onClick={() => env.set(path, appendRow(node, list))}>+ Add</button>
    </fieldset>
  )
}

function ObjectFields({ node, path, env }: { node: ObjectNode; path: Path; env: Env }): ReactNode {
  return (
    <div className="sf-fields">
      {path.length === 0 && node.description !== undefined && <p className="sf-help">{node.description}</p>}
      {node.fields.map((field) => (
        <Field
          key={field.key}
          node={field.node}
          path={[...path, field.key]}
          slot={field.required ? "required" : "optional"}
          label={field.node.label}
          env={env}
        />
      ))}
    </div>
  )
}

function ObjectField({ node, path, slot, label, env }: FieldProps<ObjectNode>): ReactNode {
  const id = fieldId(path)
  const errors = env.errors(path)
  const value = getIn(env.value, path)
  const toggleable = isToggleable(node, slot)
  const present = typeof value === "object" && value !== null && !Array.isArray(value)
  return (
    <fieldset className="sf-fieldset" id={toggleable ? undefined : id} aria-invalid={errors.length > 0}>
      <legend className="sf-label">
        {toggleable
          ? (
            <span className="sf-check-row">
              <input type="checkbox" id={id} name={id} checked={present}
                onChange={(e) => env.set(path, e.target.checked ? filledObject(node) : emptyValue(node, slot))} />
              <label htmlFor={id}>
                {label}
                {slot === "optional" && <span className="sf-optional"> (optional)</span>}
              </label>
            </span>
          )
          : label}
      </legend>
      <Notes id={id} node={node} errors={errors} />
      {(present || !toggleable) && <ObjectFields node={node} path={path} env={env} />}
    </fieldset>
  )
}

const formatJson = (value: unknown): string => (value === undefined ? "" : JSON.stringify(value, null, 2))

const parseJson = (text: string): { ok: true; value: unknown } | { ok: false; error: string } => {
  if (text.trim() === "") return { ok: true, value: undefined }
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) }
  }
}

function JsonField({ node, path, slot, label, env }: FieldProps<JsonNode>): ReactNode {
  const id = fieldId(path)
  const errors = env.errors(path)
  const value = getIn(env.value, path)
  const [text, setText] = useDraft(value, formatJson, (t, v) => {
    const parsed = parseJson(t)
    return parsed.ok ? JSON.stringify(parsed.value) === JSON.stringify(v) : v === undefined
  })
  const parsed = parseJson(text)
  const invalid = errors.length > 0 || !parsed.ok
  return (
    <div className="sf-field">
      <Label id={id} label={label} slot={slot} />
      <textarea
        className="sf-input sf-json"
        id={id}
        name={id}
        value={text}
        rows={Math.min(12, Math.max(3, text.split("\n").length))}
        spellCheck={false}
        aria-required={slot !== "optional"}
        aria-invalid={invalid}
        aria-describedby={[describedBy(id, node, errors.length, true), parsed.ok ? undefined : `${id}-json`].filter(Boolean).join(" ")}
        onChange={(e) => {
          setText(e.target.value)
          const next = parseJson(e.target.value)
          env.set(path, next.ok ? next.value : undefined)
        }}
      />
      {!parsed.ok && (
        <p className="sf-error" role="alert" id={`${id}-json`} data-testid={`json-error-${id}`}>Not valid JSON: {parsed.error}</p>
      )}
      <Notes id={id} node={node} errors={errors} extraHints={[`JSON — ${node.reason}`]} />
    </div>
  )
}
