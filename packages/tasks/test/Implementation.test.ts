/**
 * createImplementation: the compile-time constructor check (the `@ts-expect-error`
 * lines and `expectTypeOf` assertions are checked by `tsc -b packages/tasks`) and
 * instantiation from a Context at runtime.
 */
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { TaskDefinition } from "../src/host.ts"

class Catalog extends Context.Service<Catalog, {
  readonly page: (cursor: number, size: number) => Effect.Effect<ReadonlyArray<string>>
}>()("test/Catalog") {}

class Mailer extends Context.Service<Mailer, {
  readonly send: (to: string) => Effect.Effect<void>
}>()("test/Mailer") {}

type CatalogShape = Context.Service.Shape<typeof Catalog>
type MailerShape = Context.Service.Shape<typeof Mailer>

class Both implements TaskDefinition.Interface {
  readonly id = "both"
  readonly title = "Uses both services"
  constructor(readonly catalog: CatalogShape, readonly mailer: MailerShape) {}
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

class OnlyCatalog implements TaskDefinition.Interface {
  readonly id = "onlyCatalog"
  readonly title = "Uses the catalog"
  constructor(readonly catalog: CatalogShape) {}
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

class NoDeps implements TaskDefinition.Interface {
  readonly id = "noDeps"
  readonly title = "Needs nothing"
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

class WrongType implements TaskDefinition.Interface {
  readonly id = "wrongType"
  readonly title = "Takes a string"
  constructor(readonly catalog: string) {}
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

class WiderCatalog implements TaskDefinition.Interface {
  readonly id = "widerCatalog"
  readonly title = "Expects more than the catalog offers"
  constructor(readonly catalog: CatalogShape & { readonly count: () => number }) {}
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

class NotATask {
  readonly id = "notATask"
  readonly title = "Has no run"
}

const catalog: CatalogShape = { page: () => Effect.succeed([]) }
const mailer: MailerShape = { send: () => Effect.void }

describe("createImplementation", () => {
  it("accepts constructors whose parameters are the dependencies' shapes in order", () => {
    const both = TaskDefinition.createImplementation({ implementation: Both, dependencies: [Catalog, Mailer] })
    expectTypeOf(both).toEqualTypeOf<TaskDefinition.Implementation<Both, Catalog | Mailer>>()
    expectTypeOf<TaskDefinition.Implementation.Requirements<typeof both>>().toEqualTypeOf<Catalog | Mailer>()

    const none = TaskDefinition.createImplementation({ implementation: NoDeps, dependencies: [] })
    expectTypeOf(none).toEqualTypeOf<TaskDefinition.Implementation<NoDeps, never>>()
    const omitted = TaskDefinition.createImplementation({ implementation: NoDeps })
    expectTypeOf(omitted).toEqualTypeOf<TaskDefinition.Implementation<NoDeps, never>>()

    expect(both.className).toBe("Both")
    expect(both.dependencies).toEqual([Catalog, Mailer])
    expect(omitted.dependencies).toEqual([])
  })

  it("rejects mismatched constructors at compile time", () => {
    type Check<C extends new (...args: any) => any, D extends ReadonlyArray<Context.Key<any, any>>> =
      TaskDefinition.CheckConstructor<C, D>
    expectTypeOf<Check<typeof Both, readonly [typeof Catalog, typeof Mailer]>>().toEqualTypeOf<unknown>()
    expectTypeOf<Check<typeof Both, readonly [typeof Mailer, typeof Catalog]>>().toEqualTypeOf<
      TaskDefinition.ConstructorMismatch<[MailerShape, CatalogShape], [catalog: CatalogShape, mailer: MailerShape]>
    >()
    expectTypeOf<Check<typeof OnlyCatalog, readonly [typeof Catalog, typeof Mailer]>>().not.toEqualTypeOf<unknown>()
    expectTypeOf<Check<typeof Both, readonly [typeof Catalog]>>().not.toEqualTypeOf<unknown>()
    expectTypeOf<Check<typeof WrongType, readonly [typeof Catalog]>>().not.toEqualTypeOf<unknown>()
    expectTypeOf<Check<typeof WiderCatalog, readonly [typeof Catalog]>>().not.toEqualTypeOf<unknown>()

    const rejected = () => [
      // @ts-expect-error wrong order
      TaskDefinition.createImplementation({ implementation: Both, dependencies: [Mailer, Catalog] }),
      // @ts-expect-error a constructor parameter without a dependency
      TaskDefinition.createImplementation({ implementation: Both, dependencies: [Catalog] }),
      // @ts-expect-error a dependency the constructor does not take
      TaskDefinition.createImplementation({ implementation: OnlyCatalog, dependencies: [Catalog, Mailer] }),
      // @ts-expect-error a dependency for a constructor without parameters
      TaskDefinition.createImplementation({ implementation: NoDeps, dependencies: [Catalog] }),
      // @ts-expect-error dependencies omitted although the constructor takes a service
      TaskDefinition.createImplementation({ implementation: OnlyCatalog }),
      // @ts-expect-error a parameter type that is not the service's shape
      TaskDefinition.createImplementation({ implementation: WrongType, dependencies: [Catalog] }),
      // @ts-expect-error a parameter expecting more than the service's shape
      TaskDefinition.createImplementation({ implementation: WiderCatalog, dependencies: [Catalog] }),
      // @ts-expect-error not a task definition (no run)
      TaskDefinition.createImplementation({ implementation: NotATask, dependencies: [] }),
    ]
    expect(typeof rejected).toBe("function")
  })
})

describe("Implementation.instantiate", () => {
  const both = TaskDefinition.createImplementation({ implementation: Both, dependencies: [Catalog, Mailer] })

  it.effect("constructs the class with the services from the context, in order", () =>
    Effect.gen(function*() {
      const context = Context.make(Catalog, catalog).pipe(Context.add(Mailer, mailer))
      const task = yield* both.instantiate(context)
      expect(task).toBeInstanceOf(Both)
      expect(task.catalog).toBe(catalog)
      expect(task.mailer).toBe(mailer)
    }))

  it.effect("fails with InvalidDefinition naming the class and the missing service", () =>
    Effect.gen(function*() {
      const context = Context.make(Catalog, catalog) as Context.Context<Catalog | Mailer>
      const error = yield* Effect.flip(both.instantiate(context))
      expect(error._tag).toBe("InvalidDefinition")
      expect(error.className).toBe("Both")
      expect(error.message).toContain(`Task definition Both`)
      expect(error.message).toContain(`"test/Mailer"`)
    }))

  it.effect("fails with InvalidDefinition when the constructor throws", () =>
    Effect.gen(function*() {
      class Throws extends NoDeps {
        constructor() {
          super()
          throw new Error("no database")
        }
      }
      const implementation = TaskDefinition.createImplementation({ implementation: Throws })
      const error = yield* Effect.flip(implementation.instantiate(Context.empty()))
      expect(error.message).toBe("Task definition Throws is invalid: its constructor threw: no database")
    }))

  it("refuses a dependency that is not an Effect service (untyped JavaScript config)", () => {
    const untyped = TaskDefinition.createImplementation as (options: unknown) => unknown
    expect(() => untyped({ implementation: OnlyCatalog, dependencies: [{ page: () => [] }] })).toThrow(
      "createImplementation(OnlyCatalog): dependencies[0] is not an Effect service",
    )
  })

  it("recognises implementations (e.g. a task module's default export)", () => {
    expect(TaskDefinition.isImplementation(both)).toBe(true)
    expect(TaskDefinition.isImplementation(Both)).toBe(false)
    expect(TaskDefinition.isImplementation(null)).toBe(false)
  })
})
