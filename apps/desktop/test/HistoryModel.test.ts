/**
 * The History view's model: a history folded once with checkpoints gives the
 * same state at every position as a full fold (recorded fixtures and a long
 * synthetic history, random positions), bad files and corrupted histories
 * are readable errors, and the timeline and fork point come out right.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { HistoryFile, Replay, TaskEvent } from "@tasklane/core/client"
import { describe, expect, it } from "vitest"
import { syntheticHistory } from "../../../test/ui/HistorySupport.ts"
import * as HistoryModel from "../src/renderer/history/HistoryModel.ts"

const fixtures = join(import.meta.dirname, "..", "..", "..", "test", "fixtures", "histories")
const read = (name: string) => readFileSync(join(fixtures, name), "utf8")
const loaded = (envelopes: ReadonlyArray<unknown>, interval?: number) => {
  const history = HistoryModel.load(envelopes, interval)
  if (history instanceof HistoryModel.HistoryLoadError) throw new Error(history.message)
  return history
}

/** A seeded generator, so a failure names positions that reproduce. */
const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)

describe("HistoryModel", () => {
  const valid = readdirSync(fixtures).filter((name) => name.endsWith(".json") && !name.startsWith("corrupted"))

  it.each(valid)("%s: every position's state equals the full fold's, for several checkpoint spacings", (name) => {
    const envelopes = HistoryModel.parseFile(name, read(name))
    if (envelopes instanceof HistoryModel.HistoryLoadError) throw new Error(envelopes.message)
    const events = envelopes.map(TaskEvent.fromEnvelope)
    const states = Replay.scan(events)
    if (states instanceof Replay.ReplayError) throw states
    for (const interval of [1, 2, 3, 1000]) {
      const history = loaded(envelopes, interval)
      expect(HistoryModel.stateAt(history, 0)).toEqual(Replay.initial)
      for (let n = 1; n <= events.length; n++) expect(HistoryModel.stateAt(history, n)).toEqual(states[n - 1])
    }
    expect(loaded(envelopes).final).toEqual(JSON.parse(read(name)).expected)
  })

  it("a 20,000-event synthetic history: checkpointed states equal full folds at random positions", () => {
    const envelopes = syntheticHistory(4000).events
    const events = envelopes.map(TaskEvent.fromEnvelope)
    const history = loaded(envelopes)
    expect(history.checkpoints.length).toBe(Math.floor(events.length / 1000) + 1)
    const next = random(42)
    for (let k = 0; k < 60; k++) {
      const n = Math.floor(next() * (events.length + 1))
      expect(HistoryModel.stateAt(history, n), `after ${n} events`).toEqual(Replay.replay(events.slice(0, n)))
    }
    expect(HistoryModel.stateAt(history, events.length)).toEqual(Replay.replay(events))
  })

  it("rejects a corrupted history with the fold's error, and a non-history file readably", () => {
    const envelopes = HistoryModel.parseFile("c.json", read("corrupted-done-before-start.json"))
    if (envelopes instanceof HistoryModel.HistoryLoadError) throw new Error(envelopes.message)
    const result = HistoryModel.load(envelopes)
    expect(result).toBeInstanceOf(HistoryModel.HistoryLoadError)
    expect((result as HistoryModel.HistoryLoadError).message).toMatch(/TaskDone at position 9 .* not accepted in state continue/)
    expect((HistoryModel.parseFile("a.json", "{ nope") as HistoryModel.HistoryLoadError).message).toMatch(/a\.json is not JSON/)
    expect((HistoryModel.parseFile("b.json", '{"tasks": []}') as HistoryModel.HistoryLoadError).message).toBe(
      'b.json is not a Tasklane history file (it has no "events" array)',
    )
    const bad = HistoryModel.load([{ nonsense: true }])
    expect((bad as HistoryModel.HistoryLoadError).message).toMatch(/does not decode/)
  })

  it("builds one timeline bar per attempt with its outcome and wait", () => {
    const history = loaded(syntheticHistory(1000).events)
    const bars = HistoryModel.bars(history)
    // 1000 iterations + the final one, plus the interrupted attempt and the retried one.
    expect(bars.length).toBe(1003)
    expect(bars.filter((b) => b.outcome === "interrupted").map((b) => b.iteration)).toEqual([500])
    expect(bars.filter((b) => b.outcome === "retry").map((b) => [b.iteration, b.attempt, b.why])).toEqual([[1000, 1, "error: flaky at 1000"]])
    expect(bars.find((b) => b.outcome === "interrupted")!.why).toBe("the daemon died mid-iteration")
    // A recorded timeout reads as one on its bar, not only in the payload's JSON.
    const recorded = loaded(HistoryFile.envelopesOf(JSON.parse(read("retry-then-error.json")))!)
    expect(HistoryModel.bars(recorded).map((b) => [b.outcome, b.why?.split(":")[0], b.timedOut])).toEqual([["retry", "error", false], ["error", "timeout", true]])
    expect(bars.at(-1)!.outcome).toBe("done")
    expect(bars[0]!.wakeAt).toBeGreaterThan(bars[0]!.endAt)
    expect(history.events[bars[5]!.start]!.event._tag).toBe("IterationStarted")
  })

  it("forks from the running iteration, or the next one while waiting, with the input at that position", () => {
    const history = loaded(syntheticHistory(10).events)
    expect(HistoryModel.forkPoint(HistoryModel.stateAt(history, 0))).toBeUndefined()
    expect(HistoryModel.forkPoint(HistoryModel.stateAt(history, 1))).toEqual({ iteration: 1, input: { n: 0 } })
    // After event 6: iteration 1 continued with { n: 1 }; waiting for iteration 2.
    expect(HistoryModel.forkPoint(HistoryModel.stateAt(history, 6))).toEqual({ iteration: 2, input: { n: 1 } })
    expect(HistoryModel.forkPoint(HistoryModel.stateAt(history, 7))).toEqual({ iteration: 2, input: { n: 1 } })
  })

  it("finds an iteration's fork point from the history alone (a fork link with no stored draft)", () => {
    const history = loaded(syntheticHistory(10).events)
    expect(HistoryModel.forkPointOf(history, 1)).toEqual({ iteration: 1, input: { n: 0 } })
    expect(HistoryModel.forkPointOf(history, 7)).toEqual({ iteration: 7, input: { n: 6 } })
    // The last iteration (11) ran and finished; 12 and 0 never existed.
    expect(HistoryModel.forkPointOf(history, 11)).toEqual({ iteration: 11, input: { n: 10 } })
    expect(HistoryModel.forkPointOf(history, 12)).toBeUndefined()
    expect(HistoryModel.forkPointOf(history, 0)).toBeUndefined()
    // A history that ends waiting for iteration 3: that one can be forked, 4 cannot.
    const waiting = loaded(syntheticHistory(10).events.slice(0, 11))
    expect(HistoryModel.forkPointOf(waiting, 3)).toEqual({ iteration: 3, input: { n: 2 } })
    expect(HistoryModel.forkPointOf(waiting, 4)).toBeUndefined()
  })

  it("compares the replayed final state with a projection", () => {
    const history = loaded(syntheticHistory(3).events)
    expect(HistoryModel.consistency(history, history.final)).toBeUndefined()
    // A projection with another value: they part at the event that last set that path in the replay (the sixth log line, event 15).
    const drifted = { ...history.final, context: { ...history.final.context, logCount: 99 } }
    expect(HistoryModel.consistency(history, drifted)).toEqual({
      changes: [{ path: "context.logCount", kind: "changed", before: 6, after: 99 }],
      at: 15,
      kind: "set",
    })
    expect(history.events[14]!.event._tag).toBe("TaskLogged")
    // A projection that missed the last events: behind from the first one it lacks.
    const behind = HistoryModel.consistency(history, HistoryModel.stateAt(history, 12))
    expect(behind).toMatchObject({ at: 13, kind: "behind" })
  })

  it("filters by type and payload text, and summarises payloads in one line", () => {
    const history = loaded(syntheticHistory(20).events)
    const all = new Set<string>(TaskEvent.eventTypes)
    const text = () => HistoryModel.searchText(history)
    expect(HistoryModel.filter(history, new Set(["TaskLogged"]), "", text).length).toBe(40)
    expect(HistoryModel.filter(history, all, "checked 17", text).map((i) => HistoryModel.summary(history, i))).toEqual(["[info] checked 17"])
    expect(HistoryModel.logsUpTo(history, 10).map((l) => l.event.message)).toEqual(["step 1", "checked 1", "step 2", "checked 2"])
  })
})
