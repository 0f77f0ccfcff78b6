/**
 * Definition checks and defaults: what the daemon refuses to load, and with
 * which message, and what it fills in.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Schema } from "effect"
import { TaskDefinition } from "../src/host.ts"

class Minimal implements TaskDefinition.Interface {
  readonly id: string = "minimal"
  readonly title: string = "Minimal"
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

const invalid = (task: TaskDefinition.Interface) => Effect.flip(TaskDefinition.resolveDefinition(task))

describe("resolveDefinition", () => {
  it.effect("applies the defaults to omitted metadata", () =>
    Effect.gen(function*() {
      const task = new Minimal()
      const definition = yield* TaskDefinition.resolveDefinition(task)
      expect(definition).toEqual({
        id: "minimal",
        title: "Minimal",
        description: undefined,
        maxIterations: 50,
        databaseLogs: true,
        isPrivate: false,
        schedules: [],
        timeout: 900,
        closeToTimeout: 180,
        retry: undefined,
        concurrency: undefined,
        isolation: undefined,
        memoryLimitMb: undefined,
        maxCrashRetries: 1,
        className: "Minimal",
        task,
      })
    }))

  it.effect("keeps what the class sets", () =>
    Effect.gen(function*() {
      class Custom extends Minimal {
        readonly maxIterations = 3
        readonly databaseLogs = false
        readonly isPrivate = true
        readonly timeout = 60
        readonly closeToTimeout = 10
        readonly retry = { maxAttempts: 3, backoff: { initialSeconds: 1 } }
        readonly concurrency = 2
      }
      const definition = yield* TaskDefinition.resolveDefinition(new Custom())
      expect(definition).toMatchObject({
        maxIterations: 3,
        databaseLogs: false,
        isPrivate: true,
        timeout: 60,
        closeToTimeout: 10,
        retry: { maxAttempts: 3, backoff: { initialSeconds: 1 } },
        concurrency: 2,
      })
    }))

  it.effect("rejects a concurrency that is not a positive integer", () =>
    Effect.gen(function*() {
      class Greedy extends Minimal {
        readonly concurrency = 0.5
      }
      const error = yield* invalid(new Greedy())
      expect(error.reasons).toContain("concurrency must be a positive integer, got 0.5")
    }))

  it.effect("checks isolation, memoryLimitMb and maxCrashRetries", () =>
    Effect.gen(function*() {
      class Contained extends Minimal {
        readonly isolation = "worker" as const
        readonly memoryLimitMb = 64
        readonly maxCrashRetries = 0
      }
      expect(yield* TaskDefinition.resolveDefinition(new Contained())).toMatchObject({ isolation: "worker", memoryLimitMb: 64, maxCrashRetries: 0 })
      class Wrong extends Minimal {
        readonly isolation = "process" as unknown as "worker"
        readonly memoryLimitMb = 8
        readonly maxCrashRetries = -1
      }
      expect((yield* invalid(new Wrong())).reasons).toEqual([
        `isolation must be "inline" or "worker", got "process"`,
        "memoryLimitMb must be an integer of at least 16, got 8",
        "maxCrashRetries must be an integer >= 0, got -1",
      ])
    }))

  it.effect("rejects an id that is not camelCase, naming the class", () =>
    Effect.gen(function*() {
      for (const id of ["Reindex", "re-index", "re_index", "1st", ""]) {
        class BadId extends Minimal {
          override readonly id = id
        }
        const error = yield* invalid(new BadId())
        expect(error._tag).toBe("InvalidDefinition")
        expect(error.className).toBe("BadId")
        expect(error.message).toBe(
          `Task definition BadId (id "${id}") is invalid: id "${id}" is not camelCase: ` +
            `it must match /^[a-z][a-zA-Z0-9]*$/, e.g. "reindexCatalog"`,
        )
      }
    }))

  it.effect("lists every problem of a class at once", () =>
    Effect.gen(function*() {
      class Broken extends Minimal {
        override readonly title = "  "
        readonly maxIterations = 2.5
        readonly timeout = 0
        readonly retry = { maxAttempts: 0 }
      }
      const error = yield* invalid(new Broken())
      expect(error.reasons).toEqual([
        "title must be a non-empty string",
        "maxIterations must be a positive integer, got 2.5",
        "timeout must be a positive number of seconds, got 0",
        "retry.maxAttempts must be a positive integer, got 0",
      ])
    }))

  it.effect("rejects a close-to-timeout threshold that is not below the timeout", () =>
    Effect.gen(function*() {
      class ShortTimeout extends Minimal {
        readonly timeout = 60
      }
      const error = yield* invalid(new ShortTimeout())
      expect(error.reasons).toEqual([
        "closeToTimeout (180s, the default) must be below timeout (60s), or isCloseToTimeout() is always true; " +
        "set a smaller closeToTimeout",
      ])
      class NegativeThreshold extends Minimal {
        readonly closeToTimeout = -5
      }
      expect((yield* invalid(new NegativeThreshold())).reasons).toEqual([
        "closeToTimeout must be a positive number of seconds, got -5",
      ])
    }))

  it.effect("rejects a createInputValidation that returns no schema or throws", () =>
    Effect.gen(function*() {
      const task = Object.assign(new Minimal(), { createInputValidation: () => ({ folder: "string" }) })
      expect((yield* invalid(task as unknown as TaskDefinition.Interface)).reasons).toEqual([
        "createInputValidation() must return an Effect Schema, a zod schema, or an object of zod fields",
      ])
      const throwing = Object.assign(new Minimal(), {
        createInputValidation: () => {
          throw new Error("schema module missing")
        },
      })
      expect((yield* invalid(throwing)).reasons).toEqual(["createInputValidation() threw: schema module missing"])
      const withSchema = Object.assign(new Minimal(), { createInputValidation: () => Schema.Struct({}) })
      expect((yield* TaskDefinition.resolveDefinition(withSchema)).id).toBe("minimal")
    }))

  it.effect("checks declared schedules: shape, names, cron and zone; none declared is an empty list", () =>
    Effect.gen(function*() {
      expect((yield* TaskDefinition.resolveDefinition(new Minimal())).schedules).toEqual([])
      const declared = [{ name: "nightly", cron: "0 3 * * *", tz: "Europe/Berlin", input: { a: 1 }, overlap: "queue" as const }]
      expect((yield* TaskDefinition.resolveDefinition(Object.assign(new Minimal(), { schedules: declared }))).schedules).toEqual(declared)
      const wrongShape = yield* invalid(Object.assign(new Minimal(), { schedules: [{ name: "x", cron: "* * * * *", overlap: "sometimes" as never }] }))
      expect(wrongShape.reasons).toHaveLength(1)
      expect(wrongShape.reasons[0]).toMatch(/^schedules must be an array of \{ name, cron, tz\?, input\?, overlap\?, catchUp\? \}: Expected "skip" \| "allow" \| "queue" at \[0\]\["overlap"\]$/)
      const bad = yield* invalid(Object.assign(new Minimal(), {
        schedules: [
          { name: "has space", cron: "* * * * *" },
          { name: "a", cron: "61 * * * *" },
          { name: "a", cron: "* * * * *", tz: "Mars/Olympus" },
        ],
      }))
      expect(bad.reasons).toEqual([
        expect.stringMatching(/^schedule "has space": the name must be 1 to 64 letters/),
        expect.stringMatching(/^schedule "a": invalid cron: "61 \* \* \* \*" is not a cron expression/),
        'schedule "a" is declared twice',
        expect.stringMatching(/^schedule "a": invalid tz: "Mars\/Olympus" is not a time zone/),
      ])
    }))
})

describe("validateDefinitions", () => {
  it.effect("rejects a duplicate id, naming both classes", () =>
    Effect.gen(function*() {
      class First extends Minimal {}
      class Second extends Minimal {}
      const error = yield* Effect.flip(TaskDefinition.validateDefinitions([new First(), new Second()]))
      expect(error.message).toBe(
        `Task definition Second (id "minimal") is invalid: id "minimal" is already used by First`,
      )
    }))

  it.effect("returns resolved definitions in order", () =>
    Effect.gen(function*() {
      class Other extends Minimal {
        override readonly id = "other"
      }
      const definitions = yield* TaskDefinition.validateDefinitions([new Minimal(), new Other()])
      expect(definitions.map((definition) => [definition.id, definition.className])).toEqual([
        ["minimal", "Minimal"],
        ["other", "Other"],
      ])
    }))
})

describe("loadDefinitions", () => {
  class Greeting extends Context.Service<Greeting, { readonly text: string }>()("test/Greeting") {}
  class Greeter extends Minimal {
    override readonly id = "greeter"
    constructor(readonly greeting: Context.Service.Shape<typeof Greeting>) {
      super()
    }
  }

  it.effect("instantiates implementations with the context's services and validates them", () =>
    Effect.gen(function*() {
      const implementations = [
        TaskDefinition.createImplementation({ implementation: Greeter, dependencies: [Greeting] }),
        TaskDefinition.createImplementation({ implementation: Minimal }),
      ]
      const definitions = yield* TaskDefinition.loadDefinitions(implementations, Context.make(Greeting, { text: "hi" }))
      expect(definitions.map((definition) => definition.id)).toEqual(["greeter", "minimal"])
      expect((definitions[0]?.task as Greeter).greeting.text).toBe("hi")
    }))
})
