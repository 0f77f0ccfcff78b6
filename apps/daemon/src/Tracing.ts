/**
 * OTLP export (`tasklane daemon --otlp-endpoint URL`, or
 * `OTEL_EXPORTER_OTLP_ENDPOINT`): traces, logs and metrics pushed over
 * OTLP/HTTP to `<URL>/v1/traces`, `<URL>/v1/logs` and `<URL>/v1/metrics`,
 * with effect's own `effect/observability` exporters (batching, retries,
 * the final flush when the daemon stops) over Node's `http` client
 * (`NodeHttpClient.layerNodeHttp`: the undici client crashes on Node 20).
 *
 * What is sent:
 * - task and iteration spans and the tasks' log lines, derived from committed
 *   events (TraceSpans.ts): a follower fiber subscribes to the store from its
 *   head when the layer is built (before the scheduler starts) and folds each
 *   event, exactly as the metrics do (Metrics.ts). The runner is not touched:
 *   the spans exist because the events do, with the events' times and ids
 *   derived from the task id, so a restart does not break a task's tree.
 * - spans task code creates while an iteration runs (`Effect.withSpan` in an
 *   Effect-returning `run()`): Isolation.ts runs the iteration with
 *   {@link Tracing}'s `tracer` (effect's OtlpTracer) and the iteration's span
 *   as parent; a worker thread does the same with a tracer whose spans it
 *   posts back (`pushSpans`), and a logger for its `Effect.log` (`pushLogs`).
 * - the daemon's own Effect logs ({@link loggerLayer}, beside its console
 *   output), among them those task code writes with `Effect.log` in an
 *   inline iteration, which carry the trace and span ids of the span they
 *   were written in.
 * - the metrics of Metrics.ts (the same registry `/metrics` serves), every
 *   `OTEL_METRIC_EXPORT_INTERVAL` ms (default 60000), gauges read just before.
 *
 * Off by default: without an endpoint the daemon builds none of this (no
 * layer, no follower, no tracer), and Isolation's only cost is one check of
 * an absent service per iteration.
 *
 * Lifecycle of `layer`: build the exporters (each scoped: flushed on close,
 * within 3 s) → fork the follower and the gauge refresher → serve. A failed
 * subscription is logged and resumed after the last event it folded.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { EventStore, type Replay, type TaskEvent } from "@tasklane/core"
import { Context, Duration, Effect, Layer, Metric, Schedule, Tracer } from "effect"
import { OtlpExporter, OtlpLogger, OtlpMetrics, OtlpResource, OtlpSerialization, OtlpTracer } from "effect/observability"
import * as Metrics from "./Metrics.ts"
import * as TraceSpans from "./TraceSpans.ts"
import { followLog } from "./internal/FollowLog.ts"
import { version } from "./version.ts"

/** Where and how to export (from the flag and the standard OTEL_* variables). */
export interface OtlpOptions {
  /** The base URL; `/v1/traces`, `/v1/logs`, `/v1/metrics` are appended. */
  readonly endpoint: string
  /** `service.name` of the resource: `OTEL_SERVICE_NAME`, else `tasklane`. */
  readonly serviceName: string
  /** Body encoding: JSON unless `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`. */
  readonly protocol: "json" | "protobuf"
  /** How often spans and logs are sent (`OTEL_BSP_SCHEDULE_DELAY`, default 5000 ms). */
  readonly spanIntervalMs: number
  /** How often metrics are sent (`OTEL_METRIC_EXPORT_INTERVAL`, default 60000 ms). */
  readonly metricIntervalMs: number
  /** Headers sent with every request (`OTEL_EXPORTER_OTLP_HEADERS`: `key=value,…`, values URL-encoded). */
  readonly headers: Readonly<Record<string, string>>
}

/** `OTEL_EXPORTER_OTLP_HEADERS` as the OTLP exporter specification writes it: `key=value` pairs, comma-separated, URL-encoded. */
const headersOf = (value: string | undefined): Record<string, string> => {
  const headers: Record<string, string> = {}
  for (const pair of (value ?? "").split(",")) {
    const at = pair.indexOf("=")
    if (pair.trim() === "") continue
    if (at <= 0) throw new Error(`OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas, got "${pair.trim()}"`)
    headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim())
  }
  return headers
}

const intervalOf = (env: NodeJS.ProcessEnv, name: string, fallback: number) => {
  const value = env[name]
  if (value === undefined || value === "") return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number of milliseconds, got "${value}"`)
  return n
}

/**
 * The export settings: `--otlp-endpoint`, else `OTEL_EXPORTER_OTLP_ENDPOINT`;
 * undefined (off) when neither is set. Throws a one-line Error on a bad value.
 */
export const resolveOptions = (flag: string | undefined, env: NodeJS.ProcessEnv): OtlpOptions | undefined => {
  const given = flag ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT === "" ? undefined : env.OTEL_EXPORTER_OTLP_ENDPOINT)
  if (given === undefined) return undefined
  const source = flag === undefined ? "OTEL_EXPORTER_OTLP_ENDPOINT" : "--otlp-endpoint"
  let url: URL
  try {
    url = new URL(given)
  } catch {
    throw new Error(`${source} must be an http:// or https:// URL, got "${given}"`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`${source} must be an http:// or https:// URL, got "${given}"`)
  const protocol = env.OTEL_EXPORTER_OTLP_PROTOCOL
  if (protocol !== undefined && protocol !== "" && protocol !== "http/json" && protocol !== "http/protobuf") {
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL must be http/json or http/protobuf (grpc is not supported), got "${protocol}"`)
  }
  return {
    endpoint: given.replace(/\/+$/, ""),
    serviceName: env.OTEL_SERVICE_NAME || "tasklane",
    protocol: protocol === "http/protobuf" ? "protobuf" : "json",
    spanIntervalMs: intervalOf(env, "OTEL_BSP_SCHEDULE_DELAY", 5000),
    metricIntervalMs: intervalOf(env, "OTEL_METRIC_EXPORT_INTERVAL", 60_000),
    headers: headersOf(env.OTEL_EXPORTER_OTLP_HEADERS),
  }
}

/** What Isolation needs to nest task code's spans under its iteration's span (present only when tracing is on). */
export class Tracing extends Context.Service<Tracing, {
  /** The tracer task code runs with (effect's OtlpTracer). */
  readonly tracer: Tracer.Tracer
  /** The running iteration's span, as the parent of spans task code creates. */
  readonly parentOf: (state: Replay.TaskState) => Tracer.ExternalSpan
  /** Exports spans a worker thread's task code created (already in OTLP form). */
  readonly pushSpans: (spans: ReadonlyArray<unknown>) => void
  /** Exports Effect log records a worker thread's task code wrote (already in OTLP form). */
  readonly pushLogs: (records: ReadonlyArray<unknown>) => void
}>()("@tasklane/daemon/Tracing") {}

const shutdownTimeout = Duration.seconds(3)

/** Folds `events` (one committed chunk), looking up tasks triggered before this daemon started. */
const foldChunk = (store: EventStore.EventStore["Service"], builder: TraceSpans.SpanBuilder, events: ReadonlyArray<TaskEvent.RecordedEvent>) =>
  Effect.gen(function*() {
    for (const event of events) {
      if (!builder.needs(event)) {
        builder.record(event)
        continue
      }
      const state = yield* Effect.orElseSucceed(store.getTask(event.stream), () => undefined)
      builder.record(
        event,
        state === undefined ? undefined : {
          definition: state.context.definitionId,
          createdAt: state.context.createdAt,
          parentId: state.context.parentId,
        },
      )
    }
  })

/**
 * Exports traces, logs and the metrics of `recorder` (whose `onBatch` the
 * store was given, and which Metrics.layer folds) to `options.endpoint`.
 * Build it before the scheduler, and below Isolation.
 */
export const layer = (options: OtlpOptions, recorder: Metrics.Recorder): Layer.Layer<Tracing, never, EventStore.EventStore> =>
  Layer.effect(Tracing)(
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const serialization = yield* OtlpSerialization.OtlpSerialization
      const resourceOptions = { serviceName: options.serviceName, serviceVersion: version }
      const resource = yield* OtlpResource.fromConfig(resourceOptions)
      const scope = { name: "tasklane", version }
      const spanInterval = Duration.millis(options.spanIntervalMs)
      const spans = yield* OtlpExporter.make({
        label: "TasklaneSpans",
        url: `${options.endpoint}/v1/traces`,
        headers: options.headers,
        exportInterval: spanInterval,
        maxBatchSize: 1000,
        shutdownTimeout,
        body: (batch) => [serialization.traces({ resourceSpans: [{ resource, scopeSpans: [{ scope, spans: batch }] }] }), Effect.void],
      })
      const logs = yield* OtlpExporter.make({
        label: "TasklaneLogs",
        url: `${options.endpoint}/v1/logs`,
        headers: options.headers,
        exportInterval: spanInterval,
        maxBatchSize: 1000,
        shutdownTimeout,
        body: (batch) => [serialization.logs({ resourceLogs: [{ resource, scopeLogs: [{ scope, logRecords: batch }] }] } as never), Effect.void],
      })
      const tracer = yield* OtlpTracer.make({
        url: `${options.endpoint}/v1/traces`,
        resource: resourceOptions,
        headers: options.headers,
        exportInterval: spanInterval,
        shutdownTimeout,
      })
      const registry = Context.get(recorder.context, Metric.MetricRegistry)
      const metricInterval = Duration.millis(options.metricIntervalMs)
      yield* OtlpMetrics.make({
        url: `${options.endpoint}/v1/metrics`,
        resource: resourceOptions,
        headers: options.headers,
        exportInterval: metricInterval,
        shutdownTimeout,
      }).pipe(
        Effect.provideService(Metric.MetricRegistry, registry),
      )
      // The gauges are read from the store: refreshed a little more often than they are sent.
      yield* Effect.forkScoped(Effect.repeat(Metrics.refreshGauges(store, recorder), Schedule.spaced(Duration.millis(options.metricIntervalMs / 2))))
      const builder = TraceSpans.makeBuilder({ span: spans.push, log: logs.push })
      yield* Effect.forkScoped(followLog(store, (yield* store.head) + 1, "tracing", (events) => foldChunk(store, builder, events)))
      return Tracing.of({
        tracer,
        parentOf: (state) => TraceSpans.iterationParent(state.context.taskId, state.context.iteration, state.context.attempt),
        pushSpans: (batch) => {
          for (const span of batch) spans.push(span)
        },
        pushLogs: (batch) => {
          for (const record of batch) logs.push(record)
        },
      })
    }),
  ).pipe(Layer.provide(Layer.mergeAll(transport(options), OtlpExporter.layerFlusher)))

/** The HTTP client (Node's `http`: undici's crashes on Node 20) and the body encoding. */
const transport = (options: OtlpOptions) =>
  Layer.mergeAll(NodeHttpClient.layerNodeHttp, options.protocol === "protobuf" ? OtlpSerialization.layerProtobuf : OtlpSerialization.layerJson)

/**
 * Adds an OTLP logger beside the console one: the daemon's Effect logs go to
 * `<endpoint>/v1/logs` too, with the current span's ids when there is one
 * (task code's `Effect.log` in an inline iteration). Provide it below every
 * other layer of the daemon.
 */
export const loggerLayer = (options: OtlpOptions): Layer.Layer<OtlpExporter.Flusher> =>
  OtlpLogger.layer({
    url: `${options.endpoint}/v1/logs`,
    resource: { serviceName: options.serviceName, serviceVersion: version },
    headers: options.headers,
    exportInterval: Duration.millis(options.spanIntervalMs),
    shutdownTimeout,
    mergeWithExisting: true,
  }).pipe(Layer.provide(transport(options)))
