/**
 * A task's history, loaded for scrubbing: the envelopes (from the History
 * RPC or an exported file) decoded with `TaskEvent.fromEnvelope` and folded
 * once by the shared fold (`Replay.checkpointed`), keeping a checkpoint state every
 * `interval` events. The state after any number of events is then the
 * nearest checkpoint plus `Replay.replay` of at most `interval - 1` events,
 * so a 100,000-event history costs one fold to open and microseconds per
 * scrub, without holding 100,000 states. Pure (no DOM, no clock): the views
 * and the tests share it.
 *
 * Lifecycle: `load(envelopes)` → a {@link History} (or a decode/replay
 * error naming the event); `stateAt(history, n)` for any `n` in
 * `0..events.length` ("after n events", as `tasklane replay --at n`).
 */
import { HistoryFile, JsonDiff, Replay, TaskEvent, TaskMachine } from "@tasklane/core/client"

/** Checkpoint spacing: one kept state per this many events. */
export const defaultInterval = 1000

/** A loaded, folded history. */
export interface History {
  /** The envelopes as given (plain JSON), for payload display and search. */
  readonly envelopes: ReadonlyArray<typeof TaskEvent.EventEnvelope.Encoded>
  readonly events: ReadonlyArray<TaskEvent.RecordedEvent>
  readonly interval: number
  /** `checkpoints[k]` is the state after `k * interval` events (`checkpoints[0]` is `Replay.initial`). */
  readonly checkpoints: ReadonlyArray<Replay.TaskState>
  /** `context.iteration` after each event (from the fold), for the event list. */
  readonly iterations: Int32Array
  /** The state after the last event. */
  readonly final: Replay.TaskState
}

/** Why a document could not be opened as a history. */
export class HistoryLoadError {
  readonly _tag = "HistoryLoadError"
  constructor(readonly message: string) {}
}

/** Decodes every envelope with `TaskEvent.fromEnvelope`; the first that does not decode fails. */
export const decode = (envelopes: ReadonlyArray<unknown>): ReadonlyArray<TaskEvent.RecordedEvent> | HistoryLoadError => {
  const events: Array<TaskEvent.RecordedEvent> = new Array(envelopes.length)
  try {
    for (let i = 0; i < envelopes.length; i++) events[i] = TaskEvent.fromEnvelope(envelopes[i])
  } catch (error) {
    return new HistoryLoadError(error instanceof Error ? error.message : String(error))
  }
  return events
}

/** Folds decoded events once (`Replay.checkpointed`), keeping a checkpoint every `interval` events; a rejected event fails. */
export const fold = (
  envelopes: ReadonlyArray<unknown>,
  events: ReadonlyArray<TaskEvent.RecordedEvent>,
  interval = defaultInterval,
): History | HistoryLoadError => {
  const iterations = new Int32Array(events.length)
  const folded = Replay.checkpointed(events, interval, (i, state) => (iterations[i] = state.context.iteration))
  if (folded instanceof Replay.ReplayError) return new HistoryLoadError(folded.message)
  return { envelopes: envelopes as History["envelopes"], events, interval, checkpoints: folded.checkpoints, iterations, final: folded.final }
}

/** Decodes and folds `envelopes` (see {@link decode} and {@link fold}). */
export const load = (envelopes: ReadonlyArray<unknown>, interval = defaultInterval): History | HistoryLoadError => {
  const events = decode(envelopes)
  return events instanceof HistoryLoadError ? events : fold(envelopes, events, interval)
}

/** The state after the first `n` events (clamped to the history). */
export const stateAt = (history: History, n: number): Replay.TaskState => {
  const at = Math.max(0, Math.min(history.events.length, Math.trunc(n)))
  if (at === history.events.length) return history.final
  const k = Math.floor(at / history.interval)
  const from = k * history.interval
  if (from === at) return history.checkpoints[k]!
  const state = Replay.replay(history.events.slice(from, at), history.checkpoints[k]!)
  // Every event folded once already during load, so this cannot fail; surface it loudly if it ever does.
  if (state instanceof Replay.ReplayError) throw state
  return state
}

/** The envelopes of an opened file's text, or a readable reason it is not a history. */
export const parseFile = (name: string, text: string): ReadonlyArray<unknown> | HistoryLoadError => {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    return new HistoryLoadError(`${name} is not JSON (${error instanceof Error ? error.message : String(error)})`)
  }
  const envelopes = HistoryFile.envelopesOf(document)
  if (envelopes === undefined) return new HistoryLoadError(`${name} is not a Tasklane history file (it has no "events" array)`)
  if (envelopes.length === 0) return new HistoryLoadError(`${name} has no events`)
  return envelopes
}

/** A one-line summary of an event's payload, for the event list. */
export const summary = (history: History, index: number): string => {
  const e = history.events[index]!.event
  switch (e._tag) {
    case "IterationStarted":
      return `iteration ${e.iteration}, attempt ${e.attempt}`
    case "TaskLogged":
      return `[${e.level}] ${e.message}`
    case "ProgressUpdated":
      return `${e.progress.completed}${e.progress.total === undefined ? "" : `/${e.progress.total}`}${e.progress.message ? ` ${e.progress.message}` : ""}`
    case "TaskFailed":
    case "RetryScheduled":
      return `${e.reason}: ${e.error.message}`
    default: {
      const text = JSON.stringify(history.envelopes[index]!.data) ?? ""
      return text.length > 160 ? `${text.slice(0, 159)}…` : text
    }
  }
}

/** Indices of the events whose type is in `types` and whose JSON payload contains `text` (case-insensitive). */
export const filter = (
  history: History,
  types: ReadonlySet<string>,
  text: string,
  searchable: () => ReadonlyArray<string>,
): ReadonlyArray<number> => {
  const needle = text.trim().toLowerCase()
  const haystack = needle === "" ? undefined : searchable()
  const out: Array<number> = []
  for (let i = 0; i < history.events.length; i++) {
    if (!types.has(history.events[i]!.event._tag)) continue
    if (haystack !== undefined && !haystack[i]!.includes(needle)) continue
    out.push(i)
  }
  return out
}

/** Lower-cased JSON of every payload (type included), built once per history on the first text search. */
export const searchText = (history: History): ReadonlyArray<string> =>
  history.envelopes.map((envelope) => `${envelope.type} ${JSON.stringify(envelope.data)}`.toLowerCase())

/** Log lines (TaskLogged events) among the first `n` events, newest last; at most `limit` of the latest. */
export const logsUpTo = (history: History, n: number, limit = 200): ReadonlyArray<{ index: number; event: TaskEvent.TaskLogged; at: number }> => {
  const out: Array<{ index: number; event: TaskEvent.TaskLogged; at: number }> = []
  for (let i = Math.min(n, history.events.length) - 1; i >= 0 && out.length < limit; i--) {
    const recorded = history.events[i]!
    if (recorded.event._tag === "TaskLogged") out.push({ index: i, event: recorded.event, at: recorded.at })
  }
  return out.reverse()
}

/** How one attempt of an iteration ended (or `running` if the history stops inside it). */
export type Outcome = "continued" | "done" | "error" | "retry" | "interrupted" | "aborted" | "maxIterations" | "running"

const outcomes: Partial<Record<TaskEvent.EventType, Outcome>> = {
  IterationContinued: "continued",
  TaskDone: "done",
  TaskFailed: "error",
  RetryScheduled: "retry",
  IterationInterrupted: "interrupted",
  TaskAborted: "aborted",
  MaxIterationsReached: "maxIterations",
}

/** One attempt of one iteration on the timeline. */
export interface Bar {
  readonly iteration: number
  readonly attempt: number
  /** Index of its IterationStarted event (scrubbing to `start + 1` shows it running). */
  readonly start: number
  readonly end: number
  readonly startAt: number
  readonly endAt: number
  readonly outcome: Outcome
  /** The wait the outcome asked for before the next iteration (continue or retry with a wake time). */
  readonly wakeAt?: number | undefined
  /** Why it failed or stopped (`timeout: …`, `thrown: …`, `crash`), in plain words rather than raw JSON. */
  readonly why?: string | undefined
  /** The attempt ran past its hard timeout (its failure's reason is `timeout`). */
  readonly timedOut: boolean
}

const why = (e: TaskEvent.TaskEvent): string | undefined =>
  e._tag === "TaskFailed" || e._tag === "RetryScheduled"
    ? `${e.reason}: ${e.error.message}`
    : e._tag === "IterationInterrupted"
    ? `the daemon ${e.reason === "crash" ? "died" : "shut down"} mid-iteration`
    : e._tag === "TaskAborted"
    ? e.forced ? "forced after the grace period" : e.message
    : undefined

/** Every iteration attempt: from its IterationStarted to the event that ended it. */
export const bars = (history: History): ReadonlyArray<Bar> => {
  const out: Array<Bar> = []
  let open: { iteration: number; attempt: number; start: number; startAt: number } | undefined
  history.events.forEach((recorded, index) => {
    const e = recorded.event
    if (e._tag === "IterationStarted") {
      open = { iteration: e.iteration, attempt: e.attempt, start: index, startAt: recorded.at }
      return
    }
    const outcome = outcomes[e._tag]
    if (outcome === undefined || open === undefined) return
    const wakeAt = e._tag === "IterationContinued" || e._tag === "RetryScheduled" ? e.wakeAt : undefined
    const timedOut = (e._tag === "TaskFailed" || e._tag === "RetryScheduled") && e.reason === "timeout"
    out.push({ ...open, end: index, endAt: recorded.at, outcome, wakeAt, why: why(e), timedOut })
    open = undefined
  })
  if (open !== undefined) {
    const last = history.events.at(-1)!
    out.push({ ...open, end: history.events.length - 1, endAt: last.at, outcome: "running", timedOut: false })
  }
  return out
}

/** Which outcome the timeline overview shows for a pixel column covering several attempts: the highest wins. */
export const outcomeRank: Record<Outcome, number> = {
  continued: 0,
  running: 1,
  done: 2,
  maxIterations: 3,
  aborted: 4,
  retry: 5,
  interrupted: 6,
  error: 7,
}

/** The outcome (as its {@link outcomeRank}) each of `columns` columns shows when all bars are spread over them in order. */
export const columnRanks = (bars: ReadonlyArray<Bar>, columns: number): Uint8Array => {
  const out = new Uint8Array(columns)
  for (let c = 0; c < columns; c++) {
    // Columns past the attempts repeat the last one: with few bars, each spans several columns.
    const first = Math.min(bars.length - 1, Math.floor((c * bars.length) / columns))
    const end = Math.max(first + 1, Math.floor(((c + 1) * bars.length) / columns))
    let best = 0
    for (let i = first; i < end; i++) best = Math.max(best, outcomeRank[bars[i]!.outcome])
    out[c] = best
  }
  return out
}

/**
 * Where a fork from the state after some events starts: the iteration whose
 * input `context.input` is (the running one, or the next one while waiting)
 * and that input. Undefined before the trigger.
 */
export const forkPoint = (state: Replay.TaskState): { readonly iteration: number; readonly input: unknown } | undefined => {
  if (state.status === "untriggered") return undefined
  const waiting = state.status === "triggered" || state.status === "continue"
  return { iteration: waiting ? state.context.nextIteration : Math.max(1, state.context.iteration), input: state.context.input }
}

/**
 * The fork point of iteration `iteration` (a fork link opened with no
 * stored draft): the state just before the iteration first started, waiting
 * for it with its input; an iteration that never started can still be the
 * one the history ends waiting for. Undefined when the task has no such
 * iteration.
 */
export const forkPointOf = (history: History, iteration: number): ReturnType<typeof forkPoint> => {
  const start = history.events.findIndex(({ event }) => event._tag === "IterationStarted" && event.iteration === iteration)
  const point = forkPoint(stateAt(history, start === -1 ? history.events.length : start))
  return point?.iteration === iteration ? point : undefined
}

/** How the replay and the daemon's stored projection differ. */
export interface Divergence {
  /** Replayed state after the last event (before) against the projection (after): status and context. */
  readonly changes: ReadonlyArray<JsonDiff.Change>
  /** The number of events after which they part (1-based event number, as the scrubber counts). */
  readonly at: number
  /**
   * `behind`: the projection equals the replay after `at - 1` events and
   * lacks the rest. `set`: event `at` is the last one that set the first
   * differing path in the replay; the projection holds another value there.
   */
  readonly kind: "behind" | "set"
}

const comparable = (state: Replay.TaskState) => ({ status: state.status, context: state.context })

/**
 * The replayed state after the last event against the daemon's stored
 * projection (GetTask), status and context compared deeply; undefined when
 * they agree. A projection keeps no history of its own, so where they part
 * is found from the replay: if the projection equals the replay at its own
 * (older) version, it is behind from the next event; otherwise the event
 * that last set the first differing path is where they diverge.
 */
export const consistency = (history: History, projection: Replay.TaskState): Divergence | undefined => {
  const changes = JsonDiff.diff(comparable(history.final), comparable(projection))
  if (changes.length === 0) return undefined
  const version = projection.context.version
  if (version < history.events.length && JsonDiff.equal(comparable(stateAt(history, version)), comparable(projection))) {
    return { changes, at: version + 1, kind: "behind" }
  }
  const path = changes[0]!.path
  const read = (state: Replay.TaskState) => JSON.stringify(JsonDiff.valueAt(comparable(state), path))
  let last = read(Replay.initial)
  let at = 0
  // One more fold, only to watch that path (an interval past the end keeps no checkpoints).
  Replay.checkpointed(history.events, history.events.length + 1, (i, state) => {
    const value = read(state)
    if (value !== last) (last = value), (at = i + 1)
  })
  return { changes, at, kind: "set" }
}

/** The states of the machine, for the diagram (from the machine config, so it follows the machine). */
export const machineStates = (): ReadonlyArray<{ readonly name: TaskMachine.Status; readonly final: boolean; readonly targets: ReadonlyArray<{ readonly to: string; readonly events: ReadonlyArray<string> }> }> =>
  Object.entries(TaskMachine.taskMachine.config.states ?? {}).map(([name, node]) => {
    const byTarget = new Map<string, Array<string>>()
    for (const [event, transition] of Object.entries((node as { on?: Record<string, unknown> }).on ?? {})) {
      for (const t of [transition].flat() as Array<{ target?: string | ReadonlyArray<string> }>) {
        for (const target of [t?.target ?? []].flat()) {
          const to = String(target).replace(/^\./, "")
          if (to === name) continue
          byTarget.set(to, [...(byTarget.get(to) ?? []), event])
        }
      }
    }
    return {
      name: name as TaskMachine.Status,
      final: TaskMachine.isFinal(name as TaskMachine.Status),
      targets: [...byTarget].map(([to, events]) => ({ to, events })),
    }
  })
