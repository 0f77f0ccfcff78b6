/**
 * Why a running iteration must end without its answer — its timer, a forced
 * abort, a fault of its code — as a plain latch: the first `fire` wins and
 * calls each listener once. Plain code, no fiber: the daemon makes one per
 * iteration, and a run waits for "answer or stop" with one callback.
 */
import { Effect } from "effect"
import type { Outcome } from "./Iteration.ts"

/** The stop signal of one iteration run. */
export class Stop {
  #outcome: Outcome | undefined
  /** Made on the first `listen`: most runs answer without anyone listening twice. */
  #listeners: Set<(outcome: Outcome) => void> | undefined

  /** Why it stopped, once it has. */
  get outcome(): Outcome | undefined {
    return this.#outcome
  }

  /** Stops the run with `outcome`; later calls are ignored. */
  fire(outcome: Outcome): void {
    if (this.#outcome !== undefined) return
    this.#outcome = outcome
    const listeners = this.#listeners
    this.#listeners = undefined
    for (const listener of listeners ?? []) listener(outcome)
  }

  /** Calls `listener` when the run stops (at once if it has); returns a function that stops listening. */
  listen(listener: (outcome: Outcome) => void): () => void {
    if (this.#outcome !== undefined) {
      listener(this.#outcome)
      return () => {}
    }
    const listeners = (this.#listeners ??= new Set())
    listeners.add(listener)
    return () => void listeners.delete(listener)
  }

  /** Waits for the stop. */
  get await(): Effect.Effect<Outcome> {
    return Effect.callback<Outcome>((resume) => {
      const off = this.listen((outcome) => resume(Effect.succeed(outcome)))
      return Effect.sync(off)
    })
  }
}

/** A stop fired with TimedOut after `millis` of real time, and `cancel` to clear its timer once the run is over. */
export const timer = (millis: number): { readonly stop: Stop; readonly cancel: () => void } => {
  const stop = new Stop()
  const handle = setTimeout(() => stop.fire({ _tag: "TimedOut" }), millis)
  return { stop, cancel: () => clearTimeout(handle) }
}
