/**
 * The exported history file: everything needed to replay one task with no
 * daemon (`tasklane export`, `tasklane replay --file`, the desktop's File >
 * Open history…). `events` are the stored envelopes exactly as the daemon's
 * History RPC returns them (encoded), so a file replays with the same fold.
 */
import { Schema } from "effect"

/** The `format` tag of an exported history file. */
export const format = "tasklane-history"

/** An exported history file, version 1. */
export const HistoryFile = Schema.Struct({
  format: Schema.Literal(format),
  formatVersion: Schema.Literal(1),
  taskId: Schema.String,
  definitionId: Schema.String,
  exportedAt: Schema.String,
  events: Schema.Array(Schema.Unknown),
})
export type HistoryFile = typeof HistoryFile.Type

/**
 * The envelopes of a parsed history file, or of a recorded fixture that has
 * only an `events` array; undefined when the document has no `events` array.
 */
export const envelopesOf = (document: unknown): ReadonlyArray<unknown> | undefined => {
  const events = (document as { readonly events?: unknown } | null)?.events
  return Array.isArray(events) ? events : undefined
}
