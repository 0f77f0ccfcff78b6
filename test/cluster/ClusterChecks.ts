/**
 * The cluster crash suite's verdicts, as pure functions of what the store
 * holds afterwards (the global log, the stored projections) and what the
 * harness recorded (acknowledged triggers, which daemon process was which
 * node when, the hook file). Each check answers a list of problems, one
 * readable line each, so that a failing run says what broke and where; an
 * empty list is a pass. ClusterChecks.test.ts feeds each one a broken
 * history by hand, so none of them can pass by construction.
 *
 * Ownership of an attempt: in cluster mode `IterationStarted` carries the
 * `node` that claimed it, and the node's process at that moment is the one
 * the harness started under that id. Before cluster mode (no `node`), the
 * owner is whichever daemon process was alive at the start's time: with one
 * daemon that is exact; with several it only narrows the candidates.
 */
import { Replay, type TaskEvent } from "@tasklane/core"

type Recorded = TaskEvent.RecordedEvent

/** One daemon process the harness started: the node id it ran as and when it lived (ms, the daemons' clock). */
export interface Incarnation {
  readonly node: string
  readonly pid: number
  readonly spawnedAt: number
  /** When the harness saw it exit; undefined while it runs. */
  readonly exitedAt?: number | undefined
}

/** A SIGKILL or SIGSTOP (`paused`) of one daemon process, at `at`. */
export interface Incident {
  readonly at: number
  readonly pid: number
  readonly paused?: boolean
}

const finalTags = new Set(["TaskDone", "TaskFailed", "TaskAborted", "MaxIterationsReached"])
/** Events that end the attempt an `IterationStarted` began. */
const attemptEnds = new Set([...finalTags, "IterationContinued", "RetryScheduled", "IterationInterrupted"])
const finalStatuses = new Set(["done", "error", "aborted", "maxIterations"])

const data = (recorded: Recorded): Record<string, unknown> => recorded.event as unknown as Record<string, unknown>
const started = (recorded: Recorded) => data(recorded) as { readonly iteration: number; readonly attempt: number; readonly node?: string }

/** The log grouped by stream, each in log order. */
export const byStream = (log: ReadonlyArray<Recorded>): Map<string, Array<Recorded>> => {
  const streams = new Map<string, Array<Recorded>>()
  for (const recorded of log) {
    const events = streams.get(recorded.stream)
    if (events === undefined) streams.set(recorded.stream, [recorded])
    else events.push(recorded)
  }
  return streams
}

/** Positions must be exactly 1..head, in order; stream versions 1..n. */
export const gaps = (log: ReadonlyArray<Recorded>, head: number): Array<string> => {
  const problems: Array<string> = []
  log.forEach((recorded, i) => {
    if (recorded.position !== i + 1 && problems.length < 10) problems.push(`log[${i}] has position ${recorded.position}, want ${i + 1}`)
  })
  if (log.length !== head) problems.push(`the log holds ${log.length} events, the head says ${head}`)
  for (const [stream, events] of byStream(log)) {
    const bad = events.findIndex((recorded, k) => recorded.version !== k + 1)
    if (bad !== -1) problems.push(`${stream}: event ${bad} has version ${events[bad]!.version}, want ${bad + 1}`)
  }
  return problems
}

/** A task's stored state as the checks need it. */
export type Stored = Pick<Replay.TaskState, "status"> & { readonly context: { readonly pendingHook?: unknown } }

/** Every acknowledged task exists, is final, and has no hook pending. */
export const unsettled = (acknowledged: Iterable<string>, stored: ReadonlyMap<string, Stored | undefined>): Array<string> => {
  const problems: Array<string> = []
  for (const taskId of acknowledged) {
    const state = stored.get(taskId)
    if (state === undefined) problems.push(`${taskId}: acknowledged, but not in the store`)
    else if (!finalStatuses.has(state.status)) problems.push(`${taskId}: ${state.status}, not final`)
    else if (state.context.pendingHook !== undefined) problems.push(`${taskId}: ${state.status}, hook ${String(state.context.pendingHook)} still pending`)
  }
  return problems
}

/** No stream has more (or fewer) than one final event. */
export const finalsOnce = (streams: ReadonlyMap<string, ReadonlyArray<Recorded>>): Array<string> => {
  const problems: Array<string> = []
  for (const [stream, events] of streams) {
    const finals = events.filter((recorded) => finalTags.has(recorded.event._tag))
    if (finals.length !== 1) problems.push(`${stream}: ${finals.length} final events (${finals.map((f) => f.event._tag).join(", ")})`)
  }
  return problems
}

/**
 * Idempotency keys hold across daemons and retries: no key starts two
 * streams, and every stream is an acknowledged task (a trigger resent after a
 * lost reply must find the first task, not make another).
 */
export const strayStreams = (streams: ReadonlyMap<string, ReadonlyArray<Recorded>>, acknowledged: ReadonlySet<string>): Array<string> => {
  const problems: Array<string> = []
  const byKey = new Map<string, Array<string>>()
  for (const [stream, events] of streams) {
    const trigger = events[0]
    const key = trigger?.event._tag === "TaskTriggered" ? (data(trigger) as { idempotencyKey?: string }).idempotencyKey : undefined
    if (key !== undefined) byKey.set(key, [...(byKey.get(key) ?? []), stream])
    if (!acknowledged.has(stream)) problems.push(`${stream}: in the log (key ${key ?? "none"}, first event ${trigger?.event._tag ?? "none"}), never acknowledged`)
  }
  for (const [key, ids] of byKey) if (ids.length > 1) problems.push(`idempotency key ${key} started ${ids.length} streams: ${ids.join(", ")}`)
  return problems
}

/** The processes that may have owned an attempt started at `at` (by `node` when the event names one). */
export const owners = (incarnations: ReadonlyArray<Incarnation>, at: number, node: string | undefined): Array<Incarnation> =>
  incarnations.filter((i) => (node === undefined || i.node === node) && i.spawnedAt <= at && at <= (i.exitedAt ?? Infinity))

/** The pid a task's event reports (TaskDone's output, TaskLogged's data), if any. */
const reportedPid = (recorded: Recorded): number | undefined => {
  const body = data(recorded)
  const carrier = recorded.event._tag === "TaskDone" ? body.output : recorded.event._tag === "TaskLogged" ? body.data : undefined
  const pid = (carrier as { pid?: unknown } | undefined)?.pid
  return typeof pid === "number" ? pid : undefined
}

/**
 * No event was written by a superseded attempt: every pid-bearing event lies
 * inside an open attempt and reports the pid of a process that owned that
 * attempt. A result after its attempt ended (interrupted, say) or from another
 * process is a write that fencing should have refused.
 */
export const supersededWrites = (
  streams: ReadonlyMap<string, ReadonlyArray<Recorded>>,
  incarnations: ReadonlyArray<Incarnation>,
): Array<string> => {
  const problems: Array<string> = []
  for (const [stream, events] of streams) {
    let attempt: { readonly start: Recorded; readonly pids: ReadonlyArray<number> } | undefined
    for (const recorded of events) {
      const tag = recorded.event._tag
      if (tag === "IterationStarted") {
        const { node } = started(recorded)
        const pids = owners(incarnations, recorded.at, node).map((i) => i.pid)
        if (pids.length === 0) problems.push(`${stream}@${recorded.version}: no daemon process was node ${node ?? "(any)"} at ${recorded.at}`)
        attempt = { start: recorded, pids }
        continue
      }
      const pid = reportedPid(recorded)
      if (pid !== undefined) {
        if (attempt === undefined) problems.push(`${stream}@${recorded.version}: ${tag} from pid ${pid} outside any attempt`)
        else if (!attempt.pids.includes(pid)) {
          const { iteration, attempt: n } = started(attempt.start)
          problems.push(`${stream}@${recorded.version}: ${tag} from pid ${pid}, but iteration ${iteration} attempt ${n} belonged to pid ${attempt.pids.join("/") || "none"}`)
        }
      }
      if (attemptEnds.has(tag)) attempt = undefined
    }
  }
  return problems
}

/** Interrupted iterations, and how many of them ran again. */
export interface Interrupts {
  readonly interrupted: number
  readonly rerun: number
  readonly problems: Array<string>
}

/**
 * Every IterationInterrupted is followed by an IterationStarted of the same
 * iteration with the next attempt, unless the task then ended aborted (an
 * abort requested before the re-run ends it instead; DESIGN §4).
 */
export const interruptsRerun = (streams: ReadonlyMap<string, ReadonlyArray<Recorded>>): Interrupts => {
  const problems: Array<string> = []
  let interrupted = 0
  let rerun = 0
  for (const [stream, events] of streams) {
    events.forEach((recorded, k) => {
      if (recorded.event._tag !== "IterationInterrupted") return
      interrupted++
      const { iteration } = data(recorded) as { iteration: number }
      const before = events.slice(0, k).findLast((e) => e.event._tag === "IterationStarted")
      const next = events.slice(k + 1).find((e) => e.event._tag === "IterationStarted" || finalTags.has(e.event._tag))
      if (next?.event._tag === "IterationStarted") {
        const again = started(next)
        const want = (before === undefined ? 0 : started(before).attempt) + 1
        if (again.iteration === iteration && again.attempt === want) rerun++
        else problems.push(`${stream}@${recorded.version}: interrupted iteration ${iteration} went on as iteration ${again.iteration} attempt ${again.attempt}, want attempt ${want}`)
      } else if (next?.event._tag !== "TaskAborted") {
        problems.push(`${stream}@${recorded.version}: interrupted iteration ${iteration} never ran again (then: ${next?.event._tag ?? "nothing"})`)
      }
    })
  }
  return { interrupted, rerun, problems }
}

/** Each history folds (Replay.replay) to exactly its stored projection, compared as JSON. */
export const replayMismatches = (
  streams: ReadonlyMap<string, ReadonlyArray<Recorded>>,
  stored: ReadonlyMap<string, unknown>,
): Array<string> => {
  const problems: Array<string> = []
  for (const [stream, events] of streams) {
    const replayed = Replay.replay(events)
    const projection = stored.get(stream)
    if (replayed instanceof Replay.ReplayError) problems.push(`${stream}: replay fails: ${replayed.message}`)
    else if (JSON.stringify(replayed) !== JSON.stringify(projection)) {
      problems.push(`${stream}: replay differs from the projection:\n  replayed ${JSON.stringify(replayed)}\n  stored   ${JSON.stringify(projection)}`)
    }
  }
  return problems
}

/** Hook executions per task, from the hook file's `<taskId> <pid>` lines. */
export const hookRuns = (file: string): Map<string, number> => {
  const runs = new Map<string, number>()
  for (const line of file.split("\n")) {
    const taskId = line.split(" ")[0]
    if (taskId) runs.set(taskId, (runs.get(taskId) ?? 0) + 1)
  }
  return runs
}

/**
 * Due hooks are recorded exactly once, after the final event; a task whose
 * hook writes the hook file (`writers`) has at least one line there when its
 * hook was recorded completed, and no task has lines without a recorded
 * hook. More than one line is a re-run after a kill mid-hook: allowed.
 */
export const hookProblems = (
  streams: ReadonlyMap<string, ReadonlyArray<Recorded>>,
  runs: ReadonlyMap<string, number>,
  writers: ReadonlySet<string>,
): Array<string> => {
  const problems: Array<string> = []
  for (const [stream, events] of streams) {
    const final = events.find((recorded) => finalTags.has(recorded.event._tag))
    const results = events.filter((recorded) => recorded.event._tag === "HookCompleted" || recorded.event._tag === "HookFailed")
    const due = final !== undefined && (data(final) as { hookDue?: boolean }).hookDue !== false
    if (results.length !== (due ? 1 : 0)) problems.push(`${stream}: hook due ${due}, ${results.length} hook results recorded`)
    if (final !== undefined && results.some((r) => r.version < final.version)) problems.push(`${stream}: a hook result before the final event`)
    const lines = runs.get(stream) ?? 0
    const completed = results.some((r) => r.event._tag === "HookCompleted")
    if (writers.has(stream) && completed && lines === 0) problems.push(`${stream}: hook recorded completed, but it never wrote its line`)
    if (lines > 0 && !completed) problems.push(`${stream}: ${lines} hook executions, none recorded completed`)
  }
  for (const taskId of runs.keys()) if (!streams.has(taskId)) problems.push(`${taskId}: hook lines for a task not in the log`)
  return problems
}

/** What one incident cost: iterations its process was running, how many ran again, and the slowest's delay. */
export interface Failover {
  readonly running: number
  readonly rerun: number
  /** Incident to the last of those re-runs' IterationStarted, ms; undefined when none ran again. */
  readonly ms: number | undefined
  /** Incident to the last of their interrupts (the other nodes saw the death and recorded it), ms; undefined when none ran again. */
  readonly detectedMs: number | undefined
  /** Each re-run: its task, the node that ran it again, incident to its interrupt and to its IterationStarted, ms. */
  readonly reruns: ReadonlyArray<Rerun>
}

/** One iteration a dead (or fenced) process cut short, run again. */
export interface Rerun {
  readonly stream: string
  readonly node: string | undefined
  readonly interruptedMs: number
  readonly ms: number
}

/**
 * For a SIGKILL or SIGSTOP of process `incident.pid` at `incident.at`: the
 * attempts it owned that had not ended by then, and the time until every one
 * of them had started again (their next IterationStarted). For a pause, only
 * attempts interrupted while the paused process was still alive count (with
 * one daemon nothing interrupts them: a pause has no failover). Owned means the
 * start names its node (cluster mode) or, without node, that it was the only
 * daemon alive at the start.
 */
export const failover = (
  streams: ReadonlyMap<string, ReadonlyArray<Recorded>>,
  incarnations: ReadonlyArray<Incarnation>,
  incident: Incident,
): Failover => {
  // A paused process lives on: only an interrupt recorded while it was still alive is its failover (a later kill's is not).
  const diedAt = incident.paused === true ? incarnations.find((i) => i.pid === incident.pid)?.exitedAt ?? Infinity : Infinity
  let running = 0
  let rerun = 0
  let ms: number | undefined
  let detectedMs: number | undefined
  const reruns: Array<Rerun> = []
  for (const events of streams.values()) {
    events.forEach((recorded, k) => {
      if (recorded.event._tag !== "IterationStarted" || recorded.at > incident.at) return
      const candidates = owners(incarnations, recorded.at, started(recorded).node)
      if (candidates.length !== 1 || candidates[0]!.pid !== incident.pid) return
      const end = events.slice(k + 1).find((e) => attemptEnds.has(e.event._tag) || e.event._tag === "IterationStarted")
      if (end !== undefined && end.at <= incident.at) return
      running++
      // Only an interrupted attempt runs again; one that ended on its own (a zombie that woke in time) did not fail over.
      if (end?.event._tag !== "IterationInterrupted" || end.at >= diedAt) return
      const again = events.slice(events.indexOf(end) + 1).find((e) => e.event._tag === "IterationStarted")
      if (again === undefined || started(again).iteration !== started(recorded).iteration) return
      rerun++
      ms = Math.max(ms ?? 0, again.at - incident.at)
      detectedMs = Math.max(detectedMs ?? 0, end.at - incident.at)
      reruns.push({ stream: recorded.stream, node: started(again).node, interruptedMs: end.at - incident.at, ms: again.at - incident.at })
    })
  }
  return { running, rerun, ms, detectedMs, reruns }
}

/** The q-quantile (0..1) of `values` by nearest rank; undefined when empty. */
export const quantile = (values: ReadonlyArray<number>, q: number): number | undefined => {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}
