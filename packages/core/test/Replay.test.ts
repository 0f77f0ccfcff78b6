/**
 * The fast fold (the machine compiled to a table) and the reference fold
 * (XState's own `machine.transition`) agree on every history: random legal
 * ones and randomly corrupted ones, state or ReplayError alike.
 */
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { EventId } from "../src/Ids.ts"
import * as Lifecycle from "../src/Lifecycle.ts"
import * as Replay from "../src/Replay.ts"
import type { RecordedEvent } from "../src/TaskEvent.ts"
import { startedAt, taskId, trigger } from "./support/History.ts"

const commands: ReadonlyArray<Lifecycle.Command> = [
  { _tag: "StartIteration" },
  { _tag: "StartIteration", node: "node-a" },
  { _tag: "StartIteration", node: "node-b" },
  { _tag: "Complete", result: { _tag: "Continue", input: { n: 4 } }, startNext: true, node: "node-a" },
  { _tag: "Complete", result: { _tag: "Done" }, expect: { iteration: 1, attempt: 1 } },
  { _tag: "Interrupt", reason: "shutdown", expect: { iteration: 1, attempt: 1 } },
  { _tag: "Complete", result: { _tag: "Continue", input: { n: 2 }, wakeAt: 9 } },
  { _tag: "Complete", result: { _tag: "Continue", input: { n: 3 }, output: { partial: true } } },
  { _tag: "Complete", result: { _tag: "Done", output: { ok: 1 }, message: "fine" } },
  { _tag: "Complete", result: { _tag: "Error", error: { message: "e" }, retryAt: 4 } },
  { _tag: "Complete", result: { _tag: "Error", error: { message: "e" } } },
  { _tag: "Complete", result: { _tag: "Aborted" } },
  { _tag: "Fail", error: { message: "t" }, reason: "timeout" },
  { _tag: "Fail", error: { message: "gone" }, reason: "unknownDefinition" },
  { _tag: "Abort", message: "stop" },
  { _tag: "ForceAbort" },
  { _tag: "Interrupt", reason: "crash" },
  { _tag: "HookResult", hook: "onDone" },
  { _tag: "HookResult", hook: "onError", error: { message: "h" } },
  { _tag: "HookResult", hook: "onAbort" },
  { _tag: "HookResult", hook: "onMaxIterations" },
  { _tag: "Progress", progress: { completed: 1, total: 2, message: "half" } },
  { _tag: "Log", level: "warn", message: "careful", data: { x: 1 } },
  { _tag: "Delete" },
]

/** Runs command indexes through the decider, skipping refused ones; returns the recorded events. */
const history = (maxIterations: number, picks: ReadonlyArray<number>, hooks: boolean): Array<RecordedEvent> => {
  const events: Array<RecordedEvent> = []
  let state = Replay.initial
  const options = hooks ? {} : { hooks: new Set<never>() }
  for (const command of [trigger({ maxIterations }), ...picks.map((i) => commands[i % commands.length]!)]) {
    const decided = Lifecycle.decide(state, command, options)
    if (decided instanceof Lifecycle.CommandRejected) continue
    for (const event of decided) {
      const version = events.length + 1
      const recorded = { id: `e${version}` as EventId, stream: taskId, version, position: version, at: startedAt + version, event }
      const next = Replay.step(state, recorded)
      if (next instanceof Replay.ReplayError) throw next
      events.push(recorded)
      state = next
    }
  }
  return events
}

const plain = (result: Replay.TaskState | Replay.ReplayError) =>
  result instanceof Replay.ReplayError ? { error: { ...result } } : JSON.parse(JSON.stringify(result))

const legal = fc.record({
  maxIterations: fc.integer({ min: 1, max: 4 }),
  picks: fc.array(fc.nat(), { minLength: 5, maxLength: 60 }),
  hooks: fc.boolean(),
})

describe("the compiled fold equals XState's", () => {
  it("on random legal histories, at every prefix", () => {
    fc.assert(
      fc.property(legal, ({ maxIterations, picks, hooks }) => {
        const events = history(maxIterations, picks, hooks)
        for (let n = 0; n <= events.length; n++) {
          expect(plain(Replay.replay(events.slice(0, n)))).toEqual(plain(Replay.replayWithXState(events.slice(0, n))))
        }
      }),
      { numRuns: 300 },
    )
  })

  it("on corrupted histories (an event moved, dropped or duplicated, versions renumbered)", () => {
    fc.assert(
      fc.property(legal, fc.nat(), fc.nat(), fc.constantFrom("move", "drop", "duplicate"), ({ maxIterations, picks, hooks }, a, b, how) => {
        const events = history(maxIterations, picks, hooks)
        const i = a % events.length
        const j = b % events.length
        const moved = [...events]
        if (how === "drop") moved.splice(i, 1)
        else if (how === "duplicate") moved.splice(j, 0, events[i]!)
        else moved.splice(j, 0, ...moved.splice(i, 1))
        const renumbered = moved.map((e, k) => ({ ...e, version: k + 1, position: k + 1 }))
        expect(plain(Replay.replay(renumbered))).toEqual(plain(Replay.replayWithXState(renumbered)))
      }),
      { numRuns: 500 },
    )
  })

  it("covers the node: histories with IterationStarted{node} fold to the same state, node set while running and cleared after", () => {
    const samples = fc.sample(legal, { numRuns: 200, seed: 14 })
    let running = 0
    let cleared = 0
    for (const { maxIterations, picks, hooks } of samples) {
      const events = history(maxIterations, picks, hooks)
      for (let n = 1; n <= events.length; n++) {
        const fast = Replay.replay(events.slice(0, n))
        expect(plain(fast)).toEqual(plain(Replay.replayWithXState(events.slice(0, n))))
        if (fast instanceof Replay.ReplayError) continue
        const last = events[n - 1]!.event
        if (fast.status === "running" && last._tag === "IterationStarted" && last.node !== undefined) {
          expect(fast.context.node).toBe(last.node)
          running++
        }
        if (fast.status !== "running") {
          expect(fast.context.node).toBeUndefined()
          if (events.slice(0, n).some((e) => e.event._tag === "IterationStarted" && e.event.node !== undefined)) cleared++
        }
      }
    }
    // Not vacuous: the samples start iterations on a node and leave running after such starts.
    expect(running).toBeGreaterThan(50)
    expect(cleared).toBeGreaterThan(50)
  })

  it("rejects in both the same way where the history is wrong", () => {
    const events = history(2, [0, 3], true)
    const wrong = [events[0]!, { ...events[2]!, version: 2, position: 2 }]
    const fast = Replay.replay(wrong)
    expect(fast).toBeInstanceOf(Replay.ReplayError)
    expect(plain(fast)).toEqual(plain(Replay.replayWithXState(wrong)))
  })
})
