/**
 * The package's entry points: `@tasklane/tasks` carries only what task
 * authors use, `@tasklane/tasks/host` adds what hosts of task code use, and
 * the shapes the wire speaks (`InvalidInput`, `ErrorInfo`, `Progress`) are
 * core's own, not copies.
 */
import { TaskShapes } from "@tasklane/core"
import * as Authoring from "@tasklane/tasks"
import * as Host from "@tasklane/tasks/host"
import { describe, expect, expectTypeOf, it } from "vitest"

describe("@tasklane/tasks", () => {
  it("exports the authoring API and nothing a host uses", () => {
    expect(Object.keys(Authoring).sort()).toEqual(["Config", "TaskDefinition", "TaskHandler", "defineConfig"])
    expect(Object.keys(Authoring.TaskDefinition).sort()).toEqual([
      "InvalidDefinition",
      "InvalidInput",
      "Result",
      "createImplementation",
      "defaults",
      "toErrorInfo",
      "webinyTaskStatus",
    ])
  })

  it("refuses input with core's InvalidInput and records core's ErrorInfo and Progress", () => {
    expect(Authoring.TaskDefinition.InvalidInput).toBe(TaskShapes.InvalidInput)
    expectTypeOf<Authoring.TaskDefinition.ErrorInfo>().toEqualTypeOf<TaskShapes.ErrorInfo>()
    expectTypeOf<Authoring.TaskDefinition.Progress>().toEqualTypeOf<TaskShapes.Progress>()
    expectTypeOf<Authoring.TaskDefinition.InputIssue>().toEqualTypeOf<TaskShapes.InputIssue>()
  })
})

describe("@tasklane/tasks/host", () => {
  it("has every authoring name, the same values, plus the host's half", () => {
    for (const [name, value] of Object.entries(Authoring.TaskDefinition)) {
      expect(Host.TaskDefinition[name as keyof typeof Host.TaskDefinition], name).toBe(value)
    }
    const hostOnly = Object.keys(Host.TaskDefinition).filter((name) => !(name in Authoring.TaskDefinition))
    expect(hostOnly).toEqual(expect.arrayContaining([
      "loadDefinitions",
      "validateDefinitions",
      "decodeInput",
      "encodeInput",
      "inputJsonSchema",
      "makeController",
      "toEffect",
      "retryDelaySeconds",
      "describeUnstorableContinue",
      "snapshotOf",
      "isImplementation",
    ]))
    expect(Object.keys(Host).sort()).toEqual(["Iteration", "TaskDefinition", "WakeAt"])
  })
})
