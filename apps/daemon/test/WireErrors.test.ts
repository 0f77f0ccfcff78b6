/**
 * WireErrors in process: every command-side error leaves the daemon as the
 * wire error clients knew before (same tag, fields and message), errors that
 * are already the contract's pass unchanged, and a storage failure's cause is
 * logged at the edge while the client gets only its reason. The bytes on the
 * wire are checked by WireCodecs.test.ts and the process suites.
 */
import { describe, expect, it } from "@effect/vitest"
import { Schedule, StoreErrors, TaskRpc } from "@tasklane/core"
import { Effect, Logger, Schema } from "effect"
import * as TaskErrors from "../src/TaskErrors.ts"
import * as WireErrors from "../src/WireErrors.ts"

const storeError = new StoreErrors.StoreError({ operation: "append", reason: "disk full" })

/** Each domain error with the wire error it must become. */
const pairs: ReadonlyArray<readonly [TaskErrors.TaskError, Schema.Top & { readonly Type: unknown }, object]> = [
  [new TaskErrors.TaskNotFound({ taskId: "t1" }), TaskRpc.UnknownTask, { _tag: "UnknownTask", taskId: "t1" }],
  [new TaskErrors.DefinitionNotFound({ definitionId: "d1" }), TaskRpc.UnknownDefinition, { _tag: "UnknownDefinition", definitionId: "d1" }],
  [
    new TaskErrors.TriggerVetoed({ definitionId: "d1", reason: "closed" }),
    TaskRpc.TriggerRefused,
    { _tag: "TriggerRefused", definitionId: "d1", reason: "closed" },
  ],
  [
    new TaskErrors.ActionNotAllowed({ taskId: "t1", status: "done", reason: "it has finished" }),
    TaskRpc.NotAllowed,
    { _tag: "NotAllowed", taskId: "t1", status: "done", reason: "it has finished" },
  ],
  [new TaskErrors.InvalidField({ field: "name", reason: "too long" }), TaskRpc.InvalidRequest, { _tag: "InvalidRequest", field: "name", reason: "too long" }],
  [new TaskErrors.BatchTooLarge({ count: 5001, max: 5000 }), TaskRpc.TooManyTriggers, { _tag: "TooManyTriggers", count: 5001, max: 5000 }],
  [TaskErrors.storageFailed(storeError), TaskRpc.DaemonError, { _tag: "DaemonError", reason: "event store append failed: disk full" }],
]

/** A logger that keeps what it is given. */
const capture = () => {
  const lines: Array<{ readonly level: string; readonly message: unknown }> = []
  const logger = Logger.make(({ logLevel, message }) => void lines.push({ level: logLevel, message }))
  return { lines, layer: Logger.layer([logger]) }
}

describe("WireErrors", () => {
  it("each command-side error becomes the wire error clients knew, with the same fields and message", () => {
    for (const [domain, wire, encoded] of pairs) {
      const mapped = WireErrors.toWire(domain)
      expect(mapped).toBeInstanceOf(wire)
      expect(Schema.encodeUnknownSync(wire as never)(mapped)).toEqual(encoded)
      // Logs and the refusals a schedule records read as before.
      expect(mapped.message).toBe(domain.message)
    }
  })

  it("errors that are already the contract's pass unchanged", () => {
    const invalid = new TaskRpc.InvalidInput({ definitionId: "d1", issues: [{ path: ["a"], message: "expected a number" }] })
    const unknown = new Schedule.UnknownSchedule({ scheduleId: "s1" })
    expect(WireErrors.toWire(invalid)).toBe(invalid)
    expect(WireErrors.toWire(unknown)).toBe(unknown)
  })

  it.effect("a storage failure reaches the client as DaemonError with its reason; its cause is logged at the edge", () =>
    Effect.gen(function*() {
      const { lines, layer } = capture()
      const error = yield* Effect.fail(TaskErrors.storageFailed(storeError, "cannot write the schedule log")).pipe(
        WireErrors.atEdge("ScheduleAdd"),
        Effect.flip,
        Effect.provide(layer),
      )
      expect(error).toBeInstanceOf(TaskRpc.DaemonError)
      expect(error.reason).toBe("cannot write the schedule log: event store append failed: disk full")
      expect(lines).toHaveLength(1)
      expect(lines[0]!.level).toBe("Error")
      expect(lines[0]!.message).toEqual(["ScheduleAdd: cannot write the schedule log: event store append failed: disk full", storeError])
    }))

  it.effect("a refusal is the client's business: it is mapped and nothing is logged", () =>
    Effect.gen(function*() {
      const { lines, layer } = capture()
      const error = yield* Effect.fail(new TaskErrors.TaskNotFound({ taskId: "t1" })).pipe(WireErrors.atEdge("GetTask"), Effect.flip, Effect.provide(layer))
      expect(error).toBeInstanceOf(TaskRpc.UnknownTask)
      expect(lines).toEqual([])
    }))
})
