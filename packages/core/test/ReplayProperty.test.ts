/**
 * Property: random legal lifecycle command sequences, applied live (decided
 * on the store's projection and appended, as the daemon does), then replayed
 * from the stored events, give equal states — the live projection, the
 * stored projection after a rebuild, and the fold of the stream all agree.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as EventStore from "../src/EventStore.ts"
import * as LevelEventStore from "../src/LevelEventStore.ts"
import type { TaskId } from "../src/Ids.ts"
import * as Lifecycle from "../src/Lifecycle.ts"
import * as Replay from "../src/Replay.ts"
import { newEvent } from "./support/StoreEvents.ts"
import { definitionId, trigger } from "./support/History.ts"

const errorInfo = fc.record({ message: fc.string({ maxLength: 20 }) }, { requiredKeys: ["message"] })
const json = fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown)
const hook = fc.constantFrom("onDone", "onError", "onAbort", "onMaxIterations" as const)

/** Any command; the decider refuses the ones that are illegal in the state reached. */
const command: fc.Arbitrary<Lifecycle.Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom<Lifecycle.Command>({ _tag: "StartIteration" }, { _tag: "StartIteration", node: "node-a" }, { _tag: "StartIteration", node: "node-b" }),
  },
  {
    weight: 4,
    arbitrary: fc.oneof(
      json.map((output): Lifecycle.IterationResult => ({ _tag: "Done", output })),
      fc.record({ input: json, wakeAt: fc.option(fc.nat(), { nil: undefined }) }).map((r): Lifecycle.IterationResult =>
        r.wakeAt === undefined ? { _tag: "Continue", input: r.input } : { _tag: "Continue", input: r.input, wakeAt: r.wakeAt }
      ),
      fc.record({ error: errorInfo, retry: fc.boolean() }).map((r): Lifecycle.IterationResult =>
        r.retry ? { _tag: "Error", error: r.error, retryAt: 5 } : { _tag: "Error", error: r.error }
      ),
      fc.constant<Lifecycle.IterationResult>({ _tag: "Aborted" }),
    ).map((result): Lifecycle.Command => ({ _tag: "Complete", result })),
  },
  { weight: 1, arbitrary: fc.record({ error: errorInfo, reason: fc.constantFrom("thrown", "timeout", "invalidResult" as const) }).map((r): Lifecycle.Command => ({ _tag: "Fail", ...r })) },
  { weight: 1, arbitrary: fc.constant<Lifecycle.Command>({ _tag: "Abort", message: "stop" }) },
  { weight: 1, arbitrary: fc.constant<Lifecycle.Command>({ _tag: "ForceAbort" }) },
  { weight: 1, arbitrary: fc.constantFrom<Lifecycle.Command>({ _tag: "Interrupt", reason: "crash" }, { _tag: "Interrupt", reason: "shutdown" }) },
  { weight: 2, arbitrary: fc.record({ hook, failed: fc.boolean() }).map((r): Lifecycle.Command => (r.failed ? { _tag: "HookResult", hook: r.hook, error: { message: "hook" } } : { _tag: "HookResult", hook: r.hook })) },
  { weight: 2, arbitrary: fc.nat(100).map((completed): Lifecycle.Command => ({ _tag: "Progress", progress: { completed, total: 100 } })) },
  { weight: 2, arbitrary: fc.string({ maxLength: 10 }).map((message): Lifecycle.Command => ({ _tag: "Log", level: "info", message })) },
  { weight: 1, arbitrary: fc.constant<Lifecycle.Command>({ _tag: "Delete" }) },
)

const scenario = fc.record({
  tasks: fc.integer({ min: 1, max: 3 }),
  maxIterations: fc.integer({ min: 1, max: 4 }),
  steps: fc.array(fc.record({ task: fc.nat(2), command }), { minLength: 20, maxLength: 80 }),
})

/** Applies a scenario through the store; returns how many commands were legal. */
const applyLive = (s: typeof scenario extends fc.Arbitrary<infer A> ? A : never) =>
  Effect.gen(function*() {
    const store = yield* EventStore.EventStore
    const ids = Array.from({ length: s.tasks }, (_, i) => `prop-task-${i}` as TaskId)
    const live = new Map<TaskId, Replay.TaskState>()
    for (const id of ids) {
      const events = Lifecycle.decide(Replay.initial, trigger({ taskId: id, maxIterations: s.maxIterations }))
      if (events instanceof Lifecycle.CommandRejected) throw events
      live.set(id, (yield* store.append({ stream: id, expectedVersion: "noStream", events: events.map((e) => newEvent(e)) })).state)
    }
    let legal = 0
    for (const step of s.steps) {
      const id = ids[step.task % ids.length]!
      const state = live.get(id)!
      const events = Lifecycle.decide(state, step.command)
      if (events instanceof Lifecycle.CommandRejected || events.length === 0) continue
      legal++
      const appended = yield* store.append({ stream: id, expectedVersion: state.context.version, events: events.map((e) => newEvent(e)) })
      live.set(id, appended.state)
    }
    return { ids, live, legal }
  })

const check = (layer: Layer.Layer<EventStore.EventStore, unknown>, runs: number) =>
  fc.assert(
    fc.asyncProperty(scenario, (s) =>
      Effect.runPromise(
        Effect.gen(function*() {
          const store = yield* EventStore.EventStore
          const { ids, live } = yield* applyLive(s)
          for (const id of ids) {
            const replayed = Replay.replay(yield* store.readStream(id))
            expect(replayed).not.toBeInstanceOf(Replay.ReplayError)
            expect(replayed).toEqual(live.get(id))
            expect(JSON.stringify(yield* store.getTask(id))).toEqual(JSON.stringify(replayed))
            expect((replayed as Replay.TaskState).context.definitionId).toBe(definitionId)
          }
          const before = yield* store.dumpProjections
          yield* store.rebuildProjections
          expect(yield* store.dumpProjections).toEqual(before)
        }).pipe(Effect.provide(layer)),
      )),
    { numRuns: runs },
  )

describe("live and replayed states agree (property)", () => {
  it("memory store", () => check(LevelEventStore.layerMemory, 150), 60_000)

  it("LevelDB store", async () => {
    const dirs: Array<string> = []
    const layer = Layer.unwrap(Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "tl-prop-"))
      dirs.push(dir)
      return LevelEventStore.layer({ directory: dir })
    }))
    try {
      await check(layer, 25)
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)

  it("the generated sequences are not vacuous: they reach every status", async () => {
    const samples = fc.sample(scenario, { numRuns: 60, seed: 7 })
    const results = await Promise.all(samples.map((s) => Effect.runPromise(applyLive(s).pipe(Effect.provide(LevelEventStore.layerMemory)))))
    const reached = new Set(results.flatMap((r) => [...r.live.values()].map((state) => state.status)))
    expect([...reached].sort()).toEqual(["aborted", "continue", "done", "error", "maxIterations", "running", "triggered"])
    expect(results.filter((r) => r.legal >= 5).length).toBeGreaterThan(30)
  })
})
