/**
 * Webiny's task API on top of Tasklane's: `controller.response` in the forms
 * Webiny code uses (`error(message, details)` keeping code and data,
 * `done(undefined, output)`, `continue(input, { wait })`, `aborted(message)`),
 * `logger.error(message, error, data)`, and the v6 split of a definition into
 * metadata and a handler (`TaskHandler.createImplementation`), checked at
 * compile time (the `@ts-expect-error` lines run through the typecheck) and
 * built with the handler's own services at load.
 */
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { Config, TaskHandler } from "../src/index.ts"
import { TaskDefinition } from "../src/host.ts"

const controllerFor = (logs: Array<TaskDefinition.LogEntry> = []) =>
  TaskDefinition.makeController<Record<string, unknown>, Record<string, unknown>>({
    input: {},
    now: () => 1_000,
    deadline: 901_000,
    closeToTimeout: 180,
    signal: new AbortController().signal,
    onLog: (entry) => logs.push(entry),
    trigger: () => Promise.reject(new Error("unused")),
    listChildren: () => Promise.resolve([]),
  })

describe("controller.response as Webiny code calls it", () => {
  const { response } = controllerFor()

  it("error(message, details) keeps the details' code and data, and their message after the task's", () => {
    expect(response.error("Task failed", { message: "Something went wrong", code: "TEST_ERROR" })).toEqual({
      _tag: "Error",
      error: { message: "Task failed: Something went wrong", code: "TEST_ERROR" },
    })
    expect(response.error("Import failed", { message: "Import failed", code: "E_IMPORT", data: { row: 3 } }).error).toEqual({
      message: "Import failed",
      code: "E_IMPORT",
      data: { row: 3 },
    })
    expect(response.error("Sync failed", { code: "E_SYNC", data: null }).error).toEqual({ message: "Sync failed", code: "E_SYNC" })
  })

  it("error(message, caught) keeps an Error's code and stack; error(caught) alone reads it too", () => {
    const caught: unknown = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })
    const { error } = response.error("Delivery failed", caught)
    expect(error).toMatchObject({ message: "Delivery failed: connect ECONNREFUSED", code: "ECONNREFUSED" })
    expect(error.stack).toContain("connect ECONNREFUSED")
    expect(response.error(caught).error).toMatchObject({ message: "connect ECONNREFUSED", code: "ECONNREFUSED" })
    expect(response.error({ message: "plain", code: "P" }).error).toEqual({ message: "plain", code: "P" })
  })

  it("done(undefined, output) keeps the output; continue(input, { wait }) waits that many seconds", () => {
    expect(response.done(undefined, { count: 2 })).toEqual({ _tag: "Done", output: { count: 2 } })
    expect(response.done("Done", { result: true })).toEqual({ _tag: "Done", message: "Done", output: { result: true } })
    expect(response.continue({ page: 2 }, { wait: 30 })).toEqual({ _tag: "Continue", input: { page: 2 }, wakeAt: 31_000 })
    expect(() => response.continue({}, { wait: -1 })).toThrow("continue: wait must be a finite number >= 0")
    expect(response.aborted("stopping")).toEqual({ _tag: "Aborted" })
  })

  it("logger.error(message, error, data) as Webiny has it, beside Tasklane's { error, data }", () => {
    const logs: Array<TaskDefinition.LogEntry> = []
    const { logger } = controllerFor(logs)
    logger.error("row skipped", { message: "bad date", code: "E_DATE" }, { row: 4 })
    logger.error("upload failed", { error: new Error("timeout"), data: { file: "a.csv" } })
    expect(logs).toMatchObject([
      { level: "error", message: "row skipped", error: { message: "bad date", code: "E_DATE" }, data: { row: 4 } },
      { level: "error", message: "upload failed", error: { message: "timeout" }, data: { file: "a.csv" } },
    ])
  })
})

class Folders extends Context.Service<Folders, { readonly create: (folder: string) => Effect.Effect<string> }>()("test/Folders") {}

class CreateFolderHandler implements TaskHandler.Interface<{ folder: string }> {
  constructor(private readonly folders: Context.Service.Shape<typeof Folders>) {}
  async run({ input, controller }: TaskHandler.RunParams<{ folder: string }>) {
    return controller.response.done(await Effect.runPromise(this.folders.create(input.folder)))
  }
  createInputValidation({ validator }: TaskDefinition.CreateInputValidationParams) {
    return { folder: validator.string() }
  }
}

class CreateFolder implements TaskDefinition.Interface<{ folder: string }> {
  readonly id = "createFolder"
  readonly title = "Create a folder"
  readonly maxIterations = 3
  handler = TaskHandler.createImplementation({ implementation: CreateFolderHandler, dependencies: [Folders] })
}

const createFolder = TaskDefinition.createImplementation({ implementation: CreateFolder, dependencies: [] })

describe("a definition split into metadata and a handler (Webiny v6)", () => {
  it("needs the handler's services in the config's layer (a type error names them)", () => {
    expectTypeOf<TaskDefinition.Implementation.Requirements<typeof createFolder>>().toEqualTypeOf<Folders>()
    // @ts-expect-error the layer does not provide Folders, which the handler needs
    Config.defineConfig({ tasks: [createFolder] })
  })

  it("refuses, at compile time, a definition with neither run nor handler", () => {
    class Empty implements TaskDefinition.Interface {
      readonly id = "empty"
      readonly title = "Empty"
    }
    // @ts-expect-error A task definition needs a run method, or a handler
    TaskDefinition.createImplementation({ implementation: Empty })
  })

  it.effect("loads as one definition: the class's metadata, the handler's run and input schema", () =>
    Effect.gen(function*() {
      const context = Context.make(Folders, { create: (folder) => Effect.succeed(`/srv/${folder}`) })
      const [definition] = yield* TaskDefinition.loadDefinitions([createFolder], context)
      expect(definition).toMatchObject({ id: "createFolder", title: "Create a folder", maxIterations: 3, className: "CreateFolder" })
      expect(yield* TaskDefinition.decodeInput(definition!.task, { folder: "a" })).toEqual({ folder: "a" })
      const run = definition!.task.run({ input: { folder: "a" }, controller: controllerFor() })
      expect(yield* TaskDefinition.toEffect(() => run)).toEqual({ _tag: "Done", message: "/srv/a" })
    }))

  it.effect("fails to load, naming the handler, when the layer lacks its service", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(TaskDefinition.loadDefinitions([createFolder], Context.empty() as Context.Context<Folders>))
      expect(error.message).toBe(
        'Task definition CreateFolder is invalid: its handler CreateFolderHandler: the config\'s layer does not provide its dependency "test/Folders"',
      )
    }))
})
