/**
 * Turns what task code answered (a {@link MaybeEffect}: a value, a Promise or
 * an Effect) into one Effect the host can time out, interrupt and inspect.
 */
import { Effect } from "effect"
import type { MaybeEffect } from "../MaybeEffect.ts"

/** A promise or any thenable (what task code may answer with). */
export const isPromiseLike = (u: unknown): u is PromiseLike<unknown> =>
  (typeof u === "object" || typeof u === "function") && u !== null && typeof (u as { then?: unknown }).then === "function"

/**
 * Evaluate `evaluate` lazily and normalise its answer to an Effect. A
 * synchronous throw and a rejected Promise both become a failure carrying the
 * thrown value; an Effect is run as is (its failures and defects are kept), so
 * interrupting the result interrupts an Effect `run`. A Promise cannot be
 * stopped: interruption only stops waiting for it.
 */
export const toEffect = <A>(evaluate: () => MaybeEffect<A>): Effect.Effect<A, unknown> =>
  Effect.suspend(() => {
    let value: MaybeEffect<A>
    try {
      value = evaluate()
    } catch (thrown) {
      return Effect.fail(thrown)
    }
    if (Effect.isEffect(value)) return value as Effect.Effect<A, unknown>
    if (isPromiseLike(value)) {
      const promise = value
      return Effect.tryPromise({ try: () => Promise.resolve(promise), catch: (rejected) => rejected })
    }
    return Effect.succeed(value)
  })
