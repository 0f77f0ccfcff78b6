/**
 * The one error a task definition class can be refused with, when the daemon
 * (or the test kit) constructs and checks it: which class, and every reason.
 */
import { Schema } from "effect"

/** A task definition class is unusable; `className` names it, `reasons` says why. */
export class InvalidDefinition extends Schema.TaggedError<InvalidDefinition>()("InvalidDefinition", {
  className: Schema.String,
  id: Schema.optional(Schema.String),
  reasons: Schema.Array(Schema.String),
}) {
  override get message(): string {
    const id = this.id === undefined ? "" : ` (id "${this.id}")`
    return `Task definition ${this.className}${id} is invalid: ${this.reasons.join("; ")}`
  }
}
