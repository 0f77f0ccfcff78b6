/**
 * The task machine compiled to a transition table, for folding long
 * histories fast. It reads XState's own parsed machine (state nodes, their
 * transitions, the named guards and `assign` actions of `setup`), so the
 * lifecycle rules stay defined once, in `TaskMachine.ts`; this module only
 * evaluates them, the way XState does for a flat machine whose actions are
 * all `assign`: the first transition whose guard passes is taken, its
 * assignments are merged into the context in order, and the state becomes
 * its target (or stays, for a targetless transition).
 *
 * Anything else (nested states, entry/exit actions, eventless transitions,
 * non-assign actions) is refused when the module loads, so a machine change
 * the table cannot evaluate fails loudly instead of folding differently.
 * `Replay.replayWithXState` is the reference; a property test keeps both equal.
 */
import { taskMachine, type MachineEvent, type Status, type TaskContext } from "../TaskMachine.ts"

type Args = { readonly context: TaskContext; readonly event: MachineEvent }

interface Transition {
  readonly guard: ((args: Args) => boolean) | undefined
  readonly assignments: ReadonlyArray<(args: Args) => Partial<TaskContext>>
  readonly target: Status | undefined
}

const unsupported = (what: string): never => {
  throw new Error(`TaskMachine uses ${what}, which the compiled fold (internal/MachineTable.ts) does not evaluate`)
}

const implementations = taskMachine.implementations as unknown as {
  readonly guards: Record<string, (args: Args) => boolean>
  readonly actions: Record<string, { readonly assignment?: unknown }>
}

const compileTransition = (definition: { guard?: unknown; actions: ReadonlyArray<unknown>; target?: ReadonlyArray<{ key: string }> | undefined }): Transition => {
  const guard = definition.guard === undefined
    ? undefined
    : typeof definition.guard === "string" && typeof implementations.guards[definition.guard] === "function"
    ? implementations.guards[definition.guard]
    : unsupported("an inline or parameterised guard")
  const assignments = definition.actions.map((action) => {
    const assignment = typeof action === "string" ? implementations.actions[action]?.assignment : undefined
    return typeof assignment === "function" ? (assignment as (args: Args) => Partial<TaskContext>) : unsupported("an action that is not a named assign(fn)")
  })
  const targets = definition.target ?? []
  if (targets.length > 1) unsupported("a transition with several targets")
  return { guard, assignments, target: targets[0]?.key as Status | undefined }
}

const compile = (): ReadonlyMap<Status, ReadonlyMap<string, ReadonlyArray<Transition>>> => {
  const table = new Map<Status, Map<string, ReadonlyArray<Transition>>>()
  for (const [key, node] of Object.entries(taskMachine.states)) {
    if (Object.keys(node.states).length > 0) unsupported(`nested states (in ${key})`)
    if (node.entry.length > 0 || node.exit.length > 0) unsupported(`entry or exit actions (in ${key})`)
    if ((node.always?.length ?? 0) > 0) unsupported(`eventless transitions (in ${key})`)
    if (node.invoke.length > 0) unsupported(`invoked actors (in ${key})`)
    const byEvent = new Map<string, ReadonlyArray<Transition>>()
    for (const [eventType, definitions] of node.transitions) byEvent.set(eventType, definitions.map(compileTransition))
    table.set(key as Status, byEvent)
  }
  return table
}

const table = compile()

/**
 * The next status, or undefined when the machine takes no transition for this
 * event here. The transition's assignments are merged INTO `context`, which
 * the caller owns (a fold copies the context once, then mutates its copy);
 * nothing is changed when no transition is taken.
 */
export const transitionInPlace = (status: Status, context: TaskContext, event: MachineEvent): Status | undefined => {
  const candidates = table.get(status)?.get(event.type)
  if (candidates === undefined) return undefined
  // One arguments object for every guard and assignment of this event (they only read it).
  const args: Args = { context, event }
  for (const candidate of candidates) {
    if (candidate.guard !== undefined && !candidate.guard(args)) continue
    for (const assignment of candidate.assignments) Object.assign(context, assignment(args))
    return candidate.target ?? status
  }
  return undefined
}
