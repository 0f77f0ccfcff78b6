/** One test per row of DESIGN section 4's lifecycle table, through the decider and the fold. */
import { describe, expect, it } from "vitest"
import * as Lifecycle from "../src/Lifecycle.ts"
import * as Replay from "../src/Replay.ts"
import { run, trigger, type History } from "./support/History.ts"

const types = (history: History) => history.events.map((e) => e.event._tag)
const start: Lifecycle.Command = { _tag: "StartIteration" }
const complete = (result: Lifecycle.IterationResult): Lifecycle.Command => ({ _tag: "Complete", result })
const boom = { message: "boom", code: "E_BOOM" }

describe("lifecycle", () => {
  it("trigger accepted: TaskTriggered, state triggered", () => {
    const h = run([trigger({ name: "first", wakeAt: 5 })])
    expect(types(h)).toEqual(["TaskTriggered"])
    expect(h.state.status).toBe("triggered")
    expect(h.state.context).toMatchObject({ input: { n: 1 }, name: "first", wakeAt: 5, maxIterations: 3, iteration: 0 })
  })

  it("a second trigger of the same task is refused and records nothing", () => {
    const h = run([trigger()])
    const result = Lifecycle.decide(h.state, trigger())
    expect(result).toBeInstanceOf(Lifecycle.CommandRejected)
  })

  it("iteration starts: IterationStarted{1,1}, state running, wake time cleared", () => {
    const h = run([trigger({ wakeAt: 5 }), start])
    expect(h.events[1]!.event).toMatchObject({ _tag: "IterationStarted", iteration: 1, attempt: 1 })
    expect(h.state.status).toBe("running")
    expect(h.state.context.wakeAt).toBeUndefined()
    expect(h.state.context.startedAt).toBe(h.events[1]!.at)
  })

  it("continue below maxIterations: IterationContinued with the new input and wake time", () => {
    const h = run([trigger(), start, complete({ _tag: "Continue", input: { n: 2 }, wakeAt: 99 }), start])
    expect(types(h)).toEqual(["TaskTriggered", "IterationStarted", "IterationContinued", "IterationStarted"])
    expect(h.events[3]!.event).toMatchObject({ iteration: 2, attempt: 1 })
    expect(h.state.context.input).toEqual({ n: 2 })
  })

  it("continue at maxIterations: MaxIterationsReached, final, onMaxIterations due", () => {
    const again = complete({ _tag: "Continue", input: { n: 9 } })
    const h = run([trigger({ maxIterations: 2 }), start, again, start, again])
    expect(types(h).at(-1)).toBe("MaxIterationsReached")
    expect(h.state.status).toBe("maxIterations")
    expect(h.state.context).toMatchObject({ iteration: 2, pendingHook: "onMaxIterations", input: { n: 9 } })
    expect(Lifecycle.decide(h.state, start)).toBeInstanceOf(Lifecycle.CommandRejected)
  })

  it("done: TaskDone with output and message, onDone due", () => {
    const h = run([trigger(), start, complete({ _tag: "Done", output: { ok: true }, message: "all good" })])
    expect(h.state.status).toBe("done")
    expect(h.state.context).toMatchObject({ output: { ok: true }, message: "all good", pendingHook: "onDone" })
    expect(h.state.context.finishedAt).toBe(h.events.at(-1)!.at)
  })

  it("error: TaskFailed{reason error}, onError due", () => {
    const h = run([trigger(), start, complete({ _tag: "Error", error: boom })])
    expect(h.state.status).toBe("error")
    expect(h.state.context).toMatchObject({ error: boom, failureReason: "error", pendingHook: "onError" })
  })

  it("error with a retry left: RetryScheduled, back to continue, same iteration with attempt 2", () => {
    const h = run([trigger(), start, complete({ _tag: "Error", error: boom, retryAt: 42 }), start])
    expect(types(h)).toEqual(["TaskTriggered", "IterationStarted", "RetryScheduled", "IterationStarted"])
    expect(h.events[3]!.event).toMatchObject({ iteration: 1, attempt: 2 })
    expect(h.state.status).toBe("running")
  })

  it("run throws: TaskFailed{reason thrown}", () => {
    const h = run([trigger(), start, { _tag: "Fail", error: boom, reason: "thrown" }])
    expect(h.state).toMatchObject({ status: "error", context: { failureReason: "thrown" } })
  })

  it("hard timeout: TaskFailed{reason timeout}, or RetryScheduled when a retry is allowed", () => {
    const failed = run([trigger(), start, { _tag: "Fail", error: { message: "timed out" }, reason: "timeout" }])
    expect(failed.state).toMatchObject({ status: "error", context: { failureReason: "timeout" } })
    const retried = run([trigger(), start, { _tag: "Fail", error: { message: "timed out" }, reason: "timeout", retryAt: 7 }])
    expect(retried.state).toMatchObject({ status: "continue", context: { failureReason: "timeout", wakeAt: 7, nextAttempt: 2 } })
  })

  it("abort while triggered or continue: AbortRequested then TaskAborted, onAbort due", () => {
    for (const before of [[trigger()], [trigger(), start, complete({ _tag: "Continue", input: {} })]]) {
      const h = run([...before, { _tag: "Abort", message: "stop" }])
      expect(types(h).slice(-2)).toEqual(["AbortRequested", "TaskAborted"])
      expect(h.state.status).toBe("aborted")
      expect(h.state.context).toMatchObject({ pendingHook: "onAbort", message: "stop" })
    }
  })

  it("abort while running: AbortRequested keeps it running; TaskAborted when run answers aborted", () => {
    const requested = run([trigger(), start, { _tag: "Abort", message: "user" }])
    expect(requested.state).toMatchObject({ status: "running", context: { abortRequested: true } })
    expect(Lifecycle.decide(requested.state, { _tag: "Abort" })).toEqual([])
    const h = run([complete({ _tag: "Aborted" })], requested)
    expect(types(h).slice(-2)).toEqual(["AbortRequested", "TaskAborted"])
    expect(h.state).toMatchObject({ status: "aborted", context: { message: "user" } })
  })

  it("abort while running: a continue, an error or a throw after the request ends as aborted; done stays done", () => {
    const requested = run([trigger(), start, { _tag: "Abort", message: "user" }])
    const after = [
      complete({ _tag: "Continue", input: { n: 2 } }),
      complete({ _tag: "Error", error: boom, retryAt: 9 }),
      { _tag: "Fail", error: boom, reason: "thrown", retryAt: 9 } as Lifecycle.Command,
    ]
    for (const command of after) {
      const h = run([command], requested)
      expect(h.events.at(-1)!.event).toMatchObject({ _tag: "TaskAborted", message: "user" })
      expect(h.state.status).toBe("aborted")
    }
    expect(run([complete({ _tag: "Done", output: 1 })], requested).state.status).toBe("done")
  })

  it("abort while running, forced after the grace period: TaskAborted{forced}", () => {
    const h = run([trigger(), start, { _tag: "Abort" }, { _tag: "ForceAbort" }])
    expect(h.events.at(-1)!.event).toMatchObject({ _tag: "TaskAborted", forced: true })
    expect(h.state.status).toBe("aborted")
  })

  it("daemon died mid-iteration: IterationInterrupted, back to continue, the iteration runs again", () => {
    const h = run([trigger(), start, { _tag: "Interrupt", reason: "crash" }, start])
    expect(types(h)).toEqual(["TaskTriggered", "IterationStarted", "IterationInterrupted", "IterationStarted"])
    expect(h.events[3]!.event).toMatchObject({ iteration: 1, attempt: 2 })
  })

  it("trigger with start: TaskTriggered and IterationStarted{1, 1} in one decision (not for a delayed trigger)", () => {
    const h = run([trigger({ start: true })])
    expect(types(h)).toEqual(["TaskTriggered", "IterationStarted"])
    expect(h.state).toMatchObject({ status: "running", context: { iteration: 1, attempt: 1 } })
    expect(types(run([trigger({ start: true, wakeAt: 5 })]))).toEqual(["TaskTriggered"])
  })

  it("complete with startNext: a continue without a wait starts the next iteration at once; other outcomes are unchanged", () => {
    const next = (result: Lifecycle.IterationResult): Lifecycle.Command => ({ _tag: "Complete", result, startNext: true })
    const h = run([trigger(), start, next({ _tag: "Continue", input: { n: 2 } })])
    expect(types(h).slice(-2)).toEqual(["IterationContinued", "IterationStarted"])
    expect(h.state).toMatchObject({ status: "running", context: { iteration: 2, attempt: 1, input: { n: 2 } } })
    const waits = run([trigger(), start, next({ _tag: "Continue", input: {}, wakeAt: 9 })])
    expect(waits.state.status).toBe("continue")
    const last = run([next({ _tag: "Continue", input: {} }), next({ _tag: "Continue", input: {} })], h)
    expect(types(last).slice(-1)).toEqual(["MaxIterationsReached"])
    expect(run([trigger(), start, next({ _tag: "Done" })]).state.status).toBe("done")
  })

  it("a poison iteration: after maxCrashRetries re-runs, the next crash ends the task error{crashedDaemon}", () => {
    const crash: Lifecycle.Command = { _tag: "Interrupt", reason: "crash" }
    const once = run([trigger(), start, crash, start])
    expect(once.state.context.crashes).toBe(1)
    const twice = run([crash], once)
    expect(twice.events.slice(-2).map((e) => e.event._tag)).toEqual(["IterationInterrupted", "TaskFailed"])
    expect(twice.state).toMatchObject({ status: "error", context: { failureReason: "crashedDaemon", pendingHook: "onError" } })
    expect(twice.state.context.error?.message).toContain("iteration 1 2 times")
    // maxCrashRetries 0: the first crash is final; 3: three re-runs first.
    expect(Lifecycle.decide(run([trigger(), start]).state, crash, { maxCrashRetries: 0 })).toHaveLength(2)
    let h = run([trigger(), start])
    for (let i = 0; i < 3; i++) h = run([crash, start], h, { maxCrashRetries: 3 })
    expect(h.state.status).toBe("running")
    expect(run([crash], h, { maxCrashRetries: 3 }).state.context.failureReason).toBe("crashedDaemon")
  })

  it("crashes count per iteration (a continue starts again) and a graceful shutdown does not count", () => {
    const crash: Lifecycle.Command = { _tag: "Interrupt", reason: "crash" }
    const h = run([trigger(), start, crash, start, complete({ _tag: "Continue", input: {} }), start, crash, start])
    expect(h.state).toMatchObject({ status: "running", context: { iteration: 2, crashes: 1 } })
    const shutdowns = run([trigger(), start, { _tag: "Interrupt", reason: "shutdown" }, start, { _tag: "Interrupt", reason: "shutdown" }, start])
    expect(shutdowns.state.status).toBe("running")
    expect(shutdowns.state.context.crashes).toBeUndefined()
  })

  it("an iteration interrupted after an abort request does not run again: the task ends aborted", () => {
    const h = run([trigger(), start, { _tag: "Abort", message: "user" }, { _tag: "Interrupt", reason: "crash" }, start])
    expect(h.events.map((e) => e.event._tag).slice(-2)).toEqual(["IterationInterrupted", "TaskAborted"])
    expect(h.state.status).toBe("aborted")
  })

  it("hook finished or threw: HookCompleted / HookFailed, outcome unchanged, hook no longer due", () => {
    const done = run([trigger(), start, complete({ _tag: "Done" })])
    const completed = run([{ _tag: "HookResult", hook: "onDone" }], done)
    expect(completed.state).toMatchObject({ status: "done" })
    expect(completed.state.context.pendingHook).toBeUndefined()
    const failed = run([{ _tag: "HookResult", hook: "onDone", error: boom }], done)
    expect(failed.state).toMatchObject({ status: "done", context: { hookFailed: true } })
    expect(Lifecycle.decide(completed.state, { _tag: "HookResult", hook: "onDone" })).toBeInstanceOf(Lifecycle.CommandRejected)
    expect(Lifecycle.decide(done.state, { _tag: "HookResult", hook: "onError" })).toBeInstanceOf(Lifecycle.CommandRejected)
  })

  it("an outcome whose hook the definition does not implement leaves no hook due", () => {
    const running = run([trigger(), start])
    const events = Lifecycle.decide(running.state, complete({ _tag: "Done" }), { hooks: new Set(["onError"]) })
    expect(events).toMatchObject([{ _tag: "TaskDone", hookDue: false }])
    const failed = Lifecycle.decide(running.state, complete({ _tag: "Error", error: boom }), { hooks: new Set(["onError"]) })
    expect(failed).toMatchObject([{ _tag: "TaskFailed" }])
    expect((failed as ReadonlyArray<{ hookDue?: boolean }>)[0]!.hookDue).toBeUndefined()
    const done = run([complete({ _tag: "Done" })], running)
    expect(done.state.context.pendingHook).toBe("onDone")
  })

  it("progress and logs while running are folded into the state", () => {
    const h = run([
      trigger(),
      start,
      { _tag: "Progress", progress: { completed: 3, total: 10 } },
      { _tag: "Log", level: "info", message: "hello" },
    ])
    expect(h.state.context).toMatchObject({ progress: { completed: 3, total: 10 }, logCount: 1 })
  })

  it("the definition is gone when a waiting task should start: TaskFailed{unknownDefinition}", () => {
    const h = run([trigger(), { _tag: "Fail", error: { message: "no definition demoTask" }, reason: "unknownDefinition" }])
    expect(h.state).toMatchObject({ status: "error", context: { failureReason: "unknownDefinition" } })
  })
})

describe("the machine validates history", () => {
  const base = run([trigger(), start])

  it("refuses an iteration that is not the expected one", () => {
    const bad = { ...base.events[1]!, version: 3, position: 3, event: base.events[1]!.event }
    const result = Replay.replay([...base.events, bad])
    expect(result).toBeInstanceOf(Replay.ReplayError)
    expect(result).toMatchObject({ position: 3, state: "running", event: "IterationStarted" })
  })

  it("refuses a final event before any iteration ran", () => {
    const done = run([trigger(), start, complete({ _tag: "Done" })])
    const skipped = [done.events[0]!, { ...done.events[2]!, version: 2, position: 2 }]
    expect(Replay.replay(skipped)).toMatchObject({ _tag: "ReplayError", state: "triggered", event: "TaskDone", position: 2 })
  })

  it("refuses a gap in stream versions", () => {
    const gap = [base.events[0]!, { ...base.events[1]!, version: 5 }]
    expect(Replay.replay(gap)).toMatchObject({ _tag: "ReplayError", reason: "expected stream version 2" })
  })

  it("scan gives the state after every event, ending where replay ends", () => {
    const states = Replay.scan(base.events)
    if (states instanceof Replay.ReplayError) throw states
    expect(states.map((s) => s.status)).toEqual(["triggered", "running"])
    expect(states.at(-1)).toEqual(Replay.replay(base.events))
  })

  it("checkpointed keeps the scanned state after every interval of events and visits each", () => {
    const events = run([trigger(), start, complete({ _tag: "Continue", input: { n: 1 } }), start, complete({ _tag: "Done", output: 2 })]).events
    const states = Replay.scan(events)
    if (states instanceof Replay.ReplayError) throw states
    const visited: Array<string> = []
    const folded = Replay.checkpointed(events, 2, (i, state) => visited.push(`${i}:${state.status}`))
    if (folded instanceof Replay.ReplayError) throw folded
    expect(folded.checkpoints).toEqual([Replay.initial, states[1], states[3]])
    expect(folded.final).toEqual(states.at(-1))
    expect(visited).toEqual(states.map((s, i) => `${i}:${s.status}`))
    expect(Replay.checkpointed([events[0]!, events[2]!], 2)).toMatchObject({ _tag: "ReplayError", position: 3 })
  })
})

describe("fencing", () => {
  const at = (iteration: number, attempt: number): Lifecycle.Expect => ({ iteration, attempt })
  /** Every fenced command, for the iteration `expect` names. */
  const fencedCommands = (expect: Lifecycle.Expect): ReadonlyArray<Lifecycle.Command> => [
    { _tag: "Complete", result: { _tag: "Done", output: 1 }, expect },
    { _tag: "Fail", error: boom, reason: "thrown", expect },
    { _tag: "Progress", progress: { completed: 1 }, expect },
    { _tag: "Log", level: "info", message: "hi", expect },
    { _tag: "Interrupt", reason: "shutdown", expect },
    { _tag: "ForceAbort", expect },
  ]
  const rejected = (result: ReadonlyArray<unknown> | Lifecycle.CommandRejected) => {
    expect(result).toBeInstanceOf(Lifecycle.CommandRejected)
    return result as Lifecycle.CommandRejected
  }
  // Iteration 1 ran twice (a crash took attempt 1 away); attempt 2 is running, an abort is pending (for ForceAbort).
  const second = run([trigger(), start, { _tag: "Interrupt", reason: "crash" }, start, { _tag: "Abort", message: "user" }])

  it("each fenced command is accepted for the running iteration and attempt", () => {
    for (const command of fencedCommands(at(1, 2))) {
      const result = Lifecycle.decide(second.state, command)
      expect(result, command._tag).not.toBeInstanceOf(Lifecycle.CommandRejected)
      expect(result, command._tag).toEqual(Lifecycle.decide(second.state, { ...command, expect: undefined } as Lifecycle.Command))
    }
  })

  it("a stale attempt or a stale iteration is superseded, before any other rule", () => {
    for (const expectation of [at(1, 1), at(2, 2), at(0, 0)]) {
      for (const command of fencedCommands(expectation)) {
        const refusal = rejected(Lifecycle.decide(second.state, command))
        expect(refusal).toMatchObject({ command: command._tag, status: "running", superseded: true })
        expect(refusal.reason).toBe(`iteration ${expectation.iteration} attempt ${expectation.attempt} is superseded (iteration 1 attempt 2 is running)`)
      }
    }
  })

  it("a task that is not running supersedes every fenced command: continue, final, triggered, untriggered", () => {
    const interrupted = run([trigger(), start, { _tag: "Interrupt", reason: "crash" }])
    const cases: ReadonlyArray<readonly [Replay.TaskState, string]> = [
      [interrupted.state, "iteration 1 attempt 1 is superseded (the task is continue, its next run is iteration 1 attempt 2)"],
      [run([complete({ _tag: "Done" })], run([trigger(), start])).state, "iteration 1 attempt 1 is superseded (the task is done)"],
      [run([trigger()]).state, "iteration 1 attempt 1 is superseded (the task is triggered, its next run is iteration 1 attempt 1)"],
      [Replay.initial, "iteration 1 attempt 1 is superseded (the task is untriggered)"],
    ]
    for (const [state, reason] of cases) {
      for (const command of fencedCommands(at(1, 1))) {
        expect(rejected(Lifecycle.decide(state, command))).toMatchObject({ status: state.status, reason, superseded: true })
      }
    }
    // A log line on a waiting task would otherwise be accepted: the fence comes first.
    expect(Lifecycle.decide(interrupted.state, { _tag: "Log", level: "info", message: "late" })).toHaveLength(1)
  })

  it("without expect, commands behave as before and a refusal is not marked superseded", () => {
    const done = run([complete({ _tag: "Done" })], run([trigger(), start]))
    const refusal = rejected(Lifecycle.decide(done.state, complete({ _tag: "Done" })))
    expect(refusal.superseded).toBeUndefined()
    expect(refusal.reason).toBe("no iteration is running")
    expect("superseded" in refusal).toBe(false)
    // Clients' commands and the unknown-definition failure of a waiting task carry no expect.
    expect(Lifecycle.decide(run([trigger()]).state, { _tag: "Fail", error: boom, reason: "unknownDefinition" })).toMatchObject([{ _tag: "TaskFailed" }])
    expect(Lifecycle.decide(second.state, { _tag: "Abort" })).toEqual([])
    expect(run([{ _tag: "HookResult", hook: "onDone" }, { _tag: "Delete" }], done).state.context.deleted).toBe(true)
  })

  it("StartIteration with a node records it on the event and in the context; without one, no node key at all", () => {
    const h = run([trigger(), { _tag: "StartIteration", node: "node-a" }])
    expect(h.events[1]!.event).toEqual({ _tag: "IterationStarted", iteration: 1, attempt: 1, node: "node-a" })
    expect(h.state.context.node).toBe("node-a")
    const alone = run([trigger(), start])
    expect(alone.events[1]!.event).toEqual({ _tag: "IterationStarted", iteration: 1, attempt: 1 })
    expect("node" in alone.events[1]!.event).toBe(false)
    expect(alone.state.context.node).toBeUndefined()
  })

  it("the context's node is cleared by every way out of running", () => {
    const onNode: Lifecycle.Command = { _tag: "StartIteration", node: "node-a" }
    const running = run([trigger(), onNode])
    const requested = run([{ _tag: "Abort" }], running)
    const outs: ReadonlyArray<readonly [string, History]> = [
      ["IterationContinued", run([complete({ _tag: "Continue", input: {} })], running)],
      ["RetryScheduled", run([complete({ _tag: "Error", error: boom, retryAt: 5 })], running)],
      ["IterationInterrupted", run([{ _tag: "Interrupt", reason: "crash" }], running)],
      ["TaskDone", run([complete({ _tag: "Done" })], running)],
      ["TaskFailed", run([complete({ _tag: "Error", error: boom })], running)],
      ["TaskAborted", run([complete({ _tag: "Aborted" })], running)],
      ["TaskAborted", run([{ _tag: "ForceAbort" }], requested)],
      ["MaxIterationsReached", run([complete({ _tag: "Continue", input: {} })], run([trigger({ maxIterations: 1 }), onNode]))],
    ]
    expect(requested.state.context.node).toBe("node-a")
    for (const [last, h] of outs) {
      expect(types(h).at(-1)).toBe(last)
      expect(h.state.status, last).not.toBe("running")
      expect(h.state.context.node, last).toBeUndefined()
    }
  })

  it("the trigger's start and a continue's startNext record the node on the IterationStarted they add, and only there", () => {
    const admitted = run([trigger({ start: true, node: "node-a" })])
    expect(admitted.events.map((e) => e.event)).toMatchObject([{ _tag: "TaskTriggered" }, { _tag: "IterationStarted", iteration: 1, attempt: 1, node: "node-a" }])
    expect("node" in admitted.events[0]!.event).toBe(false)
    expect(admitted.state.context.node).toBe("node-a")
    const next = run([{ _tag: "Complete", result: { _tag: "Continue", input: { n: 2 } }, startNext: true, node: "node-b", expect: at(1, 1) }], admitted)
    expect(next.events.slice(-2).map((e) => e.event)).toEqual([
      { _tag: "IterationContinued", input: { n: 2 } },
      { _tag: "IterationStarted", iteration: 2, attempt: 1, node: "node-b" },
    ])
    expect(next.state.context).toMatchObject({ iteration: 2, attempt: 1, node: "node-b" })
    // A delayed trigger starts nothing, so records no node anywhere.
    expect(run([trigger({ start: true, node: "node-a", wakeAt: 5 })]).events.map((e) => "node" in e.event)).toEqual([false])
  })
})
