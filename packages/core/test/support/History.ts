/**
 * Test support: builds recorded histories by running lifecycle commands
 * through the decider and the fold, with a deterministic clock and ids.
 */
import type { DefinitionId, EventId, TaskId } from "../../src/Ids.ts"
import * as Lifecycle from "../../src/Lifecycle.ts"
import * as Replay from "../../src/Replay.ts"
import type { RecordedEvent } from "../../src/TaskEvent.ts"

/** A history under construction: its events and the state they fold to. */
export interface History {
  readonly events: ReadonlyArray<RecordedEvent>
  readonly state: Replay.TaskState
}

export const taskId = "0190a000-0000-7000-8000-000000000001" as TaskId
export const definitionId = "demoTask" as DefinitionId
export const startedAt = 1_700_000_000_000

/** The Trigger command for the test task. */
export const trigger = (overrides: Partial<Extract<Lifecycle.Command, { _tag: "Trigger" }>> = {}): Lifecycle.Command => ({
  _tag: "Trigger",
  taskId,
  definitionId,
  input: { n: 1 },
  maxIterations: 3,
  ...overrides,
})

/** Applies commands one by one; throws on a rejected command or a refused event. */
export const run = (
  commands: ReadonlyArray<Lifecycle.Command>,
  from: History = { events: [], state: Replay.initial },
  options: Lifecycle.DecideOptions = {},
): History => {
  let { events, state } = from
  for (const command of commands) {
    const decided = Lifecycle.decide(state, command, options)
    if (decided instanceof Lifecycle.CommandRejected) throw decided
    for (const event of decided) {
      const version = events.length + 1
      const recorded: RecordedEvent = {
        id: `0190a000-0000-7000-8000-${String(version).padStart(12, "0")}` as EventId,
        stream: state.context.version === 0 ? ("taskId" in event ? event.taskId : taskId) : state.context.taskId,
        version,
        position: version,
        at: startedAt + version * 1000,
        event,
      }
      const next = Replay.step(state, recorded)
      if (next instanceof Replay.ReplayError) throw next
      events = [...events, recorded]
      state = next
    }
  }
  return { events, state }
}
