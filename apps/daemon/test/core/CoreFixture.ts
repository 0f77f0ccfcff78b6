/**
 * The daemon core in-process, for lifecycle tests on `TestClock`: Tasks,
 * Slots, Registry, inline Isolation, Runner, Hooks and Scheduler assembled
 * as `main.ts` assembles them, over an EventStore the test provides (the
 * memory store, kept outside the core so a test can drop the core as a crash
 * or a shutdown would and build it again on the same store).
 *
 * Everything that decides time reads the Effect clock (the Scheduler's wake
 * times and dispatch wait, the abort grace, retry and delay wake times,
 * `isCloseToTimeout`); the one plain timer, an iteration's hard timeout, is
 * put on the Effect clock through the Runner's `setTimer` option. The rest
 * of the work is real asynchronous code (the store's writes, Promise
 * answers), so a test moves the clock, then waits for the core to go quiet
 * (`settle`: no wall-clock timer involved) before it asserts.
 *
 * `nodeId` runs the core as a node of a cluster (the Cluster service says so;
 * nothing else of cluster mode is involved).
 *
 * The definitions below are one per lifecycle situation; what task code and
 * hooks did is noted in {@link probe}, which `make` clears.
 */
import { EventStore, Ids, Replay, TaskEvent } from "@tasklane/core"
import { LevelEventStore } from "@tasklane/core/level"
import { TaskDefinition } from "@tasklane/tasks"
import { Iteration } from "@tasklane/tasks/host"
import { Context, Duration, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { TestClock } from "effect/testing"
import * as Cluster from "../../src/Cluster.ts"
import * as Hooks from "../../src/Hooks.ts"
import * as CommandSide from "../CommandSide.ts"
import * as Runner from "../../src/Runner.ts"
import * as Scheduler from "../../src/Scheduler.ts"
import * as Tasks from "../../src/Tasks.ts"

type Params<I = any> = TaskDefinition.RunParams<I>

/** What task code and hooks did, in order: `"<what>:<taskId>"`. */
export const probe: Array<string> = []

class Quick implements TaskDefinition.Interface {
  readonly id = "quick"
  readonly title = "Answers done at once"
  run({ input, controller }: Params) {
    return controller.response.done({ echoed: input })
  }
}

class Counter implements TaskDefinition.Interface<{ n: number; target: number; delaySeconds?: number }> {
  readonly id = "counter"
  readonly title = "Counts to a target, one iteration per step, optionally waiting between steps"
  readonly maxIterations = 100
  run({ input, controller }: Params<{ n: number; target: number; delaySeconds?: number }>) {
    if (input.n >= input.target) return controller.response.done({ counted: input.n })
    const next = { ...input, n: input.n + 1 }
    return input.delaySeconds ? controller.response.continue(next, { seconds: input.delaySeconds }) : controller.response.continue(next)
  }
}

/** Answers what its input asks for; every hook notes that it ran. */
class Hooked implements TaskDefinition.Interface<{ answer: "done" | "error" | "continue" | "aborted" | "throw" }> {
  readonly id = "hooked"
  readonly title = "Answers as asked, with all four hooks"
  readonly maxIterations = 3
  run({ input, controller }: Params<{ answer: string }>) {
    switch (input.answer) {
      case "done":
        return controller.response.done("all good", { answered: "done" })
      case "error":
        return controller.response.error({ message: "bad things", code: "E_BAD" })
      case "continue":
        return controller.response.continue(input)
      case "aborted":
        return controller.response.aborted()
      default:
        throw new Error("kaboom")
    }
  }
  onDone({ task }: TaskDefinition.LifecycleHookParams) {
    probe.push(`onDone:${task.id}`)
  }
  onError({ task }: TaskDefinition.LifecycleHookParams) {
    probe.push(`onError:${task.id}`)
  }
  onAbort({ task }: TaskDefinition.LifecycleHookParams) {
    probe.push(`onAbort:${task.id}`)
  }
  onMaxIterations({ task }: TaskDefinition.LifecycleHookParams) {
    probe.push(`onMaxIterations:${task.id}`)
  }
}

/** A Promise that never settles (until the abort signal rejects it). */
class Hanger implements TaskDefinition.Interface {
  readonly id = "hanger"
  readonly title = "A Promise run that never answers"
  readonly timeout = 10
  readonly closeToTimeout = 2
  run({ controller }: Params) {
    return new Promise<never>((_, reject) => controller.runtime.signal.addEventListener("abort", () => reject(new Error("signalled"))))
  }
}

class HangerEffect implements TaskDefinition.Interface {
  readonly id = "hangerEffect"
  readonly title = "An Effect run that never answers"
  readonly timeout = 10
  readonly closeToTimeout = 2
  run({ controller }: Params) {
    return Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => probe.push(`interrupted:${controller.state.getInput().id}`))))
  }
}

/** Answers `aborted` as soon as its abort signal fires. */
class Aborter implements TaskDefinition.Interface {
  readonly id = "aborter"
  readonly title = "Works until aborted"
  run({ controller }: Params) {
    return new Promise<TaskDefinition.Result>((resolve) =>
      controller.runtime.signal.addEventListener("abort", () => resolve(controller.response.aborted()))
    )
  }
}

class Stubborn implements TaskDefinition.Interface {
  readonly id = "stubborn"
  readonly title = "Ignores abort requests"
  run({ controller }: Params) {
    controller.state.setProgress({ completed: 0 })
    return Effect.never
  }
}

/** Sleeps `seconds` on the Effect clock (the test's), then done; notes its start, its end or its interruption. */
const sleepThenDone = ({ input, controller }: Params<{ seconds: number; tag: string }>) =>
  Effect.andThen(
    Effect.sync(() => probe.push(`start:${input.tag}`)),
    Effect.sleep(Duration.seconds(input.seconds)).pipe(
      Effect.onInterrupt(() => Effect.sync(() => probe.push(`interrupted:${input.tag}`))),
      Effect.andThen(Effect.sync(() => probe.push(`end:${input.tag}`))),
      Effect.as(controller.response.done({ slept: input.seconds })),
    ),
  )

class Sleeper implements TaskDefinition.Interface<{ seconds: number; tag: string }> {
  readonly id = "sleeper"
  readonly title = "Sleeps on the Effect clock, then done"
  readonly maxCrashRetries = 2
  run(params: Params<{ seconds: number; tag: string }>) {
    return sleepThenDone(params)
  }
}

/** Sleeps on the Effect clock, then logs a line, reports progress and answers done: all of it after the sleep. */
class LateReporter implements TaskDefinition.Interface<{ seconds: number; tag: string }> {
  readonly id = "lateReporter"
  readonly title = "Reports only after its sleep"
  run({ input, controller }: Params<{ seconds: number; tag: string }>) {
    return Effect.andThen(
      Effect.sleep(Duration.seconds(input.seconds)),
      Effect.sync(() => {
        probe.push(`report:${input.tag}`)
        controller.logger.info(`late line of ${input.tag}`)
        controller.state.setProgress({ completed: 1, total: 1 })
        return controller.response.done({ reported: input.tag })
      }),
    )
  }
}

class Serial implements TaskDefinition.Interface<{ seconds: number; tag: string }> {
  readonly id = "serial"
  readonly title = "Sleeps, one task of this definition at a time"
  readonly concurrency = 1
  run(params: Params<{ seconds: number; tag: string }>) {
    return sleepThenDone(params)
  }
}

/** Fails its first two attempts, then done; backoff 5 s, then 15 s. */
const attempts = new Map<string, number>()
class Retrying implements TaskDefinition.Interface<{ key: string }> {
  readonly id = "retrying"
  readonly title = "Fails twice, then succeeds"
  readonly retry = { maxAttempts: 3, backoff: { initialSeconds: 5, factor: 3 } }
  run({ input, controller }: Params<{ key: string }>) {
    const n = (attempts.get(input.key) ?? 0) + 1
    attempts.set(input.key, n)
    return n < 3 ? controller.response.error(`attempt ${n} failed`) : controller.response.done({ attempts: n })
  }
}

/** Hangs past its timeout on every attempt; retried once after 30 s. */
class RetryingHanger implements TaskDefinition.Interface {
  readonly id = "retryingHanger"
  readonly title = "Times out, retried once"
  readonly timeout = 10
  readonly closeToTimeout = 2
  readonly retry = { maxAttempts: 2, backoff: { initialSeconds: 30 } }
  run() {
    return Effect.never
  }
}

/** Works in 1 s steps on the Effect clock until `isCloseToTimeout()`, then continues with how far it got. */
class Chunked implements TaskDefinition.Interface<{ steps: number }> {
  readonly id = "chunked"
  readonly title = "Works until close to its timeout"
  readonly timeout = 10
  readonly closeToTimeout = 3
  readonly maxIterations = 2
  run({ input, controller }: Params<{ steps: number }>) {
    const step = (steps: number): Effect.Effect<TaskDefinition.Result> =>
      controller.runtime.isCloseToTimeout()
        ? Effect.succeed(controller.response.continue({ steps }))
        : Effect.andThen(Effect.sleep(Duration.seconds(1)), Effect.suspend(() => step(steps + 1)))
    return step(input.steps)
  }
}

/** Done at once; its onDone throws or never settles, as the input says (10 s timeout). */
class BadHook implements TaskDefinition.Interface<{ hook: "throws" | "hangs" }> {
  readonly id = "badHook"
  readonly title = "Done, but onDone throws or hangs"
  readonly timeout = 10
  readonly closeToTimeout = 2
  run({ controller }: Params) {
    return controller.response.done()
  }
  onDone({ task }: TaskDefinition.LifecycleHookParams<{ hook: string }>) {
    probe.push(`onDone:${task.id}`)
    if (task.input.hook === "throws") throw new Error("hook exploded")
    return new Promise<void>(() => {})
  }
}

/** Triggers `children` aborter tasks, then works until aborted. */
class Parent implements TaskDefinition.Interface<{ children: number }> {
  readonly id = "parent"
  readonly title = "Starts children, then waits until aborted"
  async run({ input, controller }: Params<{ children: number }>) {
    for (let i = 0; i < input.children; i++) await controller.task.trigger({ definition: "aborter", input: {}, name: `child ${i}` })
    return new Aborter().run({ input, controller })
  }
}

/** One definition per lifecycle situation. */
export const implementations = [Quick, Counter, Hooked, Hanger, HangerEffect, Aborter, Stubborn, Sleeper, LateReporter, Serial, Retrying, RetryingHanger, Chunked, BadHook, Parent]
  .map((implementation) => TaskDefinition.createImplementation({ implementation: implementation as never }))

/** Options of the core under test. */
export interface CoreOptions {
  readonly concurrency?: number
  readonly abortGraceSeconds?: number
  readonly shutdownGraceSeconds?: number
  /** Run as this node of a cluster (the Cluster service's node id); default: alone. */
  readonly nodeId?: string
}

/**
 * The iteration timer on the Effect clock of `context` (the test's
 * `TestClock`): a fiber sleeping there, interrupted to cancel.
 */
export const setTimerOn = (context: Context.Context<never>): Iteration.SetTimer => (millis, fire) => {
  const fiber = Effect.runForkWith(context)(Effect.andThen(Effect.sleep(Duration.millis(millis)), Effect.sync(fire)))
  return () => fiber.interruptUnsafe()
}

/** Tasks, Slots, Registry, inline Isolation and the Cluster service: the part of the core every command goes through. */
const base = (concurrency: number, nodeId?: string) =>
  CommandSide.layer({
    concurrency,
    implementations,
    cluster: nodeId === undefined ? Cluster.alone : Layer.succeed(Cluster.Cluster, { nodeId, nodes: Effect.succeed([]), membership: undefined, lost: Effect.never }),
  })

/** The task service alone (no scheduler, no runner): to write a store the way a crashed daemon left it. */
export const tasksOnly = base(8)

/** The daemon core as `main.ts` wires it, over the EventStore in context; the iteration timer on the caller's clock. */
export const core = (options: CoreOptions = {}) =>
  Layer.unwrap(Effect.map(Effect.context<never>(), (context) => {
    const concurrency = options.concurrency ?? 8
    return Scheduler.layer({ concurrency, shutdownGraceSeconds: options.shutdownGraceSeconds ?? 2 }).pipe(
      Layer.provideMerge(Hooks.layer),
      Layer.provideMerge(Runner.layer({ abortGraceSeconds: options.abortGraceSeconds ?? 5, setTimer: setTimerOn(context) })),
      Layer.provideMerge(base(concurrency, options.nodeId)),
    )
  }))

/** A fixed start time, so recorded times are the same on every run. */
export const epoch = Date.UTC(2030, 0, 1)

/** An event as a test reads it: type, data and time since {@link epoch} in ms. */
export interface Seen {
  readonly type: string
  readonly data: Record<string, unknown>
  readonly at: number
}

const toSeen = (recorded: TaskEvent.RecordedEvent): Seen => {
  const { _tag, ...data } = recorded.event as unknown as { _tag: string } & Record<string, unknown>
  return { type: _tag, data: { ...data }, at: recorded.at - epoch }
}

/** One macrotask turn. */
const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * Waits until nothing is written for a while: the store's head stands still
 * over many macrotask turns (the core's work between two clock moves is
 * store writes and Promise answers, all of which take turns, no timers).
 */
const settleOn = (store: EventStore.EventStore["Service"]) =>
  Effect.gen(function*() {
    let last = -1
    for (let still = 0; still < 25;) {
      yield* turn
      const head = yield* store.head
      still = head === last ? still + 1 : 0
      last = head
    }
  })

/** The helpers a test uses, over one store. */
export const harness = (store: EventStore.EventStore["Service"]) => {
  const settle = settleOn(store)
  /** Moves the clock by `seconds`, then settles. */
  const advance = (seconds: number) => Effect.andThen(TestClock.adjust(Duration.millis(Math.round(seconds * 1000))), settle)
  const events = (taskId: string) => Effect.map(Effect.orDie(store.readStream(taskId as Ids.TaskId)), (recorded) => recorded.map(toSeen))
  const types = (taskId: string) => Effect.map(events(taskId), (seen) => seen.map((event) => event.type))
  const state = (taskId: string) =>
    Effect.flatMap(Effect.orDie(store.getTask(taskId as Ids.TaskId)), (found) => (found === undefined ? Effect.die(`no task ${taskId}`) : Effect.succeed(found)))
  const status = (taskId: string) => Effect.map(state(taskId), (found: Replay.TaskState) => found.status)
  return { store, settle, advance, events, types, state, status }
}

/** Triggers a task through the task service; its id. */
export const trigger = (definitionId: string, input: unknown, options: { readonly delaySeconds?: number; readonly name?: string } = {}) =>
  Effect.gen(function*() {
    const tasks = yield* Tasks.Tasks
    const triggered = yield* Effect.orDie(tasks.trigger({ definitionId, input, ...options }))
    return triggered.context.taskId as string
  })

/**
 * Runs `use` on a fresh memory store with the clock at {@link epoch} and
 * `probe` cleared; the store outlives any core `use` builds on it.
 */
export const withStore = <A, E, R>(use: (h: ReturnType<typeof harness>) => Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.gen(function*() {
    probe.length = 0
    attempts.clear()
    yield* TestClock.setTime(epoch)
    const context = yield* Layer.build(Layer.fresh(LevelEventStore.layerMemory))
    const store = Context.get(context, EventStore.EventStore)
    return yield* use(harness(store)).pipe(Effect.provideContext(context))
  }))

/**
 * Builds the core in its own scope on the store in context; `use` runs with
 * it and gets `stop`, a shutdown as SIGTERM makes one (running iterations
 * get the shutdown grace on the test clock, which `stop` moves through in
 * 1 s steps, and only while the shutdown waits). The core stops when `use` ends, if `use` did not stop it.
 */
export const withCore = <A, E, R>(
  options: CoreOptions,
  use: (stop: Effect.Effect<void>) => Effect.Effect<A, E, R>,
) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(core(options), scope)
    const settle = settleOn(yield* EventStore.EventStore)
    let stopped = false
    const stop = Effect.gen(function*() {
      if (stopped) return
      stopped = true
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      // The clock moves only while the shutdown waits for running iterations (its grace), a second at a time.
      for (;;) {
        yield* settle
        if (closing.pollUnsafe() !== undefined) break
        yield* TestClock.adjust(Duration.seconds(1))
      }
      yield* Fiber.join(closing)
    })
    return yield* use(stop).pipe(Effect.provideContext(context), Effect.ensuring(stop))
  })
