/**
 * Wake times as the store can keep them (pure). Shared by triggers (a delay)
 * and iterations (`continue` with a wait).
 */

/** The latest wake time stored: the last instant a `Date` can represent (epoch ms). */
export const maxWakeAt = 8.64e15

/**
 * A wake time fit to store. The store keeps events as JSON, where a
 * non-finite number becomes `null`, which the stored task summary then fails
 * to decode, so the daemon could not start again. A huge delay (a Trigger's
 * `delaySeconds: 1e300` is valid by the RPC schema, and so is a task's
 * `continue(next, { seconds: Infinity })`) means "not before then" and is kept
 * as {@link maxWakeAt}; `NaN` or `-Infinity` means no wait.
 */
export const storableWakeAt = (wakeAt: number): number | undefined =>
  Number.isFinite(wakeAt) ? Math.min(wakeAt, maxWakeAt) : wakeAt > 0 ? maxWakeAt : undefined
