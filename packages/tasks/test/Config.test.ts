/**
 * defineConfig: identity at runtime; at compile time the layer must provide
 * every service the tasks take (checked by `tsc -b packages/tasks`).
 */
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { defineConfig, TaskDefinition } from "../src/index.ts"

class Store extends Context.Service<Store, { readonly get: (key: string) => Effect.Effect<string> }>()("test/Store") {}
class Clock extends Context.Service<Clock, { readonly now: () => number }>()("test/Clock") {}

class UsesStore implements TaskDefinition.Interface {
  readonly id = "usesStore"
  readonly title = "Uses the store"
  constructor(readonly store: Context.Service.Shape<typeof Store>) {}
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

class UsesNothing implements TaskDefinition.Interface {
  readonly id = "usesNothing"
  readonly title = "Uses nothing"
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

const usesStore = TaskDefinition.createImplementation({ implementation: UsesStore, dependencies: [Store] })
const usesNothing = TaskDefinition.createImplementation({ implementation: UsesNothing, dependencies: [] })
const storeLayer = Layer.succeed(Store, { get: (key) => Effect.succeed(key) })
const clockLayer = Layer.succeed(Clock, { now: () => 0 })

describe("defineConfig", () => {
  it("returns the config unchanged", () => {
    const input = { tasks: [usesStore, usesNothing], layer: storeLayer, concurrency: 4, abortGracePeriod: 5 } as const
    const config = defineConfig(input)
    expect(config).toBe(input)
    expectTypeOf(config.tasks).toEqualTypeOf<readonly [typeof usesStore, typeof usesNothing]>()
  })

  it("has no dataDir setting (clients find the daemon by its data directory without reading the config)", () => {
    // @ts-expect-error dataDir is not a config setting: --data-dir or $TASKLANE_HOME
    const config = defineConfig({ tasks: [usesNothing], dataDir: "/tmp/tl" })
    expect(config.tasks).toEqual([usesNothing])
  })

  it("accepts a layer providing at least the services the tasks need, and no layer when none are needed", () => {
    const wider = defineConfig({ tasks: [usesStore], layer: Layer.mergeAll(storeLayer, clockLayer) })
    const bare = defineConfig({ tasks: [usesNothing] })
    expect(bare.layer).toBeUndefined()
    expect(wider.tasks).toHaveLength(1)
  })

  it("rejects a layer that lacks a service at compile time", () => {
    expectTypeOf<TaskDefinition.Implementation.Requirements<typeof usesStore | typeof usesNothing>>().toEqualTypeOf<Store>()
    const rejected = () => [
      // @ts-expect-error the layer provides Clock, not Store
      defineConfig({ tasks: [usesStore, usesNothing], layer: clockLayer }),
      // @ts-expect-error no layer, but a task needs Store
      defineConfig({ tasks: [usesStore] }),
    ]
    expect(typeof rejected).toBe("function")
  })
})
