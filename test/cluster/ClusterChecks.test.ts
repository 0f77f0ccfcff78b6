/**
 * The cluster crash suite's checks against hand-made histories: each one
 * passes a sound history and fails a history broken in exactly the way it
 * is there to catch, so the suite cannot pass by checking nothing.
 */
import { Replay, type TaskEvent } from "@tasklane/core"
import { describe, expect, it } from "vitest"
import * as Checks from "./ClusterChecks.ts"

let position = 0
/** A stream's events as the store records them, positions continuing from the previous call, one ms apart from `at`. */
const stream = (id: string, at: number, events: ReadonlyArray<readonly [string, Record<string, unknown>?]>): Array<TaskEvent.RecordedEvent> =>
  events.map(([tag, body], k) => ({
    id: `${id}-${k}` as never,
    stream: id as never,
    version: k + 1,
    position: ++position,
    at: at + k,
    event: { _tag: tag, ...body } as never,
  }))

const triggered = ["TaskTriggered", { definitionId: "clSteps", name: "x", input: {} }] as const
const start = (iteration: number, attempt: number, node?: string) => ["IterationStarted", { iteration, attempt, ...(node === undefined ? {} : { node }) }] as const
const done = (pid: number, hookDue = false) => ["TaskDone", { output: { pid }, hookDue }] as const
const logged = (pid: number) => ["TaskLogged", { level: "info", message: "step", data: { pid } }] as const
const interrupted = (iteration: number) => ["IterationInterrupted", { iteration, reason: "crash" }] as const
const continued = ["IterationContinued", { input: {} }] as const

const streams = (...lists: ReadonlyArray<ReadonlyArray<TaskEvent.RecordedEvent>>) => Checks.byStream(lists.flat())

/** Two processes of node n1 (a kill at 1,000 and a restart), one of n2. */
const incarnations: ReadonlyArray<Checks.Incarnation> = [
  { node: "n1", pid: 100, spawnedAt: 0, exitedAt: 1_000 },
  { node: "n1", pid: 101, spawnedAt: 1_100 },
  { node: "n2", pid: 200, spawnedAt: 0 },
]

describe("cluster checks", () => {
  it("gaps: positions must be 1..head and versions 1..n", () => {
    position = 0
    const log = [...stream("a", 10, [triggered, start(1, 1), done(1)]), ...stream("b", 10, [triggered])]
    expect(Checks.gaps(log, 4)).toEqual([])
    expect(Checks.gaps(log, 5)).toEqual(["the log holds 4 events, the head says 5"])
    const holed = [log[0]!, ...log.slice(2)]
    expect(Checks.gaps(holed, 4).join("\n")).toContain("has position 3, want 2")
    const versions = log.map((e, i) => (i === 2 ? { ...e, version: 7 } : e))
    expect(Checks.gaps(versions, 4)).toEqual(["a: event 2 has version 7, want 3"])
  })

  it("unsettled: every acknowledged task is stored, final, with no hook pending", () => {
    const stored = new Map<string, Checks.Stored | undefined>([
      ["a", { status: "done", context: {} }],
      ["b", { status: "running", context: {} }],
      ["c", { status: "error", context: { pendingHook: "onError" } }],
    ])
    expect(Checks.unsettled(["a"], stored)).toEqual([])
    expect(Checks.unsettled(["a", "b", "c", "d"], stored)).toEqual([
      "b: running, not final",
      "c: error, hook onError still pending",
      "d: acknowledged, but not in the store",
    ])
  })

  it("finalsOnce: exactly one final event per stream", () => {
    const ok = stream("a", 10, [triggered, start(1, 1), done(1)])
    const twice = stream("b", 10, [triggered, start(1, 1), done(1), ["TaskFailed", { error: { message: "x" }, reason: "error" }]])
    const none = stream("c", 10, [triggered, start(1, 1)])
    expect(Checks.finalsOnce(streams(ok))).toEqual([])
    expect(Checks.finalsOnce(streams(ok, twice, none))).toEqual(["b: 2 final events (TaskDone, TaskFailed)", "c: 0 final events ()"])
  })

  it("strayStreams: one stream per idempotency key, each one acknowledged", () => {
    const keyed = (key: string) => ["TaskTriggered", { definitionId: "clQuick", input: {}, idempotencyKey: key }] as const
    const a = stream("a", 10, [keyed("k1"), start(1, 1), done(1)])
    const b = stream("b", 10, [keyed("k2")])
    expect(Checks.strayStreams(streams(a, b), new Set(["a", "b"]))).toEqual([])
    const twin = stream("c", 10, [keyed("k1")])
    expect(Checks.strayStreams(streams(a, b, twin), new Set(["a", "b"]))).toEqual([
      "c: in the log (key k1, first event TaskTriggered), never acknowledged",
      "idempotency key k1 started 2 streams: a, c",
    ])
  })

  it("supersededWrites: results come from the process that owned the open attempt", () => {
    // Node n1's first process starts at 500, is killed at 1,000; its restart re-runs the iteration at 1,200.
    const rerun = stream("a", 500, [triggered, start(1, 1, "n1"), logged(100)])
    const after = stream("a", 1_200, [interrupted(1), start(1, 2, "n1"), logged(101), done(101)])
    const fixVersions = (events: Array<TaskEvent.RecordedEvent>) => events.map((e, k) => ({ ...e, version: k + 1 }))
    const good = fixVersions([...rerun, ...after])
    expect(Checks.supersededWrites(streams(good), incarnations)).toEqual([])

    // The killed process's result lands in the re-run's attempt: superseded.
    const late = good.map((e) => (e.event._tag === "TaskDone" ? { ...e, event: { ...e.event, output: { pid: 100 } } as never } : e))
    expect(Checks.supersededWrites(streams(late), incarnations)).toEqual([
      "a@7: TaskDone from pid 100, but iteration 1 attempt 2 belonged to pid 101",
    ])
    // A log line after its attempt was interrupted: superseded too.
    const afterEnd = fixVersions([...rerun, after[0]!, { ...after[2]!, event: { ...after[2]!.event, data: { pid: 100 } } as never }])
    expect(Checks.supersededWrites(streams(afterEnd), incarnations)).toEqual(["a@5: TaskLogged from pid 100 outside any attempt"])
    // Another node's process writing for n2's attempt.
    const foreign = stream("b", 300, [triggered, start(1, 1, "n2"), done(100)])
    expect(Checks.supersededWrites(streams(foreign), incarnations)).toEqual([
      "b@3: TaskDone from pid 100, but iteration 1 attempt 1 belonged to pid 200",
    ])
    // A node nobody ran as.
    const ghost = stream("c", 300, [triggered, start(1, 1, "n9"), done(100)])
    expect(Checks.supersededWrites(streams(ghost), incarnations)[0]).toBe("c@2: no daemon process was node n9 at 301")
  })

  it("supersededWrites without node ids: the process alive at the start owns it", () => {
    const alone: ReadonlyArray<Checks.Incarnation> = [{ node: "n1", pid: 100, spawnedAt: 0, exitedAt: 1_000 }, { node: "n1", pid: 101, spawnedAt: 1_100 }]
    expect(Checks.supersededWrites(streams(stream("a", 1_500, [triggered, start(1, 1), done(101)])), alone)).toEqual([])
    expect(Checks.supersededWrites(streams(stream("b", 1_500, [triggered, start(1, 1), done(100)])), alone)).toHaveLength(1)
  })

  it("interruptsRerun: an interrupted iteration runs again with the next attempt, unless the task ended aborted", () => {
    const rerun = stream("a", 10, [triggered, start(1, 1), interrupted(1), start(1, 2), done(1)])
    const aborted = stream("b", 10, [triggered, start(1, 1), ["AbortRequested", {}], interrupted(1), ["TaskAborted", {}]])
    expect(Checks.interruptsRerun(streams(rerun, aborted))).toEqual({ interrupted: 2, rerun: 1, problems: [] })

    const never = stream("c", 10, [triggered, start(1, 1), interrupted(1), ["TaskFailed", { error: { message: "poison" }, reason: "crashedDaemon" }]])
    const skipped = stream("d", 10, [triggered, start(1, 1), interrupted(1), start(2, 1), done(1)])
    const sameAttempt = stream("e", 10, [triggered, start(1, 1), interrupted(1), start(1, 1), done(1)])
    expect(Checks.interruptsRerun(streams(never, skipped, sameAttempt)).problems).toEqual([
      "c@3: interrupted iteration 1 never ran again (then: TaskFailed)",
      "d@3: interrupted iteration 1 went on as iteration 2 attempt 1, want attempt 2",
      "e@3: interrupted iteration 1 went on as iteration 1 attempt 1, want attempt 2",
    ])
  })

  it("replayMismatches: the fold of each history equals its stored projection", () => {
    const trigger = (taskId: string) => ["TaskTriggered", { taskId, definitionId: "clQuick", name: "q", input: {}, maxIterations: 50 }] as const
    const events = stream("a", 10, [trigger("a"), start(1, 1), done(7)])
    const folded = Replay.replay(events)
    expect(folded).not.toBeInstanceOf(Replay.ReplayError)
    expect(Checks.replayMismatches(streams(events), new Map([["a", JSON.parse(JSON.stringify(folded))]]))).toEqual([])
    const wrong = { ...(folded as Replay.TaskState), status: "running" }
    expect(Checks.replayMismatches(streams(events), new Map([["a", wrong]]))[0]).toContain("a: replay differs from the projection")
    // A history the machine refuses (done before any iteration started).
    const invalid = stream("b", 10, [trigger("b"), done(7)])
    expect(Checks.replayMismatches(streams(invalid), new Map())[0]).toContain("b: replay fails:")
  })

  it("hookProblems: one recorded result per due hook, after the final event; the hook file agrees", () => {
    const completed = ["HookCompleted", { hook: "onDone" }] as const
    const good = stream("a", 10, [triggered, start(1, 1), done(1, true), completed])
    const noHook = stream("b", 10, [triggered, start(1, 1), done(1, false)])
    const runs = Checks.hookRuns("a 1\na 2\n")
    expect(runs).toEqual(new Map([["a", 2]]))
    expect(Checks.hookProblems(streams(good, noHook), runs, new Set(["a"]))).toEqual([])

    const missing = stream("c", 10, [triggered, start(1, 1), done(1, true)])
    const twice = stream("d", 10, [triggered, start(1, 1), done(1, true), completed, completed])
    const unwritten = stream("e", 10, [triggered, start(1, 1), done(1, true), completed])
    expect(Checks.hookProblems(streams(missing, twice, unwritten), Checks.hookRuns("c 1\nzz 1\n"), new Set(["e"]))).toEqual([
      "c: hook due true, 0 hook results recorded",
      "c: 1 hook executions, none recorded completed",
      "d: hook due true, 2 hook results recorded",
      "e: hook recorded completed, but it never wrote its line",
      "zz: hook lines for a task not in the log",
    ])
  })

  it("failover: from the incident to the re-run of every attempt the process had open", () => {
    // pid 100 (n1) runs a and b at 500; it is killed at 1,000; the restart re-runs a at 1,300 and b at 1,800.
    const a = stream("a", 500, [triggered, start(1, 1, "n1")])
    const b = stream("b", 500, [triggered, start(1, 1, "n1")])
    const finished = stream("c", 500, [triggered, start(1, 1, "n1"), continued]) // ended before the kill
    const other = stream("d", 500, [triggered, start(1, 1, "n2")]) // another node's
    const later = (id: string, at: number) => stream(id, at, [interrupted(1), start(1, 2, "n1"), done(101)])
    const fix = (events: ReadonlyArray<TaskEvent.RecordedEvent>) => events.map((e, k) => ({ ...e, version: k + 1 }))
    const all = streams(fix([...a, ...later("a", 1_299)]), fix([...b, ...later("b", 1_799)]), finished, other)
    expect(Checks.failover(all, incarnations, { at: 1_000, pid: 100 })).toEqual({
      running: 2,
      rerun: 2,
      ms: 800,
      detectedMs: 799,
      reruns: [{ stream: "a", node: "n1", interruptedMs: 299, ms: 300 }, { stream: "b", node: "n1", interruptedMs: 799, ms: 800 }],
    })
    // A paused process whose attempt ended on its own after it woke: running, but no failover.
    const woke = streams(fix([...a, ...stream("a", 1_500, [done(100)])]))
    expect(Checks.failover(woke, incarnations, { at: 1_000, pid: 100 })).toEqual({ running: 1, rerun: 0, ms: undefined, detectedMs: undefined, reruns: [] })
    expect(Checks.failover(all, incarnations, { at: 1_000, pid: 200 })).toEqual({ running: 1, rerun: 0, ms: undefined, detectedMs: undefined, reruns: [] })
    // Paused at 600, it lived on until 1,000: the re-runs after its death are the kill's failover, not the pause's.
    expect(Checks.failover(all, incarnations, { at: 600, pid: 100, paused: true })).toEqual({ running: 2, rerun: 0, ms: undefined, detectedMs: undefined, reruns: [] })
    // Interrupted while it still lived (a zombie fenced by another node): the pause's failover.
    const fenced = streams(fix([...a, ...stream("a", 900, [interrupted(1), start(1, 2, "n2"), done(200)])]))
    expect(Checks.failover(fenced, incarnations, { at: 600, pid: 100, paused: true })).toEqual({ running: 1, rerun: 1, ms: 301, detectedMs: 300, reruns: [{ stream: "a", node: "n2", interruptedMs: 300, ms: 301 }] })
  })

  it("quantile by nearest rank", () => {
    expect(Checks.quantile([], 0.5)).toBeUndefined()
    expect(Checks.quantile([5, 1, 3, 2, 4], 0.5)).toBe(3)
    expect(Checks.quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.99)).toBe(99)
  })
})
