/**
 * Traces derived from committed events: one span per task (its trigger to its
 * final event) with one child span per iteration attempt (IterationStarted to
 * the event that ended it), and the task's log lines (TaskLogged) as log
 * records carrying the trace and span ids of the iteration that wrote them.
 * The OTLP export of what this builds is Tracing.ts.
 *
 * Ids are derived from the task id, not drawn at random, so the tree holds
 * across a daemon restart and task code can be given its iteration's span as
 * a parent before that span exists ({@link iterationParent}):
 * - trace id: the task id's 32 hex digits (a task id is a UUIDv7), so a trace
 *   is found by the task id shown in the UI and CLI; a task id of another
 *   form is hashed;
 * - task span id and iteration span ids: the first 16 hex digits of a SHA-256
 *   of the task id (and the iteration and attempt).
 * A child task's span links to its parent task's span (another trace).
 *
 * Lifecycle of a builder: events are folded in commit order
 * ({@link SpanBuilder.record}); a span is emitted once, when the event that
 * ends it is folded, with the times of the events. What is remembered per
 * task (its definition, trigger time, running iteration) is dropped at its
 * final event. A task triggered before this daemon started is described by
 * `record`'s `known` argument (its definition and creation time, looked up by
 * the caller); an iteration that started before this daemon did has no start
 * time here, so it is not emitted.
 *
 * Side of the hot-path line (DESIGN 7): plain synchronous code, run only when
 * tracing is on, on the follower fiber, never in the runner.
 */
import { createHash } from "node:crypto"
import { TaskEvent } from "@tasklane/core"
import { Tracer } from "effect"
import { OtlpResource } from "effect/observability"

/** An OTLP span (the JSON form of `opentelemetry.proto.trace.v1.Span`). */
export interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly kind: number
  readonly startTimeUnixNano: string
  readonly endTimeUnixNano: string
  readonly attributes: Array<OtlpResource.KeyValue>
  readonly droppedAttributesCount: number
  readonly events: Array<never>
  readonly droppedEventsCount: number
  readonly status: { readonly code: 0 | 1 | 2; readonly message?: string }
  readonly links: Array<{ readonly traceId: string; readonly spanId: string; readonly attributes: Array<OtlpResource.KeyValue>; readonly droppedAttributesCount: number }>
  readonly droppedLinksCount: number
}

/** An OTLP log record (the JSON form of `opentelemetry.proto.logs.v1.LogRecord`). */
export interface OtlpLogRecord {
  readonly timeUnixNano: string
  readonly observedTimeUnixNano: string
  readonly severityNumber: number
  readonly severityText: string
  readonly body: { readonly stringValue: string }
  readonly attributes: Array<OtlpResource.KeyValue>
  readonly droppedAttributesCount: number
  readonly flags: number
  readonly traceId: string
  readonly spanId: string
}

const sha = (text: string) => createHash("sha256").update(text).digest("hex")

/** The trace of a task: its id's hex digits (UUIDv7), else a hash of it. */
export const traceIdOf = (taskId: string): string => {
  const hex = taskId.replace(/-/g, "").toLowerCase()
  return /^[0-9a-f]{32}$/.test(hex) ? hex : sha(`tasklane trace ${taskId}`).slice(0, 32)
}

/** The span id of a task's span. */
export const taskSpanIdOf = (taskId: string): string => sha(`tasklane task ${taskId}`).slice(0, 16)

/** The span id of one attempt of one iteration of a task. */
export const iterationSpanIdOf = (taskId: string, iteration: number, attempt: number): string =>
  sha(`tasklane iteration ${taskId} ${iteration} ${attempt}`).slice(0, 16)

/** The iteration's span as a parent for spans task code creates while it runs (inline, or in a worker). */
export const iterationParent = (taskId: string, iteration: number, attempt: number): Tracer.ExternalSpan =>
  Tracer.externalSpan({ traceId: traceIdOf(taskId), spanId: iterationSpanIdOf(taskId, iteration, attempt), sampled: true })

/** How an iteration ended (`tasklane.outcome` of an iteration span). */
export type IterationOutcome = "continue" | "retry" | "interrupted" | "done" | "error" | "aborted" | "maxIterations"

/** What is known of a task triggered before this daemon started (looked up by the caller). */
export interface Known {
  readonly definition: string
  readonly createdAt: number
  readonly parentId?: string | undefined
}

interface Track {
  readonly traceId: string
  readonly spanId: string
  readonly definition: string
  readonly start: number
  readonly parentId: string | undefined
  iteration: { readonly n: number; readonly attempt: number; readonly at: number } | undefined
  /** The last iteration that started (0 before the first). */
  iterations: number
}

/** Events that start or end a span or write a log record, so need the task's definition (see `record`'s `known`). */
const ending: ReadonlySet<TaskEvent.EventType> = new Set<TaskEvent.EventType>(["IterationStarted", ...TaskEvent.outcomeTypes, "TaskLogged"])

const nanos = (ms: number) => `${ms}000000`

/** OTLP attributes of the defined entries (plain loop: this runs per span). */
const attributesOf = (entries: Record<string, unknown>): Array<OtlpResource.KeyValue> => {
  const defined: Array<[string, unknown]> = []
  for (const key in entries) if (entries[key] !== undefined) defined.push([key, entries[key]])
  return OtlpResource.entriesToAttributes(defined)
}

const severity = { info: 9, warn: 13, error: 17 } as const

/** Builds spans and log records from committed events; see the module comment. */
export const makeBuilder = (sinks: {
  readonly span: (span: OtlpSpan) => void
  readonly log: (record: OtlpLogRecord) => void
}) => {
  const tracks = new Map<string, Track>()
  const newTrack = (taskId: string, definition: string, start: number, parentId: string | undefined): Track => ({
    traceId: traceIdOf(taskId),
    spanId: taskSpanIdOf(taskId),
    definition,
    start,
    parentId,
    iteration: undefined,
    iterations: 0,
  })

  const span = (
    traceId: string,
    spanId: string,
    parentSpanId: string | undefined,
    name: string,
    start: number,
    end: number,
    attributes: Record<string, unknown>,
    error: string | undefined,
    links: OtlpSpan["links"] = [],
  ) =>
    sinks.span({
      traceId,
      spanId,
      parentSpanId,
      name,
      kind: 1,
      startTimeUnixNano: nanos(start),
      endTimeUnixNano: nanos(Math.max(start, end)),
      attributes: attributesOf(attributes),
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      status: error === undefined ? { code: 1 } : { code: 2, message: error },
      links,
      droppedLinksCount: 0,
    })

  const endIteration = (taskId: string, track: Track, at: number, outcome: IterationOutcome, error?: { message: string; reason?: string }) => {
    const current = track.iteration
    track.iteration = undefined
    if (current === undefined) return
    span(
      track.traceId,
      iterationSpanIdOf(taskId, current.n, current.attempt),
      track.spanId,
      `iteration ${current.n}`,
      current.at,
      at,
      {
        "tasklane.definition": track.definition,
        "tasklane.task.id": taskId,
        "tasklane.iteration": current.n,
        "tasklane.attempt": current.attempt,
        "tasklane.outcome": outcome,
        "tasklane.failure.reason": error?.reason,
      },
      error?.message,
    )
  }

  const endTask = (taskId: string, track: Track, at: number, outcome: IterationOutcome, error?: { message: string; reason?: string }) => {
    endIteration(taskId, track, at, outcome, error)
    tracks.delete(taskId)
    const links = track.parentId === undefined
      ? []
      : [{ traceId: traceIdOf(track.parentId), spanId: taskSpanIdOf(track.parentId), attributes: [], droppedAttributesCount: 0 }]
    span(
      track.traceId,
      track.spanId,
      undefined,
      `task ${track.definition}`,
      track.start,
      at,
      {
        "tasklane.definition": track.definition,
        "tasklane.task.id": taskId,
        "tasklane.parent.id": track.parentId,
        "tasklane.iterations": track.iterations,
        "tasklane.outcome": outcome,
        "tasklane.failure.reason": error?.reason,
      },
      error?.message,
      links,
    )
  }

  return {
    /** Whether this event needs its task's definition (`known`) when the builder has not seen the task's trigger. */
    needs: (recorded: TaskEvent.RecordedEvent): boolean => ending.has(recorded.event._tag) && !tracks.has(recorded.stream),
    /** Folds one committed event; `known` describes a task whose TaskTriggered this builder did not see. */
    record: (recorded: TaskEvent.RecordedEvent, known?: Known): void => {
      const { event, stream: taskId, at } = recorded
      if (event._tag === "TaskTriggered") {
        tracks.set(taskId, newTrack(taskId, event.definitionId, at, event.parentId))
        return
      }
      let track = tracks.get(taskId)
      if (track === undefined) {
        // A task from before this daemon started: described by the caller once an event needs it.
        if (known === undefined) return
        track = newTrack(taskId, known.definition, known.createdAt, known.parentId)
        // A log line may also come after the final event (a final task accepts them): not remembered then.
        if (event._tag !== "TaskLogged") tracks.set(taskId, track)
      }
      switch (event._tag) {
        case "IterationStarted":
          track.iteration = { n: event.iteration, attempt: event.attempt, at }
          track.iterations = event.iteration
          return
        case "IterationContinued":
          return endIteration(taskId, track, at, "continue")
        case "RetryScheduled":
          return endIteration(taskId, track, at, "retry", { message: event.error.message, reason: event.reason })
        case "IterationInterrupted":
          return endIteration(taskId, track, at, "interrupted", { message: `interrupted (${event.reason})` })
        case "MaxIterationsReached":
          return endTask(taskId, track, at, "maxIterations")
        case "TaskDone":
          return endTask(taskId, track, at, "done")
        case "TaskFailed":
          return endTask(taskId, track, at, "error", { message: event.error.message, reason: event.reason })
        case "TaskAborted":
          return endTask(taskId, track, at, "aborted")
        case "TaskDeleted":
          tracks.delete(taskId)
          return
        case "TaskLogged": {
          const current = track.iteration
          sinks.log({
            timeUnixNano: nanos(at),
            observedTimeUnixNano: nanos(at),
            severityNumber: severity[event.level],
            severityText: event.level.toUpperCase(),
            body: { stringValue: event.message },
            attributes: attributesOf({
              "tasklane.definition": track.definition,
              "tasklane.task.id": taskId,
              "tasklane.iteration": current?.n,
              "tasklane.data": event.data === undefined ? undefined : JSON.stringify(event.data),
            }),
            droppedAttributesCount: 0,
            flags: 1,
            traceId: track.traceId,
            spanId: current === undefined ? track.spanId : iterationSpanIdOf(taskId, current.n, current.attempt),
          })
          return
        }
      }
    },
    /** Tasks remembered now (started and not final). */
    tracked: (): number => tracks.size,
  }
}

/** A span and log builder: see {@link makeBuilder}. */
export type SpanBuilder = ReturnType<typeof makeBuilder>
