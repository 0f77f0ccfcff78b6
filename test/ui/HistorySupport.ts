/**
 * A synthetic, fold-valid history of one long task, for the History view's
 * measurements and the checkpoint unit test: ~`iterations` iterations of
 * started → progress → log → log → continue (with a short wait), a retry and
 * an interruption every 1,000 iterations, then done. Each iteration is five
 * events, so 20,000 iterations are ~100,000 events.
 */
import { HistoryFile, type Ids, TaskEvent } from "@tasklane/core/client"

/** The exported-file document of a synthetic history (`events.length` ≈ 5 × iterations + 2). */
export const syntheticHistory = (iterations: number): HistoryFile.HistoryFile => {
  const taskId = "0190b000-0000-7000-8000-000000000001" as Ids.TaskId
  const events: Array<unknown> = []
  let at = 1_700_000_000_000
  const push = (event: TaskEvent.TaskEvent, advanceMs = 3) => {
    at += advanceMs
    const version = events.length + 1
    events.push(TaskEvent.toEnvelope({ id: `0190b000-0000-7000-8000-${String(version).padStart(12, "0")}` as Ids.EventId, stream: taskId, version, position: version, at, event }))
  }
  push(new TaskEvent.TaskTriggered({ taskId, definitionId: "synthetic" as Ids.DefinitionId, input: { n: 0 }, maxIterations: iterations + 1 }))
  for (let i = 1; i <= iterations; i++) {
    push(new TaskEvent.IterationStarted({ iteration: i, attempt: 1 }), 5)
    if (i % 1000 === 500) {
      // The daemon died mid-iteration: interrupted, then the same iteration again.
      push(new TaskEvent.IterationInterrupted({ iteration: i, reason: "crash" }), 40)
      push(new TaskEvent.IterationStarted({ iteration: i, attempt: 2 }), 5)
    }
    if (i % 1000 === 0) {
      push(new TaskEvent.RetryScheduled({ error: { message: `flaky at ${i}` }, reason: "error", wakeAt: at + 50 }), 4)
      push(new TaskEvent.IterationStarted({ iteration: i, attempt: 2 }), 50)
    }
    push(new TaskEvent.ProgressUpdated({ progress: { completed: i, total: iterations } }), 2)
    push(new TaskEvent.TaskLogged({ level: "info", message: `step ${i}`, data: { i } }), 1)
    push(new TaskEvent.TaskLogged({ level: i % 97 === 0 ? "warn" : "info", message: `checked ${i}` }), 1)
    push(new TaskEvent.IterationContinued({ input: { n: i }, output: { last: i }, wakeAt: at + 10 }), 2)
  }
  push(new TaskEvent.IterationStarted({ iteration: iterations + 1, attempt: 1 }), 10)
  push(new TaskEvent.TaskDone({ output: { total: iterations }, message: "synthetic done", hookDue: false }), 3)
  return { format: HistoryFile.format, formatVersion: 1, taskId, definitionId: "synthetic", exportedAt: new Date(at).toISOString(), events }
}
