/**
 * Retry delays: exponential backoff, capped, and nothing once attempts run out.
 */
import { describe, expect, it } from "@effect/vitest"
import { TaskDefinition } from "../src/host.ts"

describe("retryDelaySeconds", () => {
  it("never retries without a policy", () => {
    expect(TaskDefinition.retryDelaySeconds(undefined, 1)).toBeUndefined()
  })

  it("grows by the factor (default 2), capped at maxSeconds, until maxAttempts", () => {
    const policy = { maxAttempts: 5, backoff: { initialSeconds: 10, maxSeconds: 30 } }
    const delays = [1, 2, 3, 4, 5].map((attempt) => TaskDefinition.retryDelaySeconds(policy, attempt))
    expect(delays).toEqual([10, 20, 30, 30, undefined])
    const tripling = { maxAttempts: 3, backoff: { initialSeconds: 1, factor: 3 } }
    expect([1, 2, 3].map((attempt) => TaskDefinition.retryDelaySeconds(tripling, attempt))).toEqual([1, 3, undefined])
  })

  it("retries at once without a backoff", () => {
    expect(TaskDefinition.retryDelaySeconds({ maxAttempts: 2 }, 1)).toBe(0)
    expect(TaskDefinition.retryDelaySeconds({ maxAttempts: 2 }, 2)).toBeUndefined()
  })
})

describe("retryPolicyProblems", () => {
  it("explains each invalid field", () => {
    expect(TaskDefinition.retryPolicyProblems({ maxAttempts: 3, backoff: { initialSeconds: 1, factor: 2 } })).toEqual([])
    expect(
      TaskDefinition.retryPolicyProblems({ maxAttempts: 1.5, backoff: { initialSeconds: -1, factor: 0.5, maxSeconds: -2 } }),
    ).toEqual([
      "retry.maxAttempts must be a positive integer, got 1.5",
      "retry.backoff.initialSeconds must be a number >= 0, got -1",
      "retry.backoff.factor must be a number >= 1, got 0.5",
      "retry.backoff.maxSeconds must be a number >= 0, got -2",
    ])
  })
})
