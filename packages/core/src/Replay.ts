/**
 * The pure replay fold: recorded events in, task state out. No action runs
 * but `assign`, no clock is read (time comes from the events).
 *
 * Two evaluators of the one XState machine (`TaskMachine.ts`):
 * - `replay`/`step`/`scan` use the machine compiled to a transition table
 *   (`internal/MachineTable.ts`: XState's parsed states, guards and assigns,
 *   evaluated directly), ~5-10x faster than going through XState's
 *   interpreter, which is what lets the store fold on every append and the
 *   UI open 100,000-event histories;
 * - `replayWithXState` goes through XState's pure
 *   `machine.transition(snapshot, event, scope)` with an inert scope built
 *   once (XState's exported `transition()` builds a fresh actor per call).
 * Tests prove them equal on random histories, rejections included.
 *
 * The fold is also the validator of history: an event the machine does not
 * accept in the current state (or one from another stream, or out of order)
 * is a {@link ReplayError} naming the position, the state and the event.
 */
import { Schema } from "effect"
import { createActor, initialTransition } from "xstate"
import type { RecordedEvent } from "./TaskEvent.ts"
import * as MachineTable from "./internal/MachineTable.ts"
import { canonicalContext, emptyContext, Status, TaskContext, taskMachine, type MachineEvent } from "./TaskMachine.ts"

/** A task's state after some events: the machine's state value and context (plain JSON). */
export const TaskState = Schema.Struct({ status: Status, context: TaskContext })
export type TaskState = typeof TaskState.Type

/** An event the machine does not accept where it appears in the history. */
export class ReplayError extends Schema.TaggedError<ReplayError>()("ReplayError", {
  position: Schema.Number,
  version: Schema.Number,
  state: Schema.String,
  event: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `event ${this.event} at position ${this.position} (version ${this.version}) is not accepted in state ${this.state}: ${this.reason}`
  }
}

const inertScope = (() => {
  const self = createActor(taskMachine)
  const noop = () => {}
  return {
    self,
    id: "",
    sessionId: "",
    system: self.system,
    defer: noop,
    emit: noop,
    logger: noop,
    stopChild: noop,
    actionExecutor: noop,
  } as unknown as Parameters<typeof taskMachine.transition>[2]
})()

const [initialSnapshot] = initialTransition(taskMachine)

/** The state before any event. */
export const initial: TaskState = { status: "untriggered", context: canonicalContext(initialSnapshot.context) }

const toMachineEvent = (recorded: RecordedEvent): MachineEvent => ({
  type: recorded.event._tag,
  event: recorded.event,
  at: recorded.at,
  version: recorded.version,
  position: recorded.position,
})

const reject = (status: string, recorded: RecordedEvent, reason: string) =>
  new ReplayError({ position: recorded.position, version: recorded.version, state: status, event: recorded.event._tag, reason })

/** Checks that `recorded` is the next event of the stream `context` belongs to. */
const outOfOrder = (status: string, context: TaskContext, recorded: RecordedEvent): ReplayError | undefined => {
  const expected = context.version + 1
  if (recorded.version !== expected) return reject(status, recorded, `expected stream version ${expected}`)
  if (context.version > 0 && recorded.stream !== context.taskId) {
    return reject(status, recorded, `event belongs to stream ${recorded.stream}, not ${context.taskId}`)
  }
  return undefined
}

/** A fold's private, mutable copy of a state (never handed out). */
interface Folding {
  status: Status
  readonly context: TaskContext
}

/** One step of the compiled machine on a fold's own copy; a ReplayError leaves the copy unchanged. */
const stepInPlace = (state: Folding, recorded: RecordedEvent): ReplayError | undefined => {
  const error = outOfOrder(state.status, state.context, recorded)
  if (error !== undefined) return error
  const status = MachineTable.transitionInPlace(state.status, state.context, toMachineEvent(recorded))
  if (status === undefined) return reject(state.status, recorded, "no transition for this event here")
  state.status = status
  return undefined
}

// The copy starts from every key of the empty context, so all working copies share one shape (fast merges).
const folding = (state: TaskState): Folding => ({ status: state.status, context: { ...emptyContext, ...state.context } })
const canonical = (state: Folding): TaskState => ({ status: state.status, context: canonicalContext(state.context) })

/** Applies one event to a state: the incremental form used by projections. */
export const step = (state: TaskState, recorded: RecordedEvent): TaskState | ReplayError => {
  const next = folding(state)
  return stepInPlace(next, recorded) ?? canonical(next)
}

/** Folds a whole stream (in version order) from the initial state. */
export const replay = (events: Iterable<RecordedEvent>, from: TaskState = initial): TaskState | ReplayError => {
  const state = folding(from)
  for (const recorded of events) {
    const error = stepInPlace(state, recorded)
    if (error !== undefined) return error
  }
  return canonical(state)
}

/** Every intermediate state of a stream: `states[i]` is the state after event `i` (for scrubbing UIs). */
export const scan = (events: ReadonlyArray<RecordedEvent>): ReadonlyArray<TaskState> | ReplayError => {
  const states: Array<TaskState> = []
  const state = folding(initial)
  for (const recorded of events) {
    const error = stepInPlace(state, recorded)
    if (error !== undefined) return error
    states.push(canonical(state))
  }
  return states
}

/**
 * One fold of a stream that keeps the state after every `interval` events
 * (`checkpoints[k]` is the state after `k * interval` events, `checkpoints[0]`
 * the initial state), for scrubbing UIs that cannot hold every state: the
 * state after any `n` events is then `replay` of at most `interval - 1`
 * events from a checkpoint. `visit(i, state)` sees the state after event `i`
 * while folding; it is borrowed (read it there, do not keep it).
 */
export const checkpointed = (
  events: ReadonlyArray<RecordedEvent>,
  interval: number,
  visit?: (index: number, state: TaskState) => void,
): { readonly checkpoints: ReadonlyArray<TaskState>; readonly final: TaskState } | ReplayError => {
  const checkpoints: Array<TaskState> = [initial]
  const state = folding(initial)
  for (let i = 0; i < events.length; i++) {
    const error = stepInPlace(state, events[i]!)
    if (error !== undefined) return error
    visit?.(i, state)
    if ((i + 1) % interval === 0) checkpoints.push(canonical(state))
  }
  return { checkpoints, final: canonical(state) }
}

/**
 * The reference fold: the same events through XState's own pure
 * `machine.transition` (inert scope, no actions executed). Slower; tests
 * prove {@link replay} equal to it.
 */
export const replayWithXState = (events: Iterable<RecordedEvent>): TaskState | ReplayError => {
  let snapshot = initialSnapshot
  for (const recorded of events) {
    const status = String(snapshot.value)
    const error = outOfOrder(status, snapshot.context, recorded)
    if (error !== undefined) return error
    const next = taskMachine.transition(snapshot, toMachineEvent(recorded), inertScope)
    // Every accepted event assigns the new stream version; an unchanged one means no transition was taken.
    if (next.context.version !== recorded.version) return reject(status, recorded, "no transition for this event here")
    snapshot = next
  }
  return { status: snapshot.value as Status, context: canonicalContext(snapshot.context) }
}
