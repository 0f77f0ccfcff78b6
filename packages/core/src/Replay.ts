/**
 * The pure replay fold: recorded events in, task state out. Built on XState's
 * pure `machine.transition(snapshot, event, scope)`; the scope is inert (no
 * action executor, no children, no clock), so nothing runs but `assign`.
 *
 * The fold is also the validator of history: an event the machine does not
 * accept in the current state (or one from another stream, or out of order)
 * is a {@link ReplayError} naming the position, the state and the event.
 *
 * XState's exported `transition()` builds a fresh actor for every call, which
 * made folding ~5x slower; the inert scope below is built once and reused.
 */
import { Schema } from "effect"
import { createActor, initialTransition, type SnapshotFrom } from "xstate"
import type { RecordedEvent } from "./TaskEvent.ts"
import { canonicalContext, taskMachine, type MachineEvent, type Status, type TaskContext } from "./TaskMachine.ts"

/** A task's state after some events: the machine's state value and context (plain JSON). */
export interface TaskState {
  readonly status: Status
  readonly context: TaskContext
}

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

type Snapshot = SnapshotFrom<typeof taskMachine>

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

const snapshotOf = (state: TaskState): Snapshot =>
  state === initial ? initialSnapshot : taskMachine.resolveState({ value: state.status, context: state.context })

const toMachineEvent = (recorded: RecordedEvent): MachineEvent => ({
  type: recorded.event._tag,
  event: recorded.event,
  at: recorded.at,
  version: recorded.version,
  position: recorded.position,
})

const reject = (snapshot: Snapshot, recorded: RecordedEvent, reason: string) =>
  new ReplayError({
    position: recorded.position,
    version: recorded.version,
    state: String(snapshot.value),
    event: recorded.event._tag,
    reason,
  })

/** One machine step on a snapshot; returns the next snapshot or a ReplayError. */
const stepSnapshot = (snapshot: Snapshot, recorded: RecordedEvent): Snapshot | ReplayError => {
  const expected = snapshot.context.version + 1
  if (recorded.version !== expected) return reject(snapshot, recorded, `expected stream version ${expected}`)
  if (snapshot.context.version > 0 && recorded.stream !== snapshot.context.taskId) {
    return reject(snapshot, recorded, `event belongs to stream ${recorded.stream}, not ${snapshot.context.taskId}`)
  }
  const next = taskMachine.transition(snapshot, toMachineEvent(recorded), inertScope)
  // Every accepted event assigns the new stream version; an unchanged one means no transition was taken.
  if (next.context.version !== recorded.version) return reject(snapshot, recorded, "no transition for this event here")
  return next
}

const toState = (snapshot: Snapshot): TaskState => ({ status: snapshot.value as Status, context: canonicalContext(snapshot.context) })

/** Applies one event to a state: the incremental form used by projections. */
export const step = (state: TaskState, recorded: RecordedEvent): TaskState | ReplayError => {
  const next = stepSnapshot(snapshotOf(state), recorded)
  return next instanceof ReplayError ? next : toState(next)
}

/** Folds a whole stream (in version order) from the initial state. */
export const replay = (events: Iterable<RecordedEvent>, from: TaskState = initial): TaskState | ReplayError => {
  let snapshot = snapshotOf(from)
  for (const recorded of events) {
    const next = stepSnapshot(snapshot, recorded)
    if (next instanceof ReplayError) return next
    snapshot = next
  }
  return toState(snapshot)
}

/** Every intermediate state of a stream: `states[i]` is the state after event `i` (for scrubbing UIs). */
export const scan = (events: ReadonlyArray<RecordedEvent>): ReadonlyArray<TaskState> | ReplayError => {
  const states: Array<TaskState> = []
  let snapshot = initialSnapshot
  for (const recorded of events) {
    const next = stepSnapshot(snapshot, recorded)
    if (next instanceof ReplayError) return next
    snapshot = next
    states.push(toState(snapshot))
  }
  return states
}
