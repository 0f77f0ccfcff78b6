/**
 * makeController with an injected clock, AbortSignal and recording sinks.
 */
import { describe, expect, it } from "@effect/vitest"
import { TaskDefinition } from "../src/host.ts"

interface Input {
  readonly folder: string
  readonly cursor?: number
}
interface Output {
  readonly indexed: number
  readonly skipped: number
}

const setup = (options: { readonly output?: Partial<Output>; readonly closeToTimeout?: number } = {}) => {
  const clock = { now: 1_000_000 }
  const abort = new AbortController()
  const recorded = {
    logs: [] as Array<TaskDefinition.LogEntry>,
    progress: [] as Array<TaskDefinition.Progress>,
    inputs: [] as Array<Input>,
    outputs: [] as Array<Partial<Output>>,
    triggers: [] as Array<TaskDefinition.TriggerParams>,
    listed: [] as Array<string | undefined>,
  }
  const child = TaskDefinition.snapshotOf({
    status: "triggered",
    context: { taskId: "c1", definitionId: "child", input: {}, iteration: 0, createdAt: 0, updatedAt: 0 },
  })
  const controller = TaskDefinition.makeController<Input, Output>({
    input: { folder: "/data" },
    output: options.output,
    now: () => clock.now,
    deadline: clock.now + 900_000,
    closeToTimeout: options.closeToTimeout ?? 180,
    signal: abort.signal,
    onLog: (entry) => recorded.logs.push(entry),
    onProgress: (progress) => recorded.progress.push(progress),
    onInputUpdated: (input) => recorded.inputs.push(input),
    onOutputUpdated: (output) => recorded.outputs.push(output),
    trigger: async (params) => {
      recorded.triggers.push(params)
      return { id: `task-${recorded.triggers.length}` }
    },
    listChildren: async (definitionId) => {
      recorded.listed.push(definitionId)
      return [child]
    },
  })
  return { controller, clock, abort, recorded, child }
}

describe("controller.runtime", () => {
  it("counts the remaining time down with the injected clock, never below zero", () => {
    const { controller, clock } = setup()
    expect(controller.runtime.getRemainingMilliseconds()).toBe(900_000)
    expect(controller.runtime.getRemainingSeconds()).toBe(900)
    clock.now += 100_500
    expect(controller.runtime.getRemainingMilliseconds()).toBe(799_500)
    expect(controller.runtime.getRemainingSeconds()).toBe(799)
    clock.now += 10_000_000
    expect(controller.runtime.getRemainingMilliseconds()).toBe(0)
    expect(controller.runtime.getRemainingSeconds()).toBe(0)
  })

  it("is close to timeout once the default threshold (closeToTimeout) is reached", () => {
    const { controller, clock } = setup({ closeToTimeout: 180 })
    clock.now += 719_999 // 180.001 s left
    expect(controller.runtime.isCloseToTimeout()).toBe(false)
    clock.now += 1 // exactly 180 s left
    expect(controller.runtime.isCloseToTimeout()).toBe(true)
  })

  it("takes an explicit threshold in seconds", () => {
    const { controller, clock } = setup()
    clock.now += 600_000 // 300 s left
    expect(controller.runtime.isCloseToTimeout()).toBe(false)
    expect(controller.runtime.isCloseToTimeout(300)).toBe(true)
    expect(controller.runtime.isCloseToTimeout(299)).toBe(false)
  })

  it("reports an abort through isAborted and the exposed signal", () => {
    const { controller, abort } = setup()
    expect(controller.runtime.isAborted()).toBe(false)
    expect(controller.runtime.signal.aborted).toBe(false)
    abort.abort()
    expect(controller.runtime.isAborted()).toBe(true)
    expect(controller.runtime.signal.aborted).toBe(true)
  })
})

describe("controller.response", () => {
  it("builds done with an output, a message, or the state's output", () => {
    const { controller } = setup({ output: { skipped: 2 } })
    expect(controller.response.done({ indexed: 3, skipped: 0 })).toEqual({
      _tag: "Done",
      output: { indexed: 3, skipped: 0 },
    })
    expect(controller.response.done("all indexed", { indexed: 3, skipped: 0 })).toEqual({
      _tag: "Done",
      message: "all indexed",
      output: { indexed: 3, skipped: 0 },
    })
    controller.state.updateOutput({ indexed: 7 })
    expect(controller.response.done()).toEqual({ _tag: "Done", output: { skipped: 2, indexed: 7 } })
    expect(controller.response.done("finished")).toEqual({
      _tag: "Done",
      message: "finished",
      output: { skipped: 2, indexed: 7 },
    })
  })

  it("builds continue with a wake time from seconds or a date", () => {
    const { controller, clock } = setup()
    expect(controller.response.continue({ folder: "/data", cursor: 5 })).toEqual({
      _tag: "Continue",
      input: { folder: "/data", cursor: 5 },
    })
    expect(controller.response.continue({ folder: "/x" }, { seconds: 30 })).toEqual({
      _tag: "Continue",
      input: { folder: "/x" },
      wakeAt: clock.now + 30_000,
    })
    const date = new Date("2030-01-01T00:00:00Z")
    expect(controller.response.continue({ folder: "/x" }, { date }).wakeAt).toBe(date.getTime())
  })

  it("rejects a negative delay and an invalid date", () => {
    const { controller } = setup()
    expect(() => controller.response.continue({ folder: "/x" }, { seconds: -1 })).toThrow(RangeError)
    expect(() => controller.response.continue({ folder: "/x" }, { date: new Date("nope") })).toThrow(
      "continue: date must be a valid Date",
    )
  })

  it("builds error and aborted", () => {
    const { controller } = setup()
    expect(controller.response.error({ message: "quota", code: "QUOTA", data: { left: 0 } })).toEqual({
      _tag: "Error",
      error: { message: "quota", code: "QUOTA", data: { left: 0 } },
    })
    expect(controller.response.aborted()).toEqual({ _tag: "Aborted" })
  })
})

describe("controller.state", () => {
  it("merges input and output updates and reports the whole value to the runner", () => {
    const { controller, recorded } = setup()
    expect(controller.state.getOutput()).toBeUndefined()
    controller.state.updateInput({ cursor: 10 })
    controller.state.updateInput({ cursor: 20 })
    controller.state.updateOutput({ indexed: 20 })
    expect(controller.state.getInput()).toEqual({ folder: "/data", cursor: 20 })
    expect(controller.state.getOutput()).toEqual({ indexed: 20 })
    expect(recorded.inputs).toEqual([{ folder: "/data", cursor: 10 }, { folder: "/data", cursor: 20 }])
    expect(recorded.outputs).toEqual([{ indexed: 20 }])
  })

  it("reports progress and rejects nonsense", () => {
    const { controller, recorded } = setup()
    controller.state.setProgress({ completed: 3, total: 10, message: "pages" })
    expect(recorded.progress).toEqual([{ completed: 3, total: 10, message: "pages" }])
    expect(() => controller.state.setProgress({ completed: Number.NaN })).toThrow(RangeError)
    expect(() => controller.state.setProgress({ completed: 1, total: -1 })).toThrow(RangeError)
    expect(recorded.progress).toHaveLength(1)
  })
})

describe("controller.logger and controller.task", () => {
  it("hands log lines to the runner, with errors as plain data", () => {
    const { controller, recorded } = setup()
    controller.logger.info("started", { folder: "/data" })
    controller.logger.warn("slow")
    const failure = Object.assign(new Error("disk full"), { code: "ENOSPC" })
    controller.logger.error("write failed", { error: failure, data: { file: "a" } })
    expect(recorded.logs.map(({ level, message }) => [level, message])).toEqual([
      ["info", "started"],
      ["warn", "slow"],
      ["error", "write failed"],
    ])
    expect(recorded.logs[0]).toEqual({ level: "info", message: "started", data: { folder: "/data" } })
    expect(recorded.logs[1]).toEqual({ level: "warn", message: "slow" })
    expect(recorded.logs[2]?.data).toEqual({ file: "a" })
    expect(recorded.logs[2]?.error).toMatchObject({ message: "disk full", code: "ENOSPC" })
    expect(recorded.logs[2]?.error?.stack).toContain("disk full")
  })

  it("delegates child triggers and listings to the runner", async () => {
    const { controller, recorded, child } = setup()
    const started = await controller.task.trigger({ definition: "child", input: { n: 1 }, delay: 5 })
    expect(started).toEqual({ id: "task-1" })
    expect(recorded.triggers).toEqual([{ definition: "child", input: { n: 1 }, delay: 5 }])
    expect(await controller.task.listChildren("child")).toEqual([child])
    expect(await controller.task.listChildren()).toEqual([child])
    expect(recorded.listed).toEqual(["child", undefined])
  })
})
