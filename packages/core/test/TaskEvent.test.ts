import { Schema } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { compileBodies } from "../src/internal/EventJson.ts"
import type { DefinitionId, EventId, TaskId } from "../src/Ids.ts"
import * as TaskEvent from "../src/TaskEvent.ts"

const recorded = (event: TaskEvent.TaskEvent, envelope: Partial<Omit<TaskEvent.RecordedEvent, "event">> = {}): TaskEvent.RecordedEvent => ({
  id: "0190a000-0000-7000-8000-000000000001" as EventId,
  stream: "task-1" as TaskId,
  version: 3,
  position: 17,
  at: 1_700_000_000_000,
  event,
  ...envelope,
})

const error = { message: "boom \"quoted\" \u2028", code: "E1", data: { nested: [1, null, "x"] }, stack: "at line 1\nat line 2" }

/** One event of every type, with optional fields both set and unset. */
const everyType: ReadonlyArray<TaskEvent.TaskEvent> = [
  new TaskEvent.TaskTriggered({ taskId: "task-1" as TaskId, definitionId: "d" as DefinitionId, input: null, maxIterations: 5 }),
  new TaskEvent.TaskTriggered({
    taskId: "task-1" as TaskId, definitionId: "d" as DefinitionId, name: "nämé", input: { a: [1, { b: "c" }] }, maxIterations: 5,
    parentId: "p" as TaskId, idempotencyKey: "k!%", wakeAt: 12, forkedFrom: { taskId: "t0" as TaskId, iteration: 2 },
  }),
  new TaskEvent.IterationStarted({ iteration: 1, attempt: 2 }),
  new TaskEvent.IterationStarted({ iteration: 1, attempt: 3, node: "host-a:41 \"n\"" }),
  TaskEvent.trusted("IterationStarted", { iteration: 2, attempt: 1, node: undefined }),
  new TaskEvent.IterationContinued({ input: 1 }),
  new TaskEvent.IterationContinued({ input: "x", output: { o: true }, wakeAt: 99 }),
  new TaskEvent.MaxIterationsReached({ input: [], output: 0, hookDue: false }),
  new TaskEvent.TaskDone({}),
  new TaskEvent.TaskDone({ output: { x: 1 }, message: "ok", hookDue: true }),
  new TaskEvent.TaskFailed({ error, reason: "timeout" }),
  new TaskEvent.RetryScheduled({ error: { message: "m" }, reason: "thrown", wakeAt: 5 }),
  new TaskEvent.AbortRequested({}),
  new TaskEvent.TaskAborted({ message: "stop", forced: true, hookDue: false }),
  new TaskEvent.IterationInterrupted({ iteration: 3, reason: "crash" }),
  new TaskEvent.HookCompleted({ hook: "onDone" }),
  new TaskEvent.HookFailed({ hook: "onError", error }),
  new TaskEvent.ProgressUpdated({ progress: { completed: 1, total: 2, message: "half" } }),
  new TaskEvent.TaskLogged({ level: "warn", message: "line", data: { page: 1 } }),
  new TaskEvent.TaskDeleted({}),
  TaskEvent.trusted("TaskLogged", { level: "info", message: "built by the daemon", data: undefined }),
  // A plain body whose `_tag` is not its first key.
  { level: "error", message: "tag last", _tag: "TaskLogged" } as unknown as TaskEvent.TaskEvent,
]

const expectSameBytes = (event: TaskEvent.RecordedEvent) => {
  const json = TaskEvent.encodeEnvelope(event)
  expect(json).toBe(JSON.stringify(TaskEvent.toEnvelope(event)))
  return json
}

describe("TaskEvent.encodeEnvelope", () => {
  it("writes the bytes of JSON.stringify(toEnvelope(event)) for every event type", () => {
    for (const event of everyType) {
      const json = expectSameBytes(recorded(event))
      expect(TaskEvent.fromEnvelope(JSON.parse(json))).toEqual(TaskEvent.fromEnvelope(TaskEvent.toEnvelope(recorded(event))))
    }
    expect(everyType.map((event) => event._tag)).toEqual(expect.arrayContaining([...TaskEvent.eventTypes]))
  })

  it("writes the same bytes for any ids, numbers and text", () => {
    fc.assert(
      fc.property(
        fc.string(), fc.string(), fc.oneof(fc.integer(), fc.double()), fc.string(), fc.jsonValue({ maxDepth: 2 }),
        (id, stream, at, message, data) => void expectSameBytes(recorded(new TaskEvent.TaskLogged({ level: "info", message, data }), { id: id as EventId, stream: stream as TaskId, at })),
      ),
    )
  })

  it("stores an IterationStarted without a node exactly as before the field existed; with one, the node after the attempt", () => {
    const alone = TaskEvent.trusted("IterationStarted", { iteration: 2, attempt: 1, node: undefined })
    expect(expectSameBytes(recorded(alone))).toContain(`"type":"IterationStarted","at":1700000000000,"data":{"iteration":2,"attempt":1},"v":1}`)
    const onNode = TaskEvent.trusted("IterationStarted", { iteration: 2, attempt: 1, node: "n1" })
    expect(expectSameBytes(recorded(onNode))).toContain(`"data":{"iteration":2,"attempt":1,"node":"n1"}`)
  })

  it("throws for an event that does not encode, as toEnvelope does", () => {
    const bad = recorded({ _tag: "TaskLogged", level: "loud", message: 1 } as unknown as TaskEvent.TaskEvent)
    expect(() => TaskEvent.toEnvelope(bad)).toThrow()
    expect(() => TaskEvent.encodeEnvelope(bad)).toThrow()
  })

  it("agrees with Schema's encode on arbitrary bodies, valid or not (same bytes, or both throw)", () => {
    const fieldNames = [...new Set(TaskEvent.TaskEvent.members.flatMap((member) => Object.keys(member.fields)))].filter((name) => name !== "_tag")
    const value = fc.oneof(
      fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(undefined), fc.constant(null), fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom("info", "warn", "onDone", "timeout", "crash", "shutdown"),
      fc.record({ message: fc.oneof(fc.string(), fc.integer()), code: fc.option(fc.string(), { nil: undefined }), extra: fc.integer() }, { requiredKeys: [] }),
      fc.record({ completed: fc.oneof(fc.integer(), fc.string()), total: fc.option(fc.double(), { nil: undefined }) }, { requiredKeys: [] }),
      fc.record({ taskId: fc.string(), iteration: fc.integer() }, { requiredKeys: [] }),
    )
    const body = fc.record({
      _tag: fc.constantFrom<string>(...TaskEvent.eventTypes, "NoSuchEvent"),
      fields: fc.dictionary(fc.constantFrom(...fieldNames, "extra"), value, { maxKeys: 6 }),
    }).map(({ _tag, fields }) => ({ ...fields, _tag }) as unknown as TaskEvent.TaskEvent)
    // A valid event of each type with up to two fields replaced by arbitrary values (or removed, or added).
    const mutated = fc.record({
      base: fc.constantFrom(...everyType),
      changes: fc.array(fc.tuple(fc.constantFrom(...fieldNames, "extra"), value), { maxLength: 2 }),
    }).map(({ base, changes }) => {
      const event: Record<string, unknown> = { ...base }
      for (const [name, changed] of changes) event[name] = changed
      return event as unknown as TaskEvent.TaskEvent
    })
    const outcome = (f: () => string) => {
      try {
        return f()
      } catch {
        return "throws"
      }
    }
    fc.assert(
      fc.property(fc.oneof(body, mutated, fc.constantFrom(...everyType)), (event) => {
        const expected = outcome(() => JSON.stringify(TaskEvent.toEnvelope(recorded(event))))
        expect(outcome(() => TaskEvent.encodeEnvelope(recorded(event)))).toBe(expected)
      }),
      { numRuns: 3000 },
    )
  })

  it("writes every event type without Schema's parser (the compiled writer takes each)", () => {
    const writeData = compileBodies(TaskEvent.TaskEvent.members.map((member) => Schema.Struct(member.fields).ast))
    for (const event of everyType) expect(writeData(event)).toBeDefined()
  })
})
