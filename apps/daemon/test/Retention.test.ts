/**
 * Retention.ts in process, over a memory store whose retention figures are
 * counted and grow with each read: Info's figures are reused for
 * `infoMaxAgeMs` (TestClock), read again after that, and read right away
 * after a prune. A prune against a real daemon is test/cli/Prune.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventStore } from "@tasklane/core"
import { LevelEventStore } from "@tasklane/core/level"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as Retention from "../src/Retention.ts"

/** A memory store whose `retention` reports a size that grows by one each time the store is asked. */
const countingStore = (reads: { count: number }) =>
  Layer.effect(EventStore.EventStore)(
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      return EventStore.EventStore.of({
        ...store,
        retention: Effect.map(store.retention, (info) => ({ ...info, sizeOnDisk: ++reads.count })),
      })
    }),
  ).pipe(Layer.provide(LevelEventStore.layerMemory))

describe("Retention.info", () => {
  it.effect("reuses the store's figures for infoMaxAgeMs, then reads them again; a prune refreshes them at once", () => {
    const reads = { count: 0 }
    return Effect.gen(function*() {
      const retention = yield* Retention.Retention
      const first = yield* retention.info
      expect((yield* retention.info).sizeOnDisk).toBe(first.sizeOnDisk)
      yield* TestClock.adjust(Retention.infoMaxAgeMs - 1)
      expect((yield* retention.info).sizeOnDisk).toBe(first.sizeOnDisk)
      expect(reads.count).toBe(1)

      yield* TestClock.adjust(1)
      const second = yield* retention.info
      expect(second.sizeOnDisk).toBeGreaterThan(first.sizeOnDisk!)

      yield* retention.prune({ olderThanMs: 0, dryRun: true })
      const afterPrune = yield* retention.info
      expect(afterPrune.sizeOnDisk).toBeGreaterThan(second.sizeOnDisk!)
    }).pipe(Effect.provide(Retention.layer(undefined).pipe(Layer.provide(countingStore(reads)))))
  })
})
