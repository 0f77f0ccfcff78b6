/**
 * The Definitions view: the public task definitions (title, description,
 * limits) and, for the selected one, its input form generated from the
 * definition's JSON Schema (`form/SchemaForm`). The input is checked live
 * with `ValidateInput` (debounced, stores nothing) and the issues are shown
 * next to the fields; Trigger sends it with an optional name. If the daemon
 * answers InvalidInput nothing was triggered and the issues are shown; on
 * success the app goes to the new task.
 */
import { TaskRpc } from "@tasklane/core/client"
import { useEffect, useMemo, useRef, useState } from "react"
import { useApp } from "./AppContext.ts"
import { describeError } from "./DaemonClient.ts"
import * as Format from "./Format.ts"
import * as FormModel from "./form/FormModel.ts"
import { SchemaForm } from "./form/SchemaForm.tsx"
import * as Router from "./Router.ts"
import { ErrorBanner } from "./Widgets.tsx"

/** Quiet time after an edit before the input is validated. */
const validateDelayMs = 250

type Issues = ReadonlyArray<TaskRpc.InputIssue>

/** The form's starting value for a definition's input schema. */
const startingValue = (schema: unknown): unknown => {
  try {
    return FormModel.initialValue(FormModel.fromJsonSchema(schema))
  } catch {
    return {}
  }
}

const TriggerForm = ({ definition }: { readonly definition: TaskRpc.DefinitionInfo }) => {
  const { client, live } = useApp()
  const [value, setValue] = useState<unknown>(() => startingValue(definition.inputSchema))
  const [name, setName] = useState("")
  const [issues, setIssues] = useState<Issues>([])
  const [checking, setChecking] = useState(false)
  const [submitting, setSubmitting] = useState(false)
  const [error, setError] = useState("")
  const sequence = useRef(0)

  useEffect(() => {
    const request = ++sequence.current
    setChecking(true)
    const timer = setTimeout(() => {
      client.call((c) => c.ValidateInput({ definitionId: definition.id, input: value })).then(
        () => request === sequence.current && (setIssues([]), setError("")),
        (cause: unknown) => {
          if (request !== sequence.current) return
          if (cause instanceof TaskRpc.InvalidInput) setIssues(cause.issues)
          else setError(`Could not validate the input: ${describeError(cause)}`)
        },
      ).finally(() => request === sequence.current && setChecking(false))
    }, validateDelayMs)
    return () => clearTimeout(timer)
  }, [client, definition.id, value])

  const trigger = () => {
    setSubmitting(true)
    setError("")
    const trimmed = name.trim()
    client.call((c) => c.Trigger({ definitionId: definition.id, input: value, ...(trimmed && { name: trimmed }) })).then(
      (state) => {
        live.store.load([state])
        Router.navigate({ view: "task", taskId: state.context.taskId })
      },
      (cause: unknown) => {
        if (cause instanceof TaskRpc.InvalidInput) {
          setIssues(cause.issues)
          setError("The input is not valid: nothing was triggered.")
        } else setError(`Trigger failed: ${describeError(cause)}`)
      },
    ).finally(() => setSubmitting(false))
  }

  return (
    <form className="trigger-form" onSubmit={(e) => (e.preventDefault(), trigger())}>
      <SchemaForm schema={definition.inputSchema} value={value} onChange={setValue} issues={issues} disabled={submitting} />
      <label className="field">
        <span className="field-label">Task name <span className="muted">(optional)</span></span>
        <input type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. nightly run" aria-label="Task name" />
      </label>
      <ErrorBanner message={error} onDismiss={() => setError("")} />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={submitting}>{submitting ? "Triggering…" : "Trigger"}</button>
        <span className="muted" aria-live="polite">
          {checking ? "checking…" : issues.length > 0 ? `${issues.length} problem${issues.length === 1 ? "" : "s"} with the input` : "input looks valid"}
        </span>
      </div>
    </form>
  )
}

/** The list of definitions and the selected one's trigger form. */
export const DefinitionsView = ({ definitionId }: { readonly definitionId: string | undefined }) => {
  const { client } = useApp()
  const [definitions, setDefinitions] = useState<ReadonlyArray<TaskRpc.DefinitionInfo> | undefined>(undefined)
  const [error, setError] = useState("")
  useEffect(() => {
    client.call((c) => c.Definitions({})).then(setDefinitions, (cause) => setError(`Could not load definitions: ${describeError(cause)}`))
  }, [client])
  const selected = useMemo(() => definitions?.find((d) => d.id === definitionId), [definitions, definitionId])

  return (
    <section className="view definitions-view">
      <nav className="definition-list" aria-label="Definitions">
        <ErrorBanner message={error} />
        {definitions === undefined && !error && <p className="muted">Loading…</p>}
        {definitions?.length === 0 && <p className="muted">No task definitions are loaded.</p>}
        {definitions?.map((d) => (
          <a key={d.id} className={`definition-item${d.id === definitionId ? " selected" : ""}`} href={Router.href({ view: "definitions", definitionId: d.id })}>
            <span className="definition-title">{d.title}</span>
            <span className="muted mono">{d.id}</span>
          </a>
        ))}
      </nav>
      <div className="definition-detail">
        {selected === undefined ? (
          definitionId !== undefined && definitions !== undefined ? <ErrorBanner message={`No definition "${definitionId}".`} /> : <p className="muted">Select a definition to trigger a task.</p>
        ) : (
          <>
            <h2>{selected.title}</h2>
            {selected.description && <p>{selected.description}</p>}
            <dl className="facts">
              <dt>Id</dt><dd className="mono">{selected.id}</dd>
              <dt>Max iterations</dt><dd>{selected.maxIterations.toLocaleString()}</dd>
              <dt>Timeout</dt><dd>{Format.duration(selected.timeoutSeconds * 1000)} per iteration</dd>
            </dl>
            <TriggerForm key={selected.id} definition={selected} />
          </>
        )}
      </div>
    </section>
  )
}
