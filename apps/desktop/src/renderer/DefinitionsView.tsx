/**
 * The Definitions view: the public task definitions (title, description,
 * limits) and, for the selected one, its input form generated from the
 * definition's JSON Schema (`form/SchemaForm`). The input is checked live
 * with `ValidateInput` (debounced, stores nothing) and, once the user has
 * edited the form or pressed Trigger, the issues are shown next to the
 * fields (a form just opened shows no errors); Trigger sends it with an optional name. If the daemon
 * answers InvalidInput nothing was triggered and the issues are shown; on
 * success the app goes to the new task. With a fork route (History's "Fork
 * from here") the form starts from the input the original task had at that
 * iteration, editable, and the trigger records `forkedFrom`.
 */
import { type Ids, TaskRpc } from "@tasklane/core/client"
import { useEffect, useMemo, useState } from "react"
import { useApp } from "./AppContext.ts"
import { describeError } from "./DaemonClient.ts"
import * as Format from "./Format.ts"
import * as FormModel from "./form/FormModel.ts"
import { SchemaForm } from "./form/SchemaForm.tsx"
import * as ForkDraft from "./history/ForkDraft.ts"
import * as Router from "./Router.ts"
import { ErrorBanner } from "./Widgets.tsx"
import { useLoad } from "./useLoad.ts"

/** Quiet time after an edit before the input is validated. */
const validateDelayMs = 250

type Issues = ReadonlyArray<TaskRpc.InputIssue>

/** The form's starting value for a definition's input schema. */
const startingValue = (schema: unknown): unknown => {
  try {
    return FormModel.initialValue(FormModel.fromJsonSchema(schema))
  } catch (error) {
    // The form still opens (empty), and the daemon's validation says what the input lacks.
    console.error("tasklane: could not derive the form's starting value from the input schema", error)
    return {}
  }
}

/** Resolves after `ms`, unless `signal` aborts first (then it never settles: its load was dropped). */
const quiet = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener("abort", () => clearTimeout(timer), { once: true })
  })

/** The daemon's verdict on an input: its issues (none when valid). */
type Verdict = { readonly issues: Issues }

const TriggerForm = ({ definition, fork }: {
  readonly definition: TaskRpc.DefinitionInfo
  readonly fork?: { readonly origin: ForkDraft.ForkOrigin; readonly input: unknown } | undefined
}) => {
  const { client, live } = useApp()
  const [value, setValue] = useState<unknown>(() => (fork === undefined ? startingValue(definition.inputSchema) : fork.input))
  const [name, setName] = useState("")
  const [issues, setIssues] = useState<Issues>([])
  // Problems are shown once the user has edited the form or pressed Trigger, not on a form just opened.
  const [touched, setTouched] = useState(fork !== undefined)
  const [submitting, setSubmitting] = useState(false)
  const [error, setError] = useState("")

  // Each edit replaces the check under way (its answer is dropped), after a quiet time.
  const check = useLoad<Verdict>(async (signal) => {
    await quiet(validateDelayMs, signal)
    try {
      await client.call((c) => c.ValidateInput({ definitionId: definition.id, input: value }))
      return { issues: [] }
    } catch (cause) {
      if (cause instanceof TaskRpc.InvalidInput) return { issues: cause.issues }
      throw cause
    }
  }, [client, definition.id, value])
  const checking = check.loading
  // A settled check updates what the form shows; the trigger's own answers (below) update the same state.
  useEffect(() => {
    if (check.loading) return
    if (check.error) setError(`Could not validate the input: ${check.error}`)
    else if (check.value !== undefined) {
      setIssues(check.value.issues)
      if (check.value.issues.length === 0) setError("")
    }
  }, [check.loading, check.error, check.value])

  const trigger = () => {
    setTouched(true)
    setSubmitting(true)
    setError("")
    const trimmed = name.trim()
    const forkedFrom = fork && { taskId: fork.origin.taskId as Ids.TaskId, iteration: fork.origin.iteration }
    client.call((c) => c.Trigger({ definitionId: definition.id, input: value, ...(trimmed && { name: trimmed }), ...(forkedFrom && { forkedFrom }) })).then(
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
      <SchemaForm
        schema={definition.inputSchema}
        value={value}
        onChange={(next) => (setTouched(true), setValue(next))}
        issues={touched ? issues : []}
        disabled={submitting}
      />
      <label className="field">
        <span className="field-label">Task name <span className="muted">(optional)</span></span>
        <input type="text" value={name} maxLength={TaskRpc.maxNameLength} onChange={(e) => setName(e.target.value)} placeholder="e.g. nightly run" aria-label="Task name" />
      </label>
      <ErrorBanner message={error} onDismiss={() => setError("")} />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={submitting}>{submitting ? "Triggering…" : fork ? "Trigger fork" : "Trigger"}</button>
        <span className="muted" aria-live="polite">
          {checking ? "checking…" : issues.length === 0 ? "input looks valid" : touched ? `${issues.length} problem${issues.length === 1 ? "" : "s"} with the input` : "fill in the form"}
        </span>
      </div>
    </form>
  )
}

/** The trigger form for a fork: loads the input the original had at that iteration first. */
const ForkForm = ({ definition, origin }: { readonly definition: TaskRpc.DefinitionInfo; readonly origin: ForkDraft.ForkOrigin }) => {
  const { client } = useApp()
  const { taskId, iteration } = origin
  // Wrapped, so an input that is itself `undefined` still counts as loaded.
  const input = useLoad(() => ForkDraft.load(client, { taskId, iteration }).then((value) => ({ value })), [client, taskId, iteration])
  return (
    <>
      <p className="fork-note" data-testid="fork-note">
        Forking <a className="mono" href={Router.href({ view: "task", taskId: origin.taskId })}>{origin.taskId}</a> from iteration {origin.iteration}:
        the input below is what that iteration had; edit it and trigger.
      </p>
      <ErrorBanner message={input.error && `Could not read the fork's input: ${input.error}`} />
      {input.value !== undefined && <TriggerForm definition={definition} fork={{ origin, input: input.value.value }} />}
    </>
  )
}

/** The list of definitions and the selected one's trigger form (prefilled when forking). */
export const DefinitionsView = ({ definitionId, fork }: {
  readonly definitionId: string | undefined
  readonly fork?: ForkDraft.ForkOrigin | undefined
}) => {
  const { client } = useApp()
  const load = useLoad(() => client.call((c) => c.Definitions({})), [client])
  const definitions = load.value
  const error = load.error && `Could not load definitions: ${load.error}`
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
            {fork === undefined
              ? <TriggerForm key={selected.id} definition={selected} />
              : <ForkForm key={`${selected.id}/${fork.taskId}/${fork.iteration}`} definition={selected} origin={fork} />}
          </>
        )}
      </div>
    </section>
  )
}
