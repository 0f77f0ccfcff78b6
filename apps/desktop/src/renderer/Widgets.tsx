/**
 * Small presentational pieces shared by the views: status badge, progress
 * bar, pretty JSON block, error banner and the confirmation dialog.
 */
import type { Replay } from "@tasklane/core/client"
import { useEffect, useRef, type ReactNode } from "react"
import * as Format from "./Format.ts"

/** A task status as a coloured badge. */
export const StatusBadge = ({ status }: { readonly status: Replay.TaskState["status"] }) => (
  <span className={`badge badge-${status}`} data-status={status}>
    {status === "maxIterations" ? "max iterations" : status}
  </span>
)

/** `context.progress` as a bar with its message as a tooltip. */
export const ProgressBar = ({ progress }: { readonly progress: Replay.TaskState["context"]["progress"] }) => {
  if (progress === undefined) return <span className="muted">—</span>
  const fraction = progress.total ? Math.min(1, progress.completed / progress.total) : undefined
  const label = progress.total ? `${progress.completed}/${progress.total}` : String(progress.completed)
  return (
    <span className="progress" title={progress.message ?? label}>
      <span className="progress-track">
        <span className="progress-fill" style={{ width: `${Math.round((fraction ?? 0) * 100)}%` }} />
      </span>
      <span className="progress-label">{label}</span>
    </span>
  )
}

/** A JSON value, pretty-printed. */
export const JsonBlock = ({ value, label }: { readonly value: unknown; readonly label?: string }) => (
  <pre className="json" aria-label={label}>{Format.json(value)}</pre>
)

/** An error from an RPC, readable, with an optional action (retry) and dismiss link. */
export const ErrorBanner = (props: {
  readonly message: string
  readonly onDismiss?: () => void
  readonly action?: { readonly label: string; readonly run: () => void }
}) =>
  props.message ? (
    <div className="error-banner" role="alert">
      <span>{props.message}</span>
      {props.action && <button className="link" onClick={props.action.run}>{props.action.label}</button>}
      {props.onDismiss && <button className="link" onClick={props.onDismiss}>dismiss</button>}
    </div>
  ) : null

/** A modal confirmation (native `<dialog>`): confirm or cancel. */
export const ConfirmDialog = (props: {
  readonly open: boolean
  readonly title: string
  readonly children: ReactNode
  readonly confirmLabel: string
  readonly onConfirm: () => void
  readonly onCancel: () => void
}) => {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const dialog = ref.current
    if (dialog === null) return
    if (props.open && !dialog.open) dialog.showModal()
    if (!props.open && dialog.open) dialog.close()
  }, [props.open])
  return (
    <dialog ref={ref} className="dialog" onCancel={props.onCancel}>
      <h3>{props.title}</h3>
      <div className="dialog-body">{props.children}</div>
      <div className="dialog-actions">
        <button onClick={props.onCancel}>Cancel</button>
        <button className="danger" onClick={props.onConfirm} autoFocus>{props.confirmLabel}</button>
      </div>
    </dialog>
  )
}
