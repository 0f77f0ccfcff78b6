/**
 * The daemon's iteration slots: how many iterations run (globally and per
 * definition, against `concurrency` and each definition's own limit), and
 * how many tasks wait for one. Plain synchronous bookkeeping shared by the
 * scheduler, which fills slots from its queue, and the trigger path, which
 * takes a slot for a new task at once when one is free and nobody waits
 * (the task then starts in the same commit as its trigger: `admitted`).
 *
 * Lifecycle of a slot: `take` when an iteration is about to start (the
 * dispatcher, an admitted trigger), `release` when the runner is done with
 * it; a runner that continues a task without a wait keeps its slot.
 */
import { Context, Effect, Layer } from "effect"
import { Registry } from "./Registry.ts"

/** The slots service. */
export class Slots extends Context.Service<
  Slots,
  {
    /** Iterations holding a slot. */
    readonly active: () => number
    /** Whether a task of this definition could start now: a global and a per-definition slot are free. */
    readonly free: (definitionId: string) => boolean
    /** Takes a slot for an iteration of this definition. */
    readonly take: (definitionId: string) => void
    /** Gives a slot back. */
    readonly release: (definitionId: string) => void
    /** Tasks waiting for a slot now (ready, not delayed); set by the scheduler. */
    readonly waiting: () => number
    /** The scheduler tells how to count waiting tasks. */
    readonly countWaitingWith: (count: () => number) => void
    /** New tasks (by id, with their definition) that took a slot at their trigger: their first IterationStarted is in the trigger's commit. */
    readonly admitted: Map<string, string>
  }
>()("@tasklane/daemon/Slots") {}

/** Slots for `concurrency` iterations at once, with the registry's per-definition limits. */
export const layer = (options: { readonly concurrency: number }) =>
  Layer.effect(
    Slots,
    Effect.gen(function*() {
      const registry = yield* Registry
      let active = 0
      const byDefinition = new Map<string, number>()
      let waiting = () => 0
      return {
        active: () => active,
        free: (definitionId) => {
          if (active >= options.concurrency) return false
          const limit = registry.get(definitionId)?.definition.concurrency
          return limit === undefined || (byDefinition.get(definitionId) ?? 0) < limit
        },
        take: (definitionId) => {
          active++
          byDefinition.set(definitionId, (byDefinition.get(definitionId) ?? 0) + 1)
        },
        release: (definitionId) => {
          active--
          byDefinition.set(definitionId, (byDefinition.get(definitionId) ?? 1) - 1)
        },
        waiting: () => waiting(),
        countWaitingWith: (count) => void (waiting = count),
        admitted: new Map<string, string>(),
      }
    }),
  )
