/**
 * The opt-in retry policy of a task definition. Without a policy a failed
 * iteration (the task answered `error`, threw, or hit its hard timeout) fails
 * the task. With one, the same iteration runs again with the same input, after
 * an exponential backoff, until `maxAttempts` attempts have been made.
 * What the host does with a policy (checking it, the delay before an
 * attempt) is in `host/RetryPolicy.ts`.
 */

/** Exponential backoff between attempts: `initialSeconds * factor^(attempt - 1)`, capped at `maxSeconds`. */
export interface Backoff {
  readonly initialSeconds: number
  /** Growth factor per failed attempt; default 2. Must be >= 1. */
  readonly factor?: number | undefined
  /** Upper bound for one delay; default unbounded. */
  readonly maxSeconds?: number | undefined
}

/** How often one iteration may be attempted, and how long to wait in between. */
export interface RetryPolicy {
  /** Attempts per iteration including the first; 1 means "never retry". A positive integer. */
  readonly maxAttempts: number
  /** Delay before the next attempt; without it a retry is scheduled at once. */
  readonly backoff?: Backoff | undefined
}
