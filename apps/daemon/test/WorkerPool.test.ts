/**
 * The worker pool with real worker threads (started from source through tsx,
 * loading the integration tests' task config): a burst of short jobs does
 * not start a thread per job, jobs that keep the queue waiting (each holds
 * its worker a while) make the pool grow, a job held up by a long one gets another
 * worker, an interrupted job's worker is killed and replaced, and a worker
 * that cannot load the tasks fails the jobs waiting for it.
 */
import { join } from "node:path"
import { Effect, Fiber } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { Replay } from "@tasklane/core"
import * as WorkerPool from "../src/WorkerPool.ts"

const config = join(import.meta.dirname, "..", "..", "..", "test", "fixtures", "daemon", "tasklane.config.ts")

const running = (definitionId: string, input: unknown): Replay.TaskState => ({
  status: "running",
  context: {
    taskId: `0190a000-0000-7000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, "0")}` as never,
    definitionId: definitionId as never,
    input,
    maxIterations: 50,
    iteration: 1,
    attempt: 1,
    nextIteration: 1,
    nextAttempt: 1,
    abortRequested: false,
    logCount: 0,
    createdAt: 0,
    updatedAt: 0,
    version: 2,
    position: 2,
  },
})

const iteration = (pool: WorkerPool.WorkerPool, definitionId: string, input: unknown) =>
  pool.run({ _tag: "Iteration", definitionId, state: running(definitionId, input) }, 256, {})

let pool: WorkerPool.WorkerPool | undefined
afterEach(() => pool?.close())

describe("WorkerPool", () => {
  it("answers a burst of short jobs with few workers, and reuses them", async () => {
    pool = WorkerPool.make({ data: { configPath: config, taskDirs: [], examples: false }, maxWorkers: 10, idleMs: 60_000 })
    const results = await Effect.runPromise(Effect.all(Array.from({ length: 40 }, (_, i) => iteration(pool!, "quick", { i })), { concurrency: "unbounded" }))
    expect(results.map((r) => r._tag)).toEqual(Array(40).fill("Answer"))
    expect(results[7]).toEqual({ _tag: "Answer", value: { _tag: "Complete", result: { _tag: "Done", output: { echoed: { i: 7 } } } } })
    expect(pool.size()).toBeLessThanOrEqual(2)
  }, 30_000)

  it("grows for jobs that hold their worker a while each (I/O), though no single job runs long", async () => {
    pool = WorkerPool.make({ data: { configPath: config, taskDirs: [], examples: false }, maxWorkers: 10, idleMs: 60_000 })
    // 24 jobs of 150 ms each: one worker would serve them one after another (3.6 s); none runs 200 ms, the queue waits.
    const results = await Effect.runPromise(Effect.all(Array.from({ length: 24 }, () => iteration(pool!, "slow", { ms: 150 })), { concurrency: "unbounded" }))
    expect(results.map((r) => r._tag)).toEqual(Array(24).fill("Answer"))
    expect(pool.size()).toBeGreaterThanOrEqual(2)
  }, 30_000)

  it("starts another worker for a job held up by a long one; an interrupted job's worker is killed", async () => {
    pool = WorkerPool.make({ data: { configPath: config, taskDirs: [], examples: false }, maxWorkers: 10, idleMs: 60_000 })
    const hanging = Effect.runFork(iteration(pool, "hanger", {}))
    await Effect.runPromise(Effect.sleep("1500 millis"))
    expect(pool.size()).toBe(1)
    const quick = await Effect.runPromise(iteration(pool, "quick", { after: "hanger" }))
    expect(quick._tag).toBe("Answer")
    expect(pool.size()).toBe(2)
    await Effect.runPromise(Fiber.interrupt(hanging))
    expect(pool.size()).toBe(1)
  }, 30_000)

  it("a waiting job whose task is asked to abort ends Cancelled at once, without a worker", async () => {
    pool = WorkerPool.make({ data: { configPath: config, taskDirs: [], examples: false }, maxWorkers: 1, idleMs: 60_000 })
    const hanging = Effect.runFork(iteration(pool, "hanger", {}))
    const abort = new AbortController()
    const waiting = Effect.runPromise(pool.run({ _tag: "Iteration", definitionId: "quick", state: running("quick", {}) }, 256, { signal: abort.signal }))
    await Effect.runPromise(Effect.sleep("300 millis"))
    abort.abort()
    expect(await waiting).toEqual({ _tag: "Cancelled" })
    expect(pool.size()).toBe(1)
    await Effect.runPromise(Fiber.interrupt(hanging))
  }, 30_000)

  it("a worker that cannot load the tasks fails the waiting jobs with the reason", async () => {
    pool = WorkerPool.make({ data: { configPath: join(import.meta.dirname, "no-such.config.ts"), taskDirs: [], examples: false }, maxWorkers: 2, idleMs: 60_000 })
    const result = await Effect.runPromise(iteration(pool, "quick", {}))
    expect(result).toMatchObject({ _tag: "Died", error: { code: "WORKER_LOAD_FAILED" } })
    expect(result._tag === "Died" && result.error.message).toContain("no-such.config.ts")
    expect(pool.size()).toBe(0)
  }, 30_000)
})
