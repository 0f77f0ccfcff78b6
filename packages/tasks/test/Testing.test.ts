/**
 * The test kit runs a definition through its whole life in-process with the
 * daemon's own decisions: continues on a virtual clock, retries with their
 * backoff, maxIterations, isCloseToTimeout / isAborted at chosen
 * iterations, child triggers, services from a layer, and the due hook with
 * Webiny's parameters.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Schema } from "effect"
import { TaskDefinition } from "../src/index.ts"
import * as Testing from "../src/Testing.ts"

const Input = Schema.Struct({ n: Schema.Int, target: Schema.Int, waitSeconds: Schema.optional(Schema.Number) })

class Counter implements TaskDefinition.Interface<typeof Input.Type, { counted: number }> {
  readonly id = "counter"
  readonly title = "Counts to a target"
  readonly maxIterations = 10
  readonly hooks: Array<unknown> = []
  createInputValidation() {
    return Input
  }
  run({ input, controller }: TaskDefinition.RunParams<typeof Input.Type, { counted: number }>) {
    controller.logger.info(`at ${input.n}`)
    controller.state.setProgress({ completed: input.n, total: input.target })
    if (input.n >= input.target) return controller.response.done({ counted: input.n })
    const next = { ...input, n: input.n + 1 }
    return input.waitSeconds === undefined ? controller.response.continue(next) : controller.response.continue(next, { seconds: input.waitSeconds })
  }
  onDone(params: TaskDefinition.LifecycleHookParams) {
    this.hooks.push(params)
  }
}

describe("Testing.run", () => {
  it.effect("continues through every iteration on a virtual clock, then runs onDone with Webiny's parameters", () =>
    Effect.gen(function*() {
      const task = new Counter()
      const report = yield* Testing.run(task, { input: { n: 1, target: 3, waitSeconds: 3600 }, startAt: 0 })
      expect(report.status).toBe("done")
      expect(report.output).toEqual({ counted: 3 })
      expect(report.iterations.map((i) => [i.iteration, i.input, i.startedAt])).toEqual([
        [1, { n: 1, target: 3, waitSeconds: 3600 }, 0],
        [2, { n: 2, target: 3, waitSeconds: 3600 }, 3_600_000],
        [3, { n: 3, target: 3, waitSeconds: 3600 }, 7_200_000],
      ])
      expect(report.iterations[1]!.logs.map((l) => l.message)).toEqual(["at 2"])
      expect(report.hooks).toMatchObject([{ hook: "onDone", params: { task: { taskStatus: "success", iterations: 3 } } }])
      expect(task.hooks).toHaveLength(1)
      expect(report.events.map((e) => e._tag).filter((t) => t !== "TaskLogged" && t !== "ProgressUpdated")).toEqual([
        "TaskTriggered", "IterationStarted", "IterationContinued", "IterationStarted", "IterationContinued", "IterationStarted", "TaskDone",
        "HookCompleted",
      ])
    }))

  it.effect("refuses invalid input as a trigger would, with field paths", () =>
    Effect.gen(function*() {
      const error = yield* Testing.run(new Counter(), { input: { n: "one", target: 3 } }).pipe(Effect.flip)
      expect(error).toMatchObject({ _tag: "InvalidInput", issues: [{ path: ["n"] }] })
    }))

  it.effect("ends at maxIterations", () =>
    Effect.gen(function*() {
      const report = yield* Testing.run(new Counter(), { input: { n: 0, target: 100 } })
      expect(report.status).toBe("maxIterations")
      expect(report.iterations).toHaveLength(10)
    }))

  it.effect("isCloseToTimeout() and isAborted() turn true in the chosen iterations", () =>
    Effect.gen(function*() {
      class Checkpoints implements TaskDefinition.Interface<{ cursor: number }> {
        readonly id = "checkpoints"
        readonly title = "Works until close to the timeout or aborted"
        async run({ input, controller }: TaskDefinition.RunParams<{ cursor: number }>) {
          let cursor = input.cursor
          for (let step = 0; step < 5; step++) {
            if (controller.runtime.isAborted()) return controller.response.aborted()
            if (controller.runtime.isCloseToTimeout()) return controller.response.continue({ cursor })
            cursor++
          }
          return controller.response.done({ cursor })
        }
        onAbort() {}
      }
      const closing = yield* Testing.run(new Checkpoints(), { input: { cursor: 0 }, closeToTimeoutAt: [1, 2] })
      expect(closing.iterations.map((i) => i.command._tag === "Complete" && i.command.result._tag)).toEqual(["Continue", "Continue", "Done"])
      expect(closing.output).toEqual({ cursor: 5 })
      const aborted = yield* Testing.run(new Checkpoints(), { input: { cursor: 0 }, closeToTimeoutAt: [1], abortAt: 2 })
      expect(aborted.status).toBe("aborted")
      expect(aborted.iterations).toHaveLength(2)
      expect(aborted.hooks.map((h) => h.hook)).toEqual(["onAbort"])
    }))

  it.effect("retries with the definition's backoff on the virtual clock", () =>
    Effect.gen(function*() {
      let runs = 0
      class Flaky implements TaskDefinition.Interface {
        readonly id = "flaky"
        readonly title = "Fails once"
        readonly retry = { maxAttempts: 3, backoff: { initialSeconds: 60 } }
        run({ controller }: TaskDefinition.RunParams) {
          return ++runs === 1 ? controller.response.error({ message: "flaky", code: "E_FLAKY" }) : controller.response.done()
        }
      }
      const report = yield* Testing.run(new Flaky(), { input: {}, startAt: 0 })
      expect(report.status).toBe("done")
      expect(report.iterations.map((i) => [i.iteration, i.attempt, i.startedAt])).toEqual([[1, 1, 0], [1, 2, 60_000]])
    }))

  it.effect("builds the implementation's services from a layer and records child triggers", () =>
    Effect.gen(function*() {
      class Greeter extends Context.Service<Greeter, { readonly greet: (name: string) => string }>()("test/Greeter") {}
      class Fanout implements TaskDefinition.Interface<{ names: ReadonlyArray<string> }> {
        readonly id = "fanout"
        readonly title = "Greets, one child each"
        constructor(private readonly greeter: Context.Service.Shape<typeof Greeter>) {}
        async run({ input, controller }: TaskDefinition.RunParams<{ names: ReadonlyArray<string> }>) {
          for (const name of input.names) await controller.task.trigger({ definition: "greet", input: { text: this.greeter.greet(name) } })
          return controller.response.done()
        }
      }
      const implementation = TaskDefinition.createImplementation({ implementation: Fanout, dependencies: [Greeter] })
      const layer = Layer.succeed(Greeter, { greet: (name: string) => `hello ${name}` })
      const report = yield* Testing.run(implementation, { input: { names: ["Ada", "Grace"] }, layer })
      expect(report.iterations[0]!.children).toEqual([
        { definition: "greet", input: { text: "hello Ada" }, id: "child-1" },
        { definition: "greet", input: { text: "hello Grace" }, id: "child-2" },
      ])
    }))
})
