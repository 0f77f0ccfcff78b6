/**
 * A definition's retry policy as the host applies it: the checks run when a
 * definition is loaded, and the delay before the next attempt of a failed
 * iteration. Pure.
 */
import type { RetryPolicy } from "../Retry.ts"

/**
 * Seconds to wait before the next attempt after attempt `failedAttempt`
 * (1-based) failed, or `undefined` when no attempt is left (or no policy).
 */
export const retryDelaySeconds = (policy: RetryPolicy | undefined, failedAttempt: number): number | undefined => {
  if (policy === undefined || failedAttempt >= policy.maxAttempts) return undefined
  const backoff = policy.backoff
  if (backoff === undefined) return 0
  const delay = backoff.initialSeconds * Math.pow(backoff.factor ?? 2, Math.max(0, failedAttempt - 1))
  return Math.min(delay, backoff.maxSeconds ?? Number.POSITIVE_INFINITY)
}

const isNonNegative = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0

/** What is wrong with a retry policy, one sentence per problem (empty when valid). */
export const retryPolicyProblems = (policy: RetryPolicy): ReadonlyArray<string> => {
  const problems: Array<string> = []
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    problems.push(`retry.maxAttempts must be a positive integer, got ${String(policy.maxAttempts)}`)
  }
  const backoff = policy.backoff
  if (backoff !== undefined) {
    if (!isNonNegative(backoff.initialSeconds)) {
      problems.push(`retry.backoff.initialSeconds must be a number >= 0, got ${String(backoff.initialSeconds)}`)
    }
    if (backoff.factor !== undefined && !(isNonNegative(backoff.factor) && backoff.factor >= 1)) {
      problems.push(`retry.backoff.factor must be a number >= 1, got ${String(backoff.factor)}`)
    }
    if (backoff.maxSeconds !== undefined && !isNonNegative(backoff.maxSeconds)) {
      problems.push(`retry.backoff.maxSeconds must be a number >= 0, got ${String(backoff.maxSeconds)}`)
    }
  }
  return problems
}
