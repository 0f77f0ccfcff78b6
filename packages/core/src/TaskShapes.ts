/**
 * The shapes that both the wire (events, RPC) and the authoring API
 * (`@tasklane/tasks`) speak: a recorded error, a progress report, and an
 * input refused by a definition's schema with the path of every problem.
 *
 * A leaf: it imports nothing of Tasklane, so `TaskEvent`, `TaskRpc` and the
 * authoring package all take these shapes from here instead of each keeping
 * its own copy and converting between them. The schemas are the stored and
 * wire form; changing one changes every client's bytes.
 */
import { Schema } from "effect"

/** Error details as recorded: what `controller.response.error` and a thrown error become. */
export const ErrorInfo = Schema.Struct({
  message: Schema.String,
  code: Schema.optional(Schema.String),
  data: Schema.optional(Schema.Unknown),
  stack: Schema.optional(Schema.String),
})
export type ErrorInfo = typeof ErrorInfo.Type

/** Progress as reported by `controller.state.setProgress`. */
export const Progress = Schema.Struct({
  completed: Schema.Number,
  total: Schema.optional(Schema.Number),
  message: Schema.optional(Schema.String),
})
export type Progress = typeof Progress.Type

/** One field-level problem with task input: where (`["items", 2, "name"]`, empty for the root) and what. */
export const InputIssue = Schema.Struct({
  path: Schema.Array(Schema.Union([Schema.String, Schema.Number])),
  message: Schema.String,
})
export type InputIssue = typeof InputIssue.Type

/** A field path as authors write it: `users[1].name`; the whole input is `input`. */
export const renderPath = (path: ReadonlyArray<string | number>): string =>
  path.length === 0 ? "input" : path.map((key) => (typeof key === "number" ? `[${key}]` : `.${key}`)).join("").slice(1)

/** The input does not match the definition's schema; `issues` lists every problem, and nothing was stored. */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  definitionId: Schema.String,
  issues: Schema.Array(InputIssue),
}) {
  override get message() {
    const fields = this.issues.map((issue) => `${renderPath(issue.path)}: ${issue.message}`)
    return `Invalid input for task definition "${this.definitionId}": ${fields.join("; ")}`
  }
}
