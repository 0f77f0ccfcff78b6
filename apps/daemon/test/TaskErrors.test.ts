/**
 * The task service's errors in process, over a memory store that fails the
 * appends of chosen streams: a store failure reaches the caller as
 * StorageFailed with the store's own error as its cause (and the wire reason
 * clients saw before), and an abort that cannot abort one of the children
 * still aborts the parent and the other children, and logs why.
 */
import { describe, expect, it } from "@effect/vitest"
import { StoreErrors, TaskRpc } from "@tasklane/core"
import type { Ids } from "@tasklane/core"
import { TaskDefinition } from "@tasklane/tasks"
import { Effect, Layer, Logger } from "effect"
import * as CommandSide from "./CommandSide.ts"
import * as TaskErrors from "../src/TaskErrors.ts"
import { Tasks } from "../src/Tasks.ts"
import * as WireErrors from "../src/WireErrors.ts"

class Wait implements TaskDefinition.Interface {
  readonly id = "wait"
  readonly title = "Never runs here (no scheduler)"
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

const diskFull = new StoreErrors.StoreError({ operation: "append", reason: "disk full" })

/** Streams whose appends fail with {@link diskFull}; "*" fails every append. */
const failing = new Set<string>()

/** The memory store, but an append to a stream in {@link failing} fails. */
const faultyStore = CommandSide.memoryStoreWith((inner) => ({
  append: (request) => (failing.has("*") || failing.has(request.stream) ? Effect.fail(diskFull) : inner.append(request)),
}))

/** What was logged, level and message. */
const logged: Array<{ readonly level: string; readonly message: unknown }> = []

/** `use` with the task service (no slots free, so triggered tasks wait) over the faulty store, logs captured. */
const withTasks = <A, E>(use: Effect.Effect<A, E, Tasks>) =>
  Effect.suspend(() => {
    failing.clear()
    logged.length = 0
    const layer = CommandSide.layer({ concurrency: 0, implementations: [TaskDefinition.createImplementation({ implementation: Wait })] }).pipe(
      Layer.provideMerge(faultyStore),
      Layer.provideMerge(Logger.layer([Logger.make(({ logLevel, message }) => void logged.push({ level: logLevel, message }))])),
    )
    return Effect.provide(use, layer)
  })

describe("Tasks errors", () => {
  it.live("a store failure is StorageFailed with the store's error as its cause; clients get the reason they got before", () =>
    withTasks(Effect.gen(function*() {
      const tasks = yield* Tasks
      failing.add("*")
      const error = yield* Effect.flip(tasks.trigger({ definitionId: "wait", input: {} }))
      expect(error).toBeInstanceOf(TaskErrors.StorageFailed)
      expect((error as TaskErrors.StorageFailed).cause).toBe(diskFull)
      const wire = WireErrors.toWire(error)
      expect(wire).toBeInstanceOf(TaskRpc.DaemonError)
      expect(wire).toMatchObject({ reason: "event store append failed: disk full" })
    })))

  it.live("an abort aborts the parent and every child it can; a child it cannot is logged with the cause, not dropped", () =>
    withTasks(Effect.gen(function*() {
      const tasks = yield* Tasks
      const parent = yield* tasks.trigger({ definitionId: "wait", input: {} })
      const parentId = parent.context.taskId as Ids.TaskId
      const stuck = yield* tasks.trigger({ definitionId: "wait", input: {}, parentId })
      const other = yield* tasks.trigger({ definitionId: "wait", input: {}, parentId })
      failing.add(stuck.context.taskId)
      const aborted = yield* tasks.abort(parentId, undefined)
      expect(aborted.status).toBe("aborted")
      expect((yield* tasks.get(other.context.taskId)).status).toBe("aborted")
      expect((yield* tasks.get(stuck.context.taskId)).status).toBe("triggered")
      const warnings = logged.filter((line) => line.level === "Warn")
      expect(warnings).toHaveLength(1)
      const [note, error] = warnings[0]!.message as [string, TaskErrors.StorageFailed]
      expect(note).toContain(`child ${stuck.context.taskId} not aborted`)
      expect(error.cause).toBe(diskFull)
    })))
})
