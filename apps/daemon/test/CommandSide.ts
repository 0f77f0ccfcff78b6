/**
 * The daemon's command side for tests, as `main.ts` wires it: the task
 * service over Slots, a Registry of the given definitions, inline
 * Isolation and a Cluster (alone unless the test gives one), on whatever
 * EventStore the test provides. No scheduler or
 * runner: what a test triggers stays triggered (or admitted) unless it adds
 * them (core/CoreFixture.ts does).
 */
import { EventStore } from "@tasklane/core"
import { LevelEventStore } from "@tasklane/core/level"
import type { TaskDefinition } from "@tasklane/tasks/host"
import { Effect, Layer } from "effect"
import * as Cluster from "../src/Cluster.ts"
import * as Isolation from "../src/Isolation.ts"
import * as Registry from "../src/Registry.ts"
import * as Slots from "../src/Slots.ts"
import * as Tasks from "../src/Tasks.ts"

export const layer = (options: {
  readonly concurrency: number
  readonly implementations: ReadonlyArray<TaskDefinition.Implementation.Any>
  /** Where the daemon stands in a cluster; default: alone. */
  readonly cluster?: Layer.Layer<Cluster.Cluster> | undefined
}) =>
  Tasks.layer.pipe(
    Layer.provideMerge(options.cluster ?? Cluster.alone),
    Layer.provideMerge(Slots.layer({ concurrency: options.concurrency })),
    Layer.provideMerge(Registry.layer(options.implementations, undefined)),
    Layer.provideMerge(Isolation.layer({
      isolation: "inline",
      workerMemoryMb: 64,
      sources: { configPath: undefined, taskDirs: [], examples: false },
      maxWorkers: 1,
      idleMs: 1_000,
      // Never written: the watchdog acts only on a loop blocked for seconds.
      blockedPath: "/nonexistent/tasklane-test/blocked.json",
    })),
  )

/** The in-memory LevelDB store with the operations `patch` gives replaced (each may call the real one, `inner`). */
export const memoryStoreWith = (patch: (inner: EventStore.EventStore["Service"]) => Partial<EventStore.EventStore["Service"]>) =>
  Layer.effect(EventStore.EventStore, Effect.map(EventStore.EventStore, (inner) => ({ ...inner, ...patch(inner) }))).pipe(Layer.provide(LevelEventStore.layerMemory))
