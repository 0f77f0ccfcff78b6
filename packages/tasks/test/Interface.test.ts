/**
 * The DESIGN §3 example, compiled against `Interface` and run for real with
 * `makeController` and `toEffect`: the contract as a task author meets it.
 */
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Context, Effect, Schema } from "effect"
import { TaskDefinition } from "../src/host.ts"

class Catalog extends Context.Service<Catalog, {
  readonly page: (cursor: number, size: number) => Effect.Effect<ReadonlyArray<string>>
}>()("app/Catalog") {}

const Input = Schema.Struct({
  folder: Schema.String.annotate({ title: "Folder", description: "Where to look" }),
  batchSize: Schema.optional(Schema.Number),
  cursor: Schema.optional(Schema.Number),
})

const hooksRun: Array<string> = []

class Reindex implements TaskDefinition.Interface<typeof Input.Type, { indexed: number }> {
  readonly id = "reindex"
  readonly title = "Reindex the catalog"
  readonly description = "Walks the catalog in pages"
  readonly maxIterations = 100
  readonly databaseLogs = true
  readonly isPrivate = false
  constructor(private readonly catalog: Context.Service.Shape<typeof Catalog>) {}

  createInputValidation() {
    return Input
  }

  async run({ input, controller }: TaskDefinition.RunParams<typeof Input.Type>) {
    let cursor = input.cursor ?? 0
    for (;;) {
      if (controller.runtime.isAborted()) return controller.response.aborted()
      if (controller.runtime.isCloseToTimeout()) return controller.response.continue({ ...input, cursor })
      const page = await Effect.runPromise(this.catalog.page(cursor, input.batchSize ?? 100))
      if (page.length === 0) return controller.response.done({ indexed: cursor })
      cursor += page.length
      controller.logger.info(`indexed ${cursor}`)
    }
  }
  // DESIGN writes `async onDone({ task }) {}`: `implements` does not type parameters, so annotate.
  async onDone({ task }: TaskDefinition.LifecycleHookParams) {
    hooksRun.push(`${task.definitionId} ${task.id} ${task.status}`)
  }
}

/** An Effect-native task: `run` and a hook return Effects. */
class Countdown implements TaskDefinition.Interface<{ readonly left: number }, { readonly finished: true }> {
  readonly id = "countdown"
  readonly title = "Counts down one per iteration"
  run({ input, controller }: TaskDefinition.RunParams<{ readonly left: number }, { readonly finished: true }>) {
    return Effect.succeed(
      input.left === 0 ? controller.response.done({ finished: true }) : controller.response.continue({ left: input.left - 1 }),
    )
  }
  onError() {
    return Effect.log("failed")
  }
}

const pages = (total: number, size: number): Context.Service.Shape<typeof Catalog> => ({
  page: (cursor, requested) =>
    Effect.succeed(Array.from({ length: Math.max(0, Math.min(size, requested, total - cursor)) }, (_, i) => `item${cursor + i}`)),
})

const controllerFor = <I, O>(input: I, clock: () => number, deadline: number) =>
  TaskDefinition.makeController<I, O>({
    input,
    now: clock,
    deadline,
    closeToTimeout: TaskDefinition.defaults.closeToTimeout,
    signal: new AbortController().signal,
    trigger: () => Promise.reject(new Error("unused")),
    listChildren: () => Promise.resolve([]),
  })

describe("the DESIGN example", () => {
  const implementation = TaskDefinition.createImplementation({ implementation: Reindex, dependencies: [Catalog] })

  it("types the example as written (apart from the hook parameter annotation)", () => {
    expectTypeOf(implementation).toEqualTypeOf<TaskDefinition.Implementation<Reindex, Catalog>>()
    expectTypeOf<ReturnType<Reindex["run"]>>().toExtend<Promise<TaskDefinition.Result<{ indexed: number }>>>()
  })

  it.effect("runs to done when time is plentiful, then its onDone hook runs", () =>
    Effect.gen(function*() {
      const task = yield* implementation.instantiate(Context.make(Catalog, pages(250, 100)))
      const controller = controllerFor({ folder: "/a" }, () => 0, 900_000)
      const result = yield* TaskDefinition.toEffect(() => task.run({ input: { folder: "/a" }, controller }))
      expect(result).toEqual({ _tag: "Done", output: { indexed: 250 } })
      const state = { status: "done", context: { taskId: "t1", definitionId: task.id, input: {}, iteration: 1, createdAt: 0, updatedAt: 0 } }
      const definition = yield* TaskDefinition.resolveDefinition(task)
      yield* TaskDefinition.toEffect(() => task.onDone(TaskDefinition.lifecycleHookParams(state, definition)))
      expect(hooksRun).toEqual(["reindex t1 done"])
    }))

  it.effect("continues from its cursor when the iteration is close to its timeout", () =>
    Effect.gen(function*() {
      const task = yield* implementation.instantiate(Context.make(Catalog, pages(1000, 100)))
      let now = 0
      // every clock read advances 100 s; the deadline is 900 s away, the threshold 180 s
      const controller = controllerFor({ folder: "/a", batchSize: 100 }, () => (now += 100_000), 900_000)
      const result = yield* TaskDefinition.toEffect(() => task.run({ input: { folder: "/a", batchSize: 100 }, controller }))
      expect(result).toEqual({ _tag: "Continue", input: { folder: "/a", batchSize: 100, cursor: 700 } })
    }))
})

describe("an Effect-returning task", () => {
  it.effect("answers through the same controller", () =>
    Effect.gen(function*() {
      const task = new Countdown()
      const run = (left: number) =>
        TaskDefinition.toEffect(() => task.run({ input: { left }, controller: controllerFor({ left }, () => 0, 1000) }))
      expect(yield* run(2)).toEqual({ _tag: "Continue", input: { left: 1 } })
      expect(yield* run(0)).toEqual({ _tag: "Done", output: { finished: true } })
    }))
})

/** A task that only throws: its output type is `never`, and its run() is declared to return a bare `Result`. */
class AlwaysFails implements TaskDefinition.Interface<{}, never> {
  readonly id = "alwaysFails"
  readonly title = "Always fails"
  run(): TaskDefinition.Result {
    throw new Error("this task only fails")
  }
}

/** The same with an Effect: a bare `Result` inside an Effect or a Promise is accepted too. */
class AlwaysFailsLater implements TaskDefinition.Interface<{}, never> {
  readonly id = "alwaysFailsLater"
  readonly title = "Always fails later"
  async run(): Promise<TaskDefinition.Result> {
    throw new Error("this task only fails")
  }
}

describe("a bare TaskDefinition.Result", () => {
  it("is accepted as run()'s return type wherever a result is expected (here Interface<{}, never>)", () => {
    expectTypeOf<TaskDefinition.Result>().toExtend<TaskDefinition.Result<never>>()
    expectTypeOf<TaskDefinition.Result>().toExtend<TaskDefinition.Result<{ indexed: number }>>()
    expectTypeOf<TaskDefinition.Result<{ indexed: number }>>().toExtend<TaskDefinition.Result>()
    expect(() => new AlwaysFails().run()).toThrow("this task only fails")
    expect(new AlwaysFailsLater().id).toBe("alwaysFailsLater")
  })
})
