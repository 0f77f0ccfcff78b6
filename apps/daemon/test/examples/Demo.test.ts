/**
 * `demo`: one step per iteration with progress and logs, a delay between
 * steps (continue with `{ seconds }`), abort, the configurable failure, input
 * checks by field path, and hooks that print to stderr.
 */
import { Effect } from "effect"
import { TaskDefinition } from "@tasklane/tasks/host"
import { afterEach, describe, expect, it, vi } from "vitest"
import demo from "../../src/examples/Demo.ts"
import { last, load, makeClock, runIteration, runToEnd } from "./TaskHarness.ts"

afterEach(() => vi.restoreAllMocks())

describe("demo", () => {
  it("counts down one step per iteration, waiting delaySeconds in between", async () => {
    const definition = await load(demo)
    const clock = makeClock()
    const start = clock.now
    const iterations = await runToEnd(definition, { steps: 3, delaySeconds: 2 }, { clock })
    expect(iterations.map(({ result }) => result)).toEqual([
      { _tag: "Continue", input: { steps: 3, delaySeconds: 2, done: 1 }, wakeAt: start + 2000 },
      { _tag: "Continue", input: { steps: 3, delaySeconds: 2, done: 2 }, wakeAt: start + 4000 },
      { _tag: "Done", message: "Lift-off", output: { steps: 3 } },
    ])
    expect(iterations.map(({ startedAt }) => startedAt - start)).toEqual([0, 2000, 4000])
    expect(iterations.flatMap(({ progress }) => progress)).toEqual([
      { completed: 1, total: 3, message: "2 to go" },
      { completed: 2, total: 3, message: "1 to go" },
      { completed: 3, total: 3, message: "Lift-off" },
    ])
    expect(iterations[0]!.logs).toEqual([{ level: "info", message: "Step 1 of 3", data: { remainingSeconds: 900 } }])
  })

  it("uses 5 steps, 1 second apart, by default", async () => {
    const definition = await load(demo)
    const iterations = await runToEnd(definition, {})
    expect(iterations).toHaveLength(5)
    expect(iterations[1]!.startedAt - iterations[0]!.startedAt).toBe(1000)
  })

  it("fails at step failAt with a structured error", async () => {
    const definition = await load(demo)
    const iterations = await runToEnd(definition, { steps: 4, delaySeconds: 0, failAt: 2 })
    expect(iterations).toHaveLength(2)
    expect(last(iterations)).toEqual({
      _tag: "Error",
      error: { message: "Step 2 of 4 failed (failAt)", code: "DemoFailure", data: { step: 2 } },
    })
    expect(iterations[1]!.logs).toEqual([{ level: "error", message: "Step 2 fails, as failAt asks" }])
  })

  it("answers aborted when asked to stop", async () => {
    const definition = await load(demo)
    const abort = new AbortController()
    const iterations = await runToEnd(definition, { steps: 5, delaySeconds: 0 }, {
      signal: abort.signal,
      beforeIteration: (index) => (index === 2 ? abort.abort() : undefined),
    })
    expect(iterations.map(({ result }) => result._tag)).toEqual(["Continue", "Continue", "Aborted"])
    expect(iterations[2]!.logs).toEqual([{ level: "warn", message: "Aborted with 3 steps to go" }])
  })

  it("checkpoints without doing a step when the iteration is close to its timeout", async () => {
    const definition = await load(demo)
    const clock = makeClock()
    clock.step = 800_000 // every clock read costs 800 s: the first check leaves 100 s of 900
    const { result } = await runIteration(definition, { steps: 2, delaySeconds: 0, done: 1 }, { clock })
    expect(result).toEqual({ _tag: "Continue", input: { steps: 2, delaySeconds: 0, done: 1 } })
  })

  it("rejects invalid input, naming each field", async () => {
    const definition = await load(demo)
    const decode = (input: unknown) => Effect.runPromise(Effect.flip(TaskDefinition.decodeInput(definition.task, input)))
    expect((await decode({ steps: 0, delaySeconds: 61 })).issues).toEqual([
      { path: ["steps"], message: "Expected a value between 1 and 100" },
      { path: ["delaySeconds"], message: "Expected a value between 0 and 60" },
    ])
    expect((await decode({ steps: 3, failAt: 4 })).message).toBe(
      'Invalid input for task definition "demo": failAt: must be at most steps (3)',
    )
  })

  it("prints the outcome from its hooks", async () => {
    const definition = await load(demo)
    const printed = vi.spyOn(console, "error").mockImplementation(() => {})
    const context = { taskId: "t1", definitionId: "demo", input: { steps: 5, delaySeconds: 1, done: 2 }, iteration: 3, createdAt: 0, updatedAt: 0 }
    const ended = (status: string, more: object = {}) => TaskDefinition.lifecycleHookParams({ status, context: { ...context, ...more } }, definition)
    await definition.task.onDone?.(ended("done", { output: { steps: 5 } }))
    await definition.task.onError?.(ended("error", { error: { message: "boom" } }))
    await definition.task.onAbort?.(ended("aborted"))
    expect(printed.mock.calls).toEqual([
      ["[demo] task t1 counted down 5 steps"],
      ["[demo] task t1 failed: boom"],
      ["[demo] task t1 was aborted after 2 of 5 steps"],
    ])
  })
})
