/**
 * `createImplementation` registers a task class together with the Effect
 * services its constructor takes. The constructor is checked at compile time:
 * its parameters must be exactly the service shapes of `dependencies`, in
 * order (`Context.Service.Shape<typeof Tag>`); a wrong order, a missing or
 * extra parameter, or a wrong type is a type error on `implementation`.
 *
 * The daemon never constructs a class itself: it builds the config's layer,
 * then calls `instantiate(context)`, which reads each dependency from the
 * context and fails with a typed `InvalidDefinition` if one is missing or the
 * constructor throws. Metadata (id, title, ...) is read from the instance.
 *
 * `createHandlerImplementation` (`TaskHandler.createImplementation`) registers
 * the other half of Webiny v6's split definition, a class with `run` and the
 * hooks; a definition that points at one with `handler` needs its services too.
 */
import { Context, Effect, Option } from "effect"
import { InvalidDefinition } from "./InvalidDefinition.ts"
import { toErrorInfo } from "./ErrorInfo.ts"
import type { Handler, Interface } from "./Interface.ts"

const TypeId = "~@tasklane/tasks/Implementation" as const

/** A registered task (or handler) class: its dependencies and how to construct it. */
export interface Implementation<Task extends object = Interface, R = never> {
  readonly [TypeId]: { readonly _R: (_: never) => R }
  /** The class's name, for messages. */
  readonly className: string
  /** The task class itself. */
  readonly implementation: new (...args: any) => Task
  /** The service tags passed to the constructor, in order. */
  readonly dependencies: ReadonlyArray<Context.Key<any, any>>
  /** Construct the task with services from `context`. */
  readonly instantiate: (context: Context.Context<R>) => Effect.Effect<Task, InvalidDefinition>
}

/** Type helpers for {@link Implementation}. */
export declare namespace Implementation {
  /** Any implementation, whatever its task and services. */
  export type Any = Implementation<Interface, any>
  /** The services an implementation (or a union of them) needs. */
  export type Requirements<I> = I extends Implementation<any, infer R> ? R : never
}

/** The service shapes of a tuple of service tags, as a constructor parameter list. */
export type ServiceShapes<Deps extends ReadonlyArray<Context.Key<any, any>>> = {
  -readonly [K in keyof Deps]: Context.Service.Shape<Deps[K]>
}

/** The compile-time error for a constructor that does not match its dependencies. */
export interface ConstructorMismatch<Expected, Actual> {
  readonly "~error": "The constructor's parameters must be the dependencies' service shapes, in order"
  readonly expectedParameters: Expected
  readonly actualParameters: Actual
}

/** `unknown` when `Ctor`'s parameters are exactly the shapes of `Deps`, else a {@link ConstructorMismatch}. */
export type CheckConstructor<Ctor extends new (...args: any) => any, Deps extends ReadonlyArray<Context.Key<any, any>>> =
  [ConstructorParameters<Ctor>] extends [ServiceShapes<Deps>]
    ? [ServiceShapes<Deps>] extends [ConstructorParameters<Ctor>] ? unknown
    : ConstructorMismatch<ServiceShapes<Deps>, ConstructorParameters<Ctor>>
    : ConstructorMismatch<ServiceShapes<Deps>, ConstructorParameters<Ctor>>

/** The services a definition's `handler` (if any) needs. */
export type HandlerRequirements<Task> = Task extends { readonly handler?: infer H } ? Implementation.Requirements<H> : never

/** The compile-time error for a definition class with neither `run` nor `handler`. */
export interface MissingRun {
  readonly "~error": "A task definition needs a run method, or a handler (TaskHandler.createImplementation(...))"
}

/** `unknown` when instances of `Ctor` have `run` or `handler`, else {@link MissingRun}. */
export type CheckRunnable<Ctor extends new (...args: any) => any> = InstanceType<Ctor> extends
  { run(...args: any): any } | { readonly handler: Implementation<any, any> } ? unknown : MissingRun

const register = <Task extends object, R>(
  options: { readonly implementation: unknown; readonly dependencies?: ReadonlyArray<Context.Key<any, any>> | undefined },
): Implementation<Task, R> => {
  const implementation = options.implementation as new (...args: ReadonlyArray<unknown>) => Task
  if (typeof implementation !== "function") {
    throw new TypeError(`createImplementation: implementation must be a class, got ${typeof implementation}`)
  }
  const dependencies: ReadonlyArray<Context.Key<any, any>> = options.dependencies ?? []
  const className = implementation.name === "" ? "<anonymous>" : implementation.name
  const notAService = dependencies.findIndex((dependency) => !Context.isKey(dependency))
  if (notAService !== -1) {
    throw new TypeError(`createImplementation(${className}): dependencies[${notAService}] is not an Effect service`)
  }
  const fail = (reason: string) => Effect.fail(new InvalidDefinition({ className, reasons: [reason] }))
  return {
    [TypeId]: { _R: (_: never) => _ },
    className,
    implementation,
    dependencies,
    instantiate: (context) =>
      Effect.suspend(() => {
        const services: Array<unknown> = []
        for (const tag of dependencies) {
          const service = Context.getOption(context as Context.Context<unknown>, tag)
          if (Option.isNone(service)) return fail(`the config's layer does not provide its dependency "${tag.key}"`)
          services.push(service.value)
        }
        try {
          return Effect.succeed(new implementation(...services))
        } catch (thrown) {
          return fail(`its constructor threw: ${toErrorInfo(thrown).message}`)
        }
      }),
  }
}

/** Register a task class and the service tags its constructor takes (in order). */
export const createImplementation = <
  Ctor extends new (...args: any) => Interface,
  const Deps extends ReadonlyArray<Context.Key<any, any>> = readonly [],
>(options: {
  readonly implementation: Ctor & CheckConstructor<Ctor, Deps> & CheckRunnable<Ctor>
  readonly dependencies?: Deps | undefined
}): Implementation<InstanceType<Ctor>, Context.Service.Identifier<Deps[number]> | HandlerRequirements<InstanceType<Ctor>>> =>
  register(options)

/** Register a handler class (`run` and hooks; Webiny v6's `TaskHandler`) and the service tags its constructor takes. */
export const createHandlerImplementation = <
  Ctor extends new (...args: any) => Handler,
  const Deps extends ReadonlyArray<Context.Key<any, any>> = readonly [],
>(options: {
  readonly implementation: Ctor & CheckConstructor<Ctor, Deps>
  readonly dependencies?: Deps | undefined
}): Implementation<InstanceType<Ctor>, Context.Service.Identifier<Deps[number]>> => register(options)

/** Whether a value (e.g. a task module's default export) is an {@link Implementation}. */
export const isImplementation = (u: unknown): u is Implementation.Any =>
  typeof u === "object" && u !== null && TypeId in u
