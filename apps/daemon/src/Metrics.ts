/**
 * The daemon's metrics, in Prometheus text format (`GET /metrics`, served by
 * web mode and by the metrics-only listener of `--metrics`, MetricsServer.ts).
 *
 * Built on effect's own `Metric` (counters, gauges, histograms) in a private
 * `MetricRegistry` (so the output holds this daemon's series and nothing
 * else a library registers) and rendered by effect's
 * `observability/PrometheusMetrics`.
 *
 * Where the numbers come from, so that the hot path is untouched:
 * - task metrics are derived from committed events: `layer` subscribes to the
 *   store from its head when it is built (before the scheduler starts, so
 *   recovery's events are seen) and a fiber folds each event into counters
 *   and histograms ({@link Recorder.record}: plain synchronous code, a few
 *   map look-ups per event). A task triggered before this daemon started is
 *   looked up once (`getTask`) the first time one of its events counts.
 * - store metrics come from the store's `onBatch` callback (one call per
 *   group commit, {@link Recorder.onBatch}).
 * - gauges (running iterations, queue depth, store health) are read when
 *   scraped, from the store's in-memory status counts: exact across restarts
 *   and free when nothing scrapes.
 *
 * Only a daemon that serves metrics (`--http` or `--metrics`) keeps them:
 * otherwise it is built with `layerOff`, which follows nothing.
 *
 * Lifecycle of `layer`: read the head → fork the follower (scoped: it stops
 * with the daemon) → serve `scrape`. A subscription that fails (a store
 * error) is logged and resumed after the last event it folded, a second later.
 *
 * Side of the hot-path line (DESIGN 7): the folding is synchronous code
 * behind `Recorder`; the follower fiber and `scrape` are Effect.
 */
import { EventStore, type StoreHealth, TaskEvent, TaskMachine } from "@tasklane/core"
import { Context, Effect, Layer, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { followLog } from "./internal/FollowLog.ts"

/** Outcome label of `tasklane_tasks_finished_total`: the task's final status. */
export type FinishedOutcome = "done" | "error" | "aborted" | "maxIterations"

/** Outcome label of `tasklane_iteration_duration_seconds`: how the iteration ended. */
export type IterationOutcome = "continue" | "retry" | FinishedOutcome

const durationBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900]
const waitBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600]
const batchBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
const commitBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/** One series per distinct label values, made once and kept (effect keys a series by its metric object's attributes). */
const family = <M>(make: (attributes: Record<string, string>) => M, labels: ReadonlyArray<string>) => {
  const series = new Map<string, M>()
  return (...values: ReadonlyArray<string>): M => {
    const key = values.join("\u0000")
    let metric = series.get(key)
    if (metric === undefined) {
      metric = make(Object.fromEntries(labels.map((label, i) => [label, values[i]!])))
      series.set(key, metric)
    }
    return metric
  }
}

const counters = (name: string, description: string, labels: ReadonlyArray<string>) =>
  family((attributes) => Metric.counter(name, { description, attributes, incremental: true }), labels)

const gauges = (name: string, description: string, labels: ReadonlyArray<string>) =>
  family((attributes) => Metric.gauge(name, { description, attributes }), labels)

const histograms = (name: string, description: string, boundaries: ReadonlyArray<number>, labels: ReadonlyArray<string>) =>
  family((attributes) => Metric.histogram(name, { description, attributes, boundaries }), labels)

/** What the recorder remembers of a live task: its definition, and the times its open waits began. */
interface Track {
  readonly definition: string
  /** When the task became due for its first iteration (trigger, or the end of its delay); undefined once started. */
  dueAt: number | undefined
  /** When the iteration now running started; undefined between iterations. */
  startedAt: number | undefined
}

/** Events that update a task metric, so need the task's definition. */
const counted: ReadonlySet<TaskEvent.EventType> = new Set<TaskEvent.EventType>(["IterationStarted", ...TaskEvent.outcomeTypes, "HookFailed"])

/**
 * The metric families and the synchronous code that updates them: from
 * committed events (`record`), from the store's group commits (`onBatch`) and
 * from the status counts read at scrape time (`setGauges`).
 */
export const makeRecorder = () => {
  const context = Context.make(Metric.MetricRegistry, new Map())
  const triggered = counters("tasklane_tasks_triggered_total", "Tasks triggered (TaskTriggered committed)", ["definition"])
  const finished = counters("tasklane_tasks_finished_total", "Tasks that reached a final status", ["definition", "outcome"])
  const failures = counters(
    "tasklane_iteration_failures_total",
    "Iterations that failed (TaskFailed or RetryScheduled), by reason: error, thrown, timeout, invalidResult, unknownDefinition, uncaught, workerDied, crashedDaemon",
    ["definition", "reason"],
  )
  const hookFailures = counters("tasklane_hook_failures_total", "Lifecycle hooks that threw (HookFailed)", ["definition", "hook"])
  const duration = histograms(
    "tasklane_iteration_duration_seconds",
    "Seconds from IterationStarted to the event that ended the iteration",
    durationBoundaries,
    ["definition", "outcome"],
  )
  const wait = histograms(
    "tasklane_task_start_wait_seconds",
    "Seconds from a task's trigger (or the end of its delay) to the start of its first iteration",
    waitBoundaries,
    ["definition"],
  )
  const running = gauges("tasklane_running_iterations", "Iterations running now", [])()
  const queue = gauges("tasklane_queue_depth", "Tasks waiting for an iteration: triggered (never started) or continue (between iterations, possibly until a time)", ["status"])
  const writable = gauges("tasklane_store_writable", "1 while the event store accepts writes, 0 while it is degraded or failed", [])()
  const batchEvents = histograms("tasklane_store_batch_events", "Events written per group commit (one synced write)", batchBoundaries, [])()
  const commitSeconds = histograms("tasklane_store_commit_seconds", "Seconds each group commit's synced write took", commitBoundaries, [])()
  const appends = counters("tasklane_store_appends_total", "Appends taken by the store's writer, by result", ["result"])
  const accepted = appends("accepted")
  const refused = appends("refused")

  const tracks = new Map<string, Track>()
  const seconds = (from: number, to: number) => Math.max(0, to - from) / 1000

  const endIteration = (track: Track, at: number, outcome: IterationOutcome) => {
    if (track.startedAt !== undefined) duration(track.definition, outcome).updateUnsafe(seconds(track.startedAt, at), context)
    track.startedAt = undefined
  }

  const finish = (stream: string, track: Track, outcome: FinishedOutcome, hookDue: boolean | undefined) => {
    finished(track.definition, outcome).updateUnsafe(1, context)
    track.dueAt = undefined
    // The definition is kept only while a hook may still report (HookFailed needs it).
    if (hookDue === false) tracks.delete(stream)
  }

  return {
    /** The private registry, for `PrometheusMetrics.formatUnsafe`. */
    context,
    /** Whether `stream`'s definition is known (else `record` needs `definition` for a counted event). */
    knows: (stream: string): boolean => tracks.has(stream),
    /** Whether this event updates a task metric (so its task's definition must be known). */
    counts: (event: TaskEvent.RecordedEvent): boolean => counted.has(event.event._tag),
    /** Folds one committed event; `definition` is used for a task whose TaskTriggered this recorder did not see. */
    record: (recorded: TaskEvent.RecordedEvent, definition?: string): void => {
      const { event, stream, at } = recorded
      if (event._tag === "TaskTriggered") {
        triggered(event.definitionId).updateUnsafe(1, context)
        tracks.set(stream, { definition: event.definitionId, dueAt: Math.max(at, event.wakeAt ?? 0), startedAt: undefined })
        return
      }
      let track = tracks.get(stream)
      if (track === undefined) {
        if (definition === undefined || !counted.has(event._tag)) return
        track = { definition, dueAt: undefined, startedAt: undefined }
        tracks.set(stream, track)
      }
      switch (event._tag) {
        case "IterationStarted":
          if (track.dueAt !== undefined) wait(track.definition).updateUnsafe(seconds(track.dueAt, at), context)
          track.dueAt = undefined
          track.startedAt = at
          return
        case "IterationContinued":
          return endIteration(track, at, "continue")
        case "RetryScheduled":
          failures(track.definition, event.reason).updateUnsafe(1, context)
          return endIteration(track, at, "retry")
        case "IterationInterrupted":
          // The daemon died or stopped: the time it was down is no iteration's duration.
          track.startedAt = undefined
          return
        case "MaxIterationsReached":
          endIteration(track, at, "maxIterations")
          return finish(stream, track, "maxIterations", event.hookDue)
        case "TaskDone":
          endIteration(track, at, "done")
          return finish(stream, track, "done", event.hookDue)
        case "TaskFailed":
          failures(track.definition, event.reason).updateUnsafe(1, context)
          endIteration(track, at, "error")
          return finish(stream, track, "error", event.hookDue)
        case "TaskAborted":
          endIteration(track, at, "aborted")
          return finish(stream, track, "aborted", event.hookDue)
        case "HookFailed":
          hookFailures(track.definition, event.hook).updateUnsafe(1, context)
          tracks.delete(stream)
          return
        case "HookCompleted":
        case "TaskDeleted":
          tracks.delete(stream)
          return
      }
    },
    /** The store's `onBatch` callback: batch size, commit time, appends taken and refused. */
    onBatch: (info: EventStore.BatchInfo): void => {
      batchEvents.updateUnsafe(info.events, context)
      commitSeconds.updateUnsafe(info.durationMs / 1000, context)
      accepted.updateUnsafe(info.appends - info.refused, context)
      refused.updateUnsafe(info.refused, context)
    },
    /** Sets the gauges read at scrape time: status counts and store health. */
    setGauges: (counts: Readonly<Record<TaskMachine.TaskStatus, number>> | undefined, health: StoreHealth.StoreHealth): void => {
      if (counts !== undefined) {
        running.updateUnsafe(counts.running, context)
        queue("triggered").updateUnsafe(counts.triggered, context)
        queue("continue").updateUnsafe(counts.continue, context)
      }
      writable.updateUnsafe(health.status === "ok" ? 1 : 0, context)
    },
    /** Tasks whose definition is remembered (live tasks, and finished ones with a hook due). */
    tracked: (): number => tracks.size,
  }
}

/** The metric families of one daemon: see {@link makeRecorder}. */
export type Recorder = ReturnType<typeof makeRecorder>

/** The metrics service: the current Prometheus text. */
export class Metrics extends Context.Service<Metrics, {
  /** Every series in Prometheus text format (0.0.4), gauges read now. */
  readonly scrape: Effect.Effect<string>
}>()("@tasklane/daemon/Metrics") {}

/** The `Content-Type` of {@link Metrics} `scrape` text. */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"

/** Folds `events` (one committed chunk), looking up the definitions of tasks triggered before this daemon started. */
const foldChunk = (store: EventStore.EventStore["Service"], recorder: Recorder, events: ReadonlyArray<TaskEvent.RecordedEvent>) => {
  let unknown: Set<string> | undefined
  const seen = new Set<string>()
  for (const event of events) {
    if (event.event._tag === "TaskTriggered") seen.add(event.stream)
    else if (recorder.counts(event) && !seen.has(event.stream) && !recorder.knows(event.stream)) (unknown ??= new Set()).add(event.stream)
  }
  if (unknown === undefined) {
    for (const event of events) recorder.record(event)
    return Effect.void
  }
  return Effect.gen(function*() {
    const definitions = new Map<string, string>()
    for (const stream of unknown) {
      const state = yield* Effect.orElseSucceed(store.getTask(stream as never), () => undefined)
      definitions.set(stream, state?.context.definitionId ?? "unknown")
    }
    for (const event of events) recorder.record(event, definitions.get(event.stream))
  })
}

/** Reads the gauges' values (status counts, store health) into `recorder` (at scrape time, and before each OTLP push). */
export const refreshGauges = (store: EventStore.EventStore["Service"], recorder: Recorder): Effect.Effect<void> =>
  Effect.gen(function*() {
    const counts = yield* Effect.orElseSucceed(store.countByStatus, () => undefined)
    recorder.setGauges(counts, yield* store.health)
  })

/**
 * Metrics over `recorder` (whose `onBatch` the store was given): follows the
 * store from its head and serves `scrape`. Build it before the scheduler.
 */
export const layer = (recorder: Recorder): Layer.Layer<Metrics, never, EventStore.EventStore> =>
  Layer.effect(Metrics)(
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const head = yield* store.head
      yield* Effect.forkScoped(followLog(store, head + 1, "metrics", (events) => foldChunk(store, recorder, events)))
      return Metrics.of({
        scrape: Effect.andThen(refreshGauges(store, recorder), Effect.sync(() => PrometheusMetrics.formatUnsafe(recorder.context))),
      })
    }),
  )

/** For a daemon that serves no metrics (neither `--http` nor `--metrics`): follows nothing, scrapes nothing. */
export const layerOff: Layer.Layer<Metrics> = Layer.succeed(Metrics)(Metrics.of({ scrape: Effect.succeed("") }))
