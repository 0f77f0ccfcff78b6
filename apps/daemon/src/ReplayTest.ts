/**
 * Replay as a regression check for task code (`tasklane replay-test`): the
 * CURRENT definition's `run()` is called again for every recorded iteration,
 * with the recorded input, and its answer is compared with the recorded one.
 *
 * Semantics:
 * - An iteration is an `IterationStarted{iteration, attempt}` and the outcome
 *   recorded after it: IterationContinued / MaxIterationsReached (continue),
 *   TaskDone (done), TaskFailed or RetryScheduled with reason error, thrown or
 *   invalidResult (error), TaskAborted answered by the task itself (aborted).
 * - Skipped, with the reason, are iterations with no answer of run() to compare:
 *   interrupted ones (IterationInterrupted), hard timeouts, forced aborts,
 *   aborts answered after an abort request (run() saw `isAborted()` true), and
 *   an iteration still running when the history ends.
 * - The input is the task's `context.input` right after IterationStarted (the
 *   `Replay.scan` fold), decoded with the definition's schema exactly as the
 *   runner does; the output accumulated so far is the controller's output.
 * - The controller is the runner's (`makeController`) with a signal that is
 *   never aborted and `isCloseToTimeout()` always false. Log lines and
 *   progress are captured (returned, never stored). `task.trigger` answers a
 *   made-up child id and `listChildren` no children: nothing is triggered.
 * - The answer becomes a lifecycle command through the runner's own
 *   `Iteration.toCommand` and is compared as: kind (done / continue / error /
 *   aborted) and payload: done → output; continue → `{ input, output?, delayed }`
 *   (the next input, the accumulated output, whether a wake time was given);
 *   error → the error message. A throw is kind error with the thrown message;
 *   a run() that does not answer within the timeout (the definition's, or the
 *   one given) is kind `timeout`, always a divergence.
 */
import { Clock, Effect } from "effect"
import { JsonDiff } from "@tasklane/core"
import type { Lifecycle, Replay, TaskEvent } from "@tasklane/core"
import { Iteration, TaskDefinition } from "@tasklane/tasks/host"

/** What an iteration answered, as compared. */
export interface Answer {
  readonly kind: "done" | "continue" | "error" | "aborted" | "timeout"
  readonly value: unknown
}

/** One recorded iteration: where it starts, and its recorded answer or why it cannot be replayed. */
export interface Planned {
  readonly iteration: number
  readonly attempt: number
  /** The task's state right after its IterationStarted. */
  readonly state: Replay.TaskState
  readonly recorded: Answer | undefined
  readonly skipped: string | undefined
}

/** The verdict on one iteration. `recorded`, `replayed` and `match` are null when it was skipped. */
export interface IterationReport {
  readonly iteration: number
  readonly attempt: number
  readonly recorded: Answer | null
  readonly replayed: Answer | null
  readonly match: boolean | null
  readonly skipped?: string
  /** Log lines run() wrote during the replay (printed with --verbose; not in the JSON document). */
  readonly logs: ReadonlyArray<TaskDefinition.LogEntry>
}

/** One diverging iteration, with its diff lines (`-` recorded, `+` replayed). */
export interface Divergence {
  readonly iteration: number
  readonly attempt: number
  readonly diff: ReadonlyArray<string>
}

/** The whole verdict. */
export interface Report {
  readonly taskId: string
  readonly definitionId: string
  readonly iterations: ReadonlyArray<IterationReport>
  readonly divergences: ReadonlyArray<Divergence>
}

const continued = (input: unknown, output: unknown, delayed: boolean | undefined): Answer => ({
  kind: "continue",
  value: { input, ...(output === undefined ? {} : { output }), ...(delayed === undefined ? {} : { delayed }) },
})

const replayable = new Set<TaskEvent.FailureReason>(["error", "thrown", "invalidResult"])

/** The recorded answer of an outcome event, a reason to skip, or undefined when `event` ends no iteration. */
const recordedOf = (event: TaskEvent.TaskEvent, before: Replay.TaskState): Answer | { readonly skip: string } | undefined => {
  switch (event._tag) {
    case "IterationContinued":
      return continued(event.input, event.output, event.wakeAt !== undefined)
    case "MaxIterationsReached": // no wake time is recorded here: `delayed` is not compared
      return continued(event.input, event.output, undefined)
    case "TaskDone":
      return { kind: "done", value: event.output ?? null }
    case "TaskFailed":
    case "RetryScheduled":
      return replayable.has(event.reason)
        ? { kind: "error", value: event.error.message }
        : { skip: event.reason === "timeout" ? "hard timeout" : `failed: ${event.reason}` }
    case "TaskAborted":
      if (event.forced) return { skip: "forced abort" }
      return before.context.abortRequested ? { skip: "aborted on request" } : { kind: "aborted", value: null }
    case "IterationInterrupted":
      return { skip: `interrupted (${event.reason})` }
    default:
      return undefined
  }
}

/** Every recorded iteration of a history, with its recorded answer (pure). */
export const plan = (
  events: ReadonlyArray<TaskEvent.RecordedEvent>,
  states: ReadonlyArray<Replay.TaskState>,
): ReadonlyArray<Planned> => {
  const planned: Array<Planned> = []
  let open: { readonly iteration: number; readonly attempt: number; readonly state: Replay.TaskState } | undefined
  events.forEach((recorded, i) => {
    const event = recorded.event
    if (event._tag === "IterationStarted") {
      open = { iteration: event.iteration, attempt: event.attempt, state: states[i]! }
      return
    }
    if (open === undefined) return
    const answer = recordedOf(event, states[i - 1]!)
    if (answer === undefined) return
    planned.push({ ...open, ...("skip" in answer ? { recorded: undefined, skipped: answer.skip } : { recorded: answer, skipped: undefined }) })
    open = undefined
  })
  if (open !== undefined) planned.push({ ...open, recorded: undefined, skipped: "no recorded outcome (still running)" })
  return planned
}

/** The answer a lifecycle command records, as compared. */
export const answerOf = (command: Lifecycle.Command): Answer => {
  if (command._tag === "Fail") return { kind: command.reason === "timeout" ? "timeout" : "error", value: command.error.message }
  if (command._tag !== "Complete") return { kind: "error", value: `unexpected command ${command._tag}` }
  const result = command.result
  switch (result._tag) {
    case "Done":
      return { kind: "done", value: result.output ?? null }
    case "Continue":
      return continued(result.input, result.output, result.wakeAt !== undefined)
    case "Error":
      return { kind: "error", value: result.error.message }
    case "Aborted":
      return { kind: "aborted", value: null }
  }
}

/**
 * Runs the definition's `run()` once for a planned iteration, as the runner
 * would, within `timeoutSeconds`; answers what it would have recorded.
 */
export const replayIteration = (
  definition: TaskDefinition.Definition,
  planned: Planned,
  timeoutSeconds: number,
): Effect.Effect<{ readonly answer: Answer; readonly logs: ReadonlyArray<TaskDefinition.LogEntry> }> =>
  Effect.gen(function*() {
    const clock = yield* Clock.Clock
    const now = () => clock.currentTimeMillisUnsafe()
    const entry = { ...definition, timeout: timeoutSeconds }
    const logs: Array<TaskDefinition.LogEntry> = []
    let children = 0
    const abort = new AbortController()
    const timer = Iteration.timer(entry.timeout * 1000)
    const { command, answered } = yield* Iteration.iterate({
      entry,
      state: planned.state,
      now,
      signal: abort.signal,
      stop: timer.stop,
      host: {
        onLog: (line) => void logs.push(line),
        trigger: () => Promise.resolve({ id: `replay-test-child-${planned.iteration}-${++children}` }),
        listChildren: () => Promise.resolve([]),
      },
      adjust: (live) => ({ ...live, runtime: { ...live.runtime, isCloseToTimeout: () => false } }),
    }).pipe(Effect.ensuring(Effect.sync(timer.cancel)))
    if (!answered) abort.abort()
    return { answer: answerOf(command), logs }
  })

/** A value as the store would keep it (a Date becomes its ISO string, undefined members vanish). */
const asStored = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)))

/** Comparable forms: as stored; `delayed` only counts where the recording knows it (not for MaxIterationsReached). */
const comparable = (recorded: Answer, replayed: Answer): unknown => {
  const known = (recorded.value as { delayed?: unknown } | null)?.delayed !== undefined
  if (recorded.kind !== "continue" || replayed.kind !== "continue" || known) return asStored(replayed.value)
  const { delayed: _, ...rest } = replayed.value as Record<string, unknown>
  return asStored(rest)
}

/** The diff lines of a divergence: the kinds when they differ, then the payload paths. */
const diffLines = (recorded: Answer, replayed: Answer): ReadonlyArray<string> => [
  ...(recorded.kind === replayed.kind ? [] : ["kind", `- ${recorded.kind}`, `+ ${replayed.kind}`]),
  ...JsonDiff.render(JsonDiff.diff(recorded.value, comparable(recorded, replayed))),
]

/** Replays every iteration of a history against `definition`, one after the other. */
export const run = (
  definition: TaskDefinition.Definition,
  history: {
    readonly events: ReadonlyArray<TaskEvent.RecordedEvent>
    readonly states: ReadonlyArray<Replay.TaskState>
  },
  options: { readonly timeoutSeconds?: number | undefined } = {},
): Effect.Effect<Report> =>
  Effect.gen(function*() {
    const last = history.states.at(-1)?.context
    const iterations: Array<IterationReport> = []
    const divergences: Array<Divergence> = []
    for (const planned of plan(history.events, history.states)) {
      const { iteration, attempt } = planned
      if (planned.recorded === undefined) {
        iterations.push({ iteration, attempt, recorded: null, replayed: null, match: null, skipped: planned.skipped ?? "", logs: [] })
        continue
      }
      const recorded = planned.recorded
      const { answer, logs } = yield* replayIteration(definition, planned, options.timeoutSeconds ?? definition.timeout)
      const diff = diffLines(recorded, answer)
      const match = diff.length === 0
      iterations.push({ iteration, attempt, recorded, replayed: answer, match, logs })
      if (!match) divergences.push({ iteration, attempt, diff })
    }
    return { taskId: last?.taskId ?? "", definitionId: last?.definitionId ?? "", iterations, divergences }
  })
