/**
 * Task code may answer with a plain value, a Promise or an Effect (`run` and
 * every hook). This module names that shape; the host turns it into one
 * Effect it can time out and interrupt (`host/ToEffect.ts`).
 */
import type { Effect } from "effect"

/** A value, a Promise of it, or an Effect producing it (with no requirements). */
export type MaybeEffect<A> = A | PromiseLike<A> | Effect.Effect<A, unknown, never>
