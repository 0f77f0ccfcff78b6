/**
 * Metrics.ts in process: the recorder's fold of committed events into exact
 * values (times from the events' own `at`), what it forgets, and the layer over
 * a memory store, including a task triggered before the metrics started
 * (its definition looked up once). The daemon end to end, with promtool and
 * a real Prometheus, is test/daemon/Metrics.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventStore, Ids, StoreHealth, TaskEvent } from "@tasklane/core"
import { LevelEventStore } from "@tasklane/core/level"
import { Context, Effect, Layer } from "effect"
import { PrometheusMetrics } from "effect/observability"
import * as Metrics from "../src/Metrics.ts"

const task = (n: number) => `task-${n}` as Ids.TaskId
let position = 0

/** A committed event of `stream` at time `at` (version and position are not read by the recorder). */
const recorded = (stream: Ids.TaskId, at: number, event: TaskEvent.TaskEvent): TaskEvent.RecordedEvent => {
  position += 1
  return { id: `e${position}` as Ids.EventId, stream, version: position, position, at, event }
}

const triggered = (stream: Ids.TaskId, definitionId: string, wakeAt?: number) =>
  new TaskEvent.TaskTriggered({
    taskId: stream,
    definitionId: definitionId as Ids.DefinitionId,
    input: {},
    maxIterations: 10,
    ...(wakeAt === undefined ? {} : { wakeAt }),
  })
const started = (iteration: number, attempt = 1) => new TaskEvent.IterationStarted({ iteration, attempt })
const failed = (reason: TaskEvent.FailureReason, hookDue?: boolean) =>
  new TaskEvent.TaskFailed({ error: { message: "no" }, reason, ...(hookDue === undefined ? {} : { hookDue }) })

/** The recorder's text, parsed: `name{labels}` → value. */
const samples = (text: string) =>
  new Map(text.trim().split("\n").filter((line) => !line.startsWith("#")).map((line) => {
    const at = line.lastIndexOf(" ")
    return [line.slice(0, at), Number(line.slice(at + 1))] as const
  }))

describe("Metrics.makeRecorder", () => {
  it("times iterations and the first start from the events' own times, and counts outcomes, failures and hooks", () => {
    const recorder = Metrics.makeRecorder()
    const a = task(1)
    const b = task(2)
    for (
      const event of [
        // a: delayed until 3,000, starts at 3,500; continues after 250 ms; retried after 1 s; done after 2 s.
        recorded(a, 1_000, triggered(a, "crawl", 3_000)),
        recorded(a, 3_500, started(1)),
        recorded(a, 3_750, new TaskEvent.IterationContinued({ input: {} })),
        recorded(a, 3_800, started(2)),
        recorded(a, 4_800, new TaskEvent.RetryScheduled({ error: { message: "later" }, reason: "timeout", wakeAt: 5_000 })),
        recorded(a, 5_000, started(2, 2)),
        recorded(a, 7_000, new TaskEvent.TaskDone({ hookDue: true })),
        recorded(a, 7_100, new TaskEvent.HookFailed({ hook: "onDone", error: { message: "hook" } })),
        // b: interrupted by a crash (no duration measured), then fails with no hook due.
        recorded(b, 10_000, triggered(b, "mail")),
        recorded(b, 10_000, started(1)),
        recorded(b, 60_000, new TaskEvent.IterationInterrupted({ iteration: 1, reason: "crash" })),
        recorded(b, 60_010, started(1, 2)),
        recorded(b, 60_110, failed("thrown", false)),
      ]
    ) recorder.record(event)
    recorder.onBatch({ appends: 5, events: 12, refused: 1, scheduleRecords: 0, durationMs: 4 })
    recorder.setGauges(
      { triggered: 2, running: 3, continue: 4, done: 0, error: 0, aborted: 0, maxIterations: 0 },
      new StoreHealth.StoreHealth({ status: "degraded", damage: [] }),
    )
    const values = samples(PrometheusMetrics.formatUnsafe(recorder.context))
    expect(Object.fromEntries(values)).toMatchObject({
      'tasklane_tasks_triggered_total{definition="crawl"}': 1,
      'tasklane_tasks_triggered_total{definition="mail"}': 1,
      'tasklane_task_start_wait_seconds_sum{definition="crawl"}': 0.5,
      'tasklane_task_start_wait_seconds_count{definition="crawl"}': 1,
      'tasklane_task_start_wait_seconds_sum{definition="mail"}': 0,
      'tasklane_iteration_duration_seconds_sum{definition="crawl",outcome="continue"}': 0.25,
      'tasklane_iteration_duration_seconds_sum{definition="crawl",outcome="retry"}': 1,
      'tasklane_iteration_duration_seconds_sum{definition="crawl",outcome="done"}': 2,
      'tasklane_iteration_duration_seconds_bucket{definition="crawl",outcome="done",le="1"}': 0,
      'tasklane_iteration_duration_seconds_bucket{definition="crawl",outcome="done",le="2.5"}': 1,
      'tasklane_iteration_duration_seconds_sum{definition="mail",outcome="error"}': 0.1,
      'tasklane_iteration_duration_seconds_count{definition="mail",outcome="error"}': 1,
      'tasklane_iteration_failures_total{definition="crawl",reason="timeout"}': 1,
      'tasklane_iteration_failures_total{definition="mail",reason="thrown"}': 1,
      'tasklane_tasks_finished_total{definition="crawl",outcome="done"}': 1,
      'tasklane_tasks_finished_total{definition="mail",outcome="error"}': 1,
      'tasklane_hook_failures_total{definition="crawl",hook="onDone"}': 1,
      "tasklane_store_batch_events_sum": 12,
      "tasklane_store_commit_seconds_sum": 0.004,
      'tasklane_store_appends_total{result="accepted"}': 4,
      'tasklane_store_appends_total{result="refused"}': 1,
      "tasklane_running_iterations": 3,
      'tasklane_queue_depth{status="triggered"}': 2,
      'tasklane_queue_depth{status="continue"}': 4,
      "tasklane_store_writable": 0,
    })
    // The crash's downtime is no iteration's duration: only the re-run was measured.
    expect(values.get('tasklane_iteration_duration_seconds_count{definition="mail",outcome="continue"}')).toBeUndefined()
    // Finished tasks are forgotten once no hook can report any more.
    expect(recorder.tracked()).toBe(0)
  })

  it("keeps a finished task's definition while its hook is due, and forgets it when the hook completes", () => {
    const recorder = Metrics.makeRecorder()
    const a = task(3)
    recorder.record(recorded(a, 0, triggered(a, "crawl")))
    recorder.record(recorded(a, 1, started(1)))
    recorder.record(recorded(a, 2, new TaskEvent.TaskDone({ hookDue: true })))
    expect(recorder.tracked()).toBe(1)
    recorder.record(recorded(a, 3, new TaskEvent.HookCompleted({ hook: "onDone" })))
    expect(recorder.tracked()).toBe(0)
  })
})

describe("Metrics.layer", () => {
  it.effect("follows the store from its head: a task triggered before it started is counted from its next event, by its definition", () =>
    Effect.gen(function*() {
      const recorder = Metrics.makeRecorder()
      const store = yield* Layer.build(LevelEventStore.layerMemoryWith({ onBatch: recorder.onBatch }))
      const es = Context.get(store, EventStore.EventStore)
      const old = task(10)
      const fresh = task(11)
      const events = (...list: ReadonlyArray<TaskEvent.TaskEvent>) =>
        list.map((event, i) => ({ id: Ids.uuidv7(Date.now(), new Uint8Array(10).fill(i)) as Ids.EventId, at: Date.now(), event }))
      const append = (stream: Ids.TaskId, expectedVersion: EventStore.ExpectedVersion, ...list: ReadonlyArray<TaskEvent.TaskEvent>) =>
        es.append({ stream, expectedVersion, events: events(...list) })
      yield* append(old, "noStream", triggered(old, "legacy"), started(1))

      const metrics = yield* Layer.build(Metrics.layer(recorder)).pipe(Effect.provide(store))
      yield* append(old, 2, failed("error"))
      yield* append(fresh, "noStream", triggered(fresh, "legacy"), started(1), new TaskEvent.TaskDone({ hookDue: false }))
      const scrape = Context.get(metrics, Metrics.Metrics).scrape
      const values = yield* Effect.gen(function*() {
        for (;;) {
          const text = samples(yield* scrape)
          if (text.has('tasklane_tasks_finished_total{definition="legacy",outcome="done"}')) return text
          yield* Effect.sleep("10 millis")
        }
      }).pipe(Effect.timeout("5 seconds"))
      expect(values.get('tasklane_tasks_finished_total{definition="legacy",outcome="error"}')).toBe(1)
      // Only the trigger it saw: the old task's was before the metrics started.
      expect(values.get('tasklane_tasks_triggered_total{definition="legacy"}')).toBe(1)
      // Its iteration started before: no duration for it.
      expect(values.get('tasklane_iteration_duration_seconds_count{definition="legacy",outcome="error"}')).toBeUndefined()
      expect(values.get('tasklane_iteration_duration_seconds_count{definition="legacy",outcome="done"}')).toBe(1)
      expect(values.get("tasklane_store_writable")).toBe(1)
      expect(values.get('tasklane_queue_depth{status="triggered"}')).toBe(0)
      // Every commit, the one before the metrics layer too.
      expect(values.get("tasklane_store_commit_seconds_count")).toBe(3)
    }).pipe(Effect.scoped))
})
