/**
 * TraceSpans.ts in process: the fold of committed events into task and
 * iteration spans (times from the events' own `at`, ids derived from the task
 * id), log records under the iteration that wrote them, a child task's link
 * to its parent, and a task triggered before the builder started. The daemon
 * end to end, with a real OTLP/HTTP receiver, is test/daemon/Tracing.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Ids, TaskEvent } from "@tasklane/core"
import { Effect } from "effect"
import { OtlpSerialization } from "effect/observability"
import * as TraceSpans from "../src/TraceSpans.ts"

const uuid = "01a2477f-a302-7590-a6f7-5a796dd46d67" as Ids.TaskId
let position = 0

const recorded = (stream: Ids.TaskId, at: number, event: TaskEvent.TaskEvent): TaskEvent.RecordedEvent => {
  position += 1
  return { id: `e${position}` as Ids.EventId, stream, version: position, position, at, event }
}

const triggered = (stream: Ids.TaskId, definitionId: string, parentId?: Ids.TaskId) =>
  new TaskEvent.TaskTriggered({
    taskId: stream,
    definitionId: definitionId as Ids.DefinitionId,
    input: {},
    maxIterations: 10,
    ...(parentId === undefined ? {} : { parentId }),
  })
const started = (iteration: number, attempt = 1) => new TaskEvent.IterationStarted({ iteration, attempt })

const collect = () => {
  const spans: Array<TraceSpans.OtlpSpan> = []
  const logs: Array<TraceSpans.OtlpLogRecord> = []
  return { spans, logs, builder: TraceSpans.makeBuilder({ span: (span) => spans.push(span), log: (record) => logs.push(record) }) }
}

const attr = (span: { readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: object }> }, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value
  return value === undefined ? undefined : Object.values(value)[0]
}

describe("TraceSpans ids", () => {
  it("use the task id's hex digits as the trace id, and are stable per task, iteration and attempt", () => {
    expect(TraceSpans.traceIdOf(uuid)).toBe("01a2477fa3027590a6f75a796dd46d67")
    expect(TraceSpans.traceIdOf("not-a-uuid")).toMatch(/^[0-9a-f]{32}$/)
    expect(TraceSpans.taskSpanIdOf(uuid)).toMatch(/^[0-9a-f]{16}$/)
    expect(TraceSpans.iterationSpanIdOf(uuid, 2, 1)).toBe(TraceSpans.iterationSpanIdOf(uuid, 2, 1))
    expect(TraceSpans.iterationSpanIdOf(uuid, 2, 1)).not.toBe(TraceSpans.iterationSpanIdOf(uuid, 2, 2))
    const parent = TraceSpans.iterationParent(uuid, 2, 1)
    expect(parent.traceId).toBe(TraceSpans.traceIdOf(uuid))
    expect(parent.spanId).toBe(TraceSpans.iterationSpanIdOf(uuid, 2, 1))
  })
})

describe("TraceSpans.makeBuilder", () => {
  it("emits an iteration span per attempt and the task span at the final event, with the events' times", () => {
    const { spans, logs, builder } = collect()
    for (
      const event of [
        recorded(uuid, 1_000, triggered(uuid, "crawl")),
        recorded(uuid, 1_500, started(1)),
        recorded(uuid, 1_600, new TaskEvent.TaskLogged({ level: "warn", message: "slow", data: { n: 1 } })),
        recorded(uuid, 1_750, new TaskEvent.IterationContinued({ input: {} })),
        recorded(uuid, 1_800, new TaskEvent.ProgressUpdated({ progress: { completed: 1 } })),
        recorded(uuid, 1_800, started(2)),
        recorded(uuid, 2_800, new TaskEvent.RetryScheduled({ error: { message: "later" }, reason: "timeout", wakeAt: 3_000 })),
        recorded(uuid, 3_000, started(2, 2)),
        recorded(uuid, 5_000, new TaskEvent.TaskFailed({ error: { message: "no" }, reason: "error" })),
      ]
    ) builder.record(event)

    expect(spans.map((span) => span.name)).toEqual(["iteration 1", "iteration 2", "iteration 2", "task crawl"])
    const [first, retried, failedAttempt, task] = spans as [TraceSpans.OtlpSpan, TraceSpans.OtlpSpan, TraceSpans.OtlpSpan, TraceSpans.OtlpSpan]
    const traceId = TraceSpans.traceIdOf(uuid)
    for (const span of spans) expect(span.traceId).toBe(traceId)
    expect(task.spanId).toBe(TraceSpans.taskSpanIdOf(uuid))
    expect(task.parentSpanId).toBeUndefined()
    expect([task.startTimeUnixNano, task.endTimeUnixNano]).toEqual(["1000000000", "5000000000"])
    expect(attr(task, "tasklane.outcome")).toBe("error")
    expect(attr(task, "tasklane.iterations")).toBe(2)
    expect(attr(task, "tasklane.failure.reason")).toBe("error")
    expect(task.status).toEqual({ code: 2, message: "no" })

    expect(first.parentSpanId).toBe(task.spanId)
    expect(first.spanId).toBe(TraceSpans.iterationSpanIdOf(uuid, 1, 1))
    expect([first.startTimeUnixNano, first.endTimeUnixNano]).toEqual(["1500000000", "1750000000"])
    expect([attr(first, "tasklane.iteration"), attr(first, "tasklane.attempt"), attr(first, "tasklane.outcome")]).toEqual([1, 1, "continue"])
    expect(first.status.code).toBe(1)
    expect([attr(retried, "tasklane.attempt"), attr(retried, "tasklane.outcome"), attr(retried, "tasklane.failure.reason")]).toEqual([1, "retry", "timeout"])
    expect(retried.status.code).toBe(2)
    expect([attr(failedAttempt, "tasklane.attempt"), attr(failedAttempt, "tasklane.outcome")]).toEqual([2, "error"])
    expect(failedAttempt.spanId).toBe(TraceSpans.iterationSpanIdOf(uuid, 2, 2))

    expect(logs).toHaveLength(1)
    expect(logs[0]).toMatchObject({
      traceId,
      spanId: first.spanId,
      severityText: "WARN",
      severityNumber: 13,
      body: { stringValue: "slow" },
      timeUnixNano: "1600000000",
    })
    expect(builder.tracked()).toBe(0)
  })

  it("links a child task's span to its parent task's span", () => {
    const { spans, builder } = collect()
    const child = "child-1" as Ids.TaskId
    builder.record(recorded(child, 10, triggered(child, "leaf", uuid)))
    builder.record(recorded(child, 10, started(1)))
    builder.record(recorded(child, 20, new TaskEvent.TaskDone({})))
    const task = spans.find((span) => span.name === "task leaf")!
    expect(task.links).toEqual([{ traceId: TraceSpans.traceIdOf(uuid), spanId: TraceSpans.taskSpanIdOf(uuid), attributes: [], droppedAttributesCount: 0 }])
    expect(attr(task, "tasklane.parent.id")).toBe(uuid)
  })

  it("describes a task triggered before it started from what the caller looked up, and skips the iteration it did not see start", () => {
    const { spans, builder } = collect()
    const old = "old-1" as Ids.TaskId
    const continued = recorded(old, 2_000, new TaskEvent.IterationContinued({ input: {} }))
    expect(builder.needs(continued)).toBe(true)
    builder.record(continued, { definition: "crawl", createdAt: 500 })
    const next = recorded(old, 2_100, started(2))
    expect(builder.needs(next)).toBe(false)
    builder.record(next)
    builder.record(recorded(old, 2_300, new TaskEvent.TaskAborted({})))
    expect(spans.map((span) => [span.name, attr(span, "tasklane.outcome"), span.startTimeUnixNano])).toEqual([
      ["iteration 2", "aborted", "2100000000"],
      ["task crawl", "aborted", "500000000"],
    ])
  })

  it("remembers nothing of a task it cannot describe, and nothing after a task's final event", () => {
    const { spans, logs, builder } = collect()
    const unknown = "gone-1" as Ids.TaskId
    builder.record(recorded(unknown, 1, new TaskEvent.TaskDone({})))
    expect(spans).toEqual([])
    builder.record(recorded(uuid, 1, triggered(uuid, "crawl")))
    builder.record(recorded(uuid, 2, new TaskEvent.TaskAborted({})))
    expect(spans.map((span) => span.name)).toEqual(["task crawl"])
    expect(builder.tracked()).toBe(0)
    // A line logged after the final event is sent under the task's span, and not remembered.
    const late = recorded(uuid, 3, new TaskEvent.TaskLogged({ level: "error", message: "late" }))
    expect(builder.needs(late)).toBe(true)
    builder.record(late, { definition: "crawl", createdAt: 1 })
    expect(builder.tracked()).toBe(0)
    expect(logs.map((record) => [record.body.stringValue, record.spanId, record.severityNumber])).toEqual([["late", TraceSpans.taskSpanIdOf(uuid), 17]])
  })
})

describe("TraceSpans output", () => {
  it("is what effect's OTLP serializations encode: JSON as built, and protobuf (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)", () => {
    const { spans, logs, builder } = collect()
    builder.record(recorded(uuid, 1, triggered(uuid, "crawl")))
    builder.record(recorded(uuid, 1, started(1)))
    builder.record(recorded(uuid, 2, new TaskEvent.TaskLogged({ level: "info", message: "hello" })))
    builder.record(recorded(uuid, 3, new TaskEvent.TaskDone({})))
    const resource = { attributes: [], droppedAttributesCount: 0 }
    const scope = { name: "tasklane" }
    const encode = (layer: typeof OtlpSerialization.layerJson) =>
      Effect.runSync(
        Effect.gen(function*() {
          const serialization = yield* OtlpSerialization.OtlpSerialization
          return {
            traces: serialization.traces({ resourceSpans: [{ resource, scopeSpans: [{ scope, spans: spans as never }] }] }),
            logs: serialization.logs({ resourceLogs: [{ resource, scopeLogs: [{ scope, logRecords: logs as never }] }] }),
          }
        }).pipe(Effect.provide(layer)),
      )
    const json = encode(OtlpSerialization.layerJson)
    const contentType = (body: unknown) => (body as { contentType: string }).contentType
    expect(contentType(json.traces)).toBe("application/json")
    const protobuf = encode(OtlpSerialization.layerProtobuf)
    expect(contentType(protobuf.traces)).toBe("application/x-protobuf")
    const bytes = (body: unknown) => Buffer.from((body as { body: Uint8Array }).body).toString("hex")
    // The trace id and the task span's id are in the encoded bytes, as bytes.
    expect(bytes(protobuf.traces)).toContain(TraceSpans.traceIdOf(uuid))
    expect(bytes(protobuf.traces)).toContain(TraceSpans.taskSpanIdOf(uuid))
    expect(bytes(protobuf.logs)).toContain(TraceSpans.iterationSpanIdOf(uuid, 1, 1))
  })
})

