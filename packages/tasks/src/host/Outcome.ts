/** The one type the iteration runner (Iteration) and its stop latch (Stop) share, in its own module so neither imports the other. */
import type { TaskEvent } from "@tasklane/core"

/** How the run of an iteration ended, before it is recorded. */
export type Outcome =
  | { readonly _tag: "Returned"; readonly result: unknown }
  | { readonly _tag: "Threw"; readonly error: unknown }
  | { readonly _tag: "TimedOut" }
  | { readonly _tag: "Forced" }
  /** The task's code failed outside `run()`'s answer (unhandled rejection, uncaught exception), or its worker died. */
  | { readonly _tag: "Crashed"; readonly reason: "uncaught" | "workerDied"; readonly error: TaskEvent.ErrorInfo }
