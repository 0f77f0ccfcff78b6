/**
 * Why a running iteration must end without its answer — its timer, a forced
 * abort, a fault of its code — as a plain latch: the first `fire` wins and
 * calls each listener once. Plain code, no fiber: the daemon makes one per
 * iteration, and a run waits for "answer or stop" with one callback.
 */
import { Effect } from "effect"
import type { Outcome } from "./Outcome.ts"

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

/**
 * Calls `fire` after `millis`; answers a function that cancels it. The
 * iteration timer is plain code (one per iteration, no fiber), so whoever
 * needs it on another clock than real time (a test on `TestClock`) passes
 * its own once, where the host is set up.
 */
export type SetTimer = (millis: number, fire: () => void) => () => void

/** {@link SetTimer} on real time: `setTimeout`. */
export const setTimer: SetTimer = (millis, fire) => {
  const handle = setTimeout(fire, millis)
  return () => clearTimeout(handle)
}

/** A stop fired with TimedOut after `millis` (of real time by default), and `cancel` to clear its timer once the run is over. */
export const timer = (millis: number, set: SetTimer = setTimer): { readonly stop: Stop; readonly cancel: () => void } => {
  const stop = new Stop()
  const cancel = set(millis, () => stop.fire({ _tag: "TimedOut" }))
  return { stop, cancel }
}
