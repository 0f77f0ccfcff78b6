/**
 * Runs a task definition in-process the way the daemon's runner does, without
 * the event store: decode the stored input with the task's schema, build a real
 * controller (`TaskDefinition.makeController`) with an injected clock, call
 * `run`, and for a continue answer store the next input as the runner would
 * (encode with the schema, round-trip through JSON), carry the output over,
 * and wait for its wake time by moving the clock. Every iteration's input, answer, logs and progress are
 * kept for assertions.
 */
import { Context, Effect } from "effect"
import { TaskDefinition } from "@tasklane/tasks/host"

/** A manual clock: `now` in epoch ms, moved forward by `step` ms before every read. */
export interface Clock {
  now: number
  step: number
}

/** A clock at a fixed instant that only moves when told to. */
export const makeClock = (step = 0): Clock => ({ now: Date.UTC(2026, 0, 1), step })

/** What one iteration saw and answered. */
export interface Iteration {
  readonly result: TaskDefinition.Result
  /** The output after the iteration (`state.updateOutput`), carried to the next one. */
  readonly output: unknown
  readonly logs: ReadonlyArray<TaskDefinition.LogEntry>
  readonly progress: ReadonlyArray<TaskDefinition.Progress>
  /** When the iteration started, in epoch ms. */
  readonly startedAt: number
}

/** Options of {@link runIteration} and {@link runToEnd}. */
export interface RunOptions {
  readonly clock?: Clock | undefined
  /** Aborted before the iteration runs, if already aborted. */
  readonly signal?: AbortSignal | undefined
  /** The output accumulated by earlier iterations. */
  readonly output?: unknown
}

/** Instantiates and validates an implementation that needs no services. */
export const load = (implementation: TaskDefinition.Implementation<TaskDefinition.Interface, never>): Promise<TaskDefinition.Definition> =>
  Effect.runPromise(
    TaskDefinition.loadDefinitions([implementation], Context.empty()).pipe(Effect.map((definitions) => definitions[0]!)),
  )

/** Runs one iteration from a stored (JSON) input. */
export const runIteration = async (
  definition: TaskDefinition.Definition,
  stored: unknown,
  options: RunOptions = {},
): Promise<Iteration> => {
  const clock = options.clock ?? makeClock()
  const now = () => (clock.now += clock.step)
  const input = await Effect.runPromise(TaskDefinition.decodeInput(definition.task, stored))
  const logs: Array<TaskDefinition.LogEntry> = []
  const progress: Array<TaskDefinition.Progress> = []
  const startedAt = clock.now
  let output = options.output
  const controller = TaskDefinition.makeController<unknown, unknown>({
    input,
    output: output as Partial<unknown> | undefined,
    now,
    deadline: startedAt + definition.timeout * 1000,
    closeToTimeout: definition.closeToTimeout,
    signal: options.signal ?? new AbortController().signal,
    onLog: (entry) => logs.push(entry),
    onProgress: (entry) => progress.push(entry),
    onOutputUpdated: (next) => (output = next),
    trigger: () => Promise.reject(new Error("the example tasks trigger no children")),
    listChildren: () => Promise.resolve([]),
  })
  const result = await Effect.runPromise(TaskDefinition.toEffect(() => definition.task.run({ input, controller })))
  if (!TaskDefinition.Result.is(result)) throw new Error(`run answered ${JSON.stringify(result)}, not a result`)
  return { result, output, logs, progress, startedAt }
}

/** The stored form of a continue answer's input, as the runner keeps it. */
export const store = async (definition: TaskDefinition.Definition, input: unknown): Promise<unknown> =>
  JSON.parse(JSON.stringify(await Effect.runPromise(TaskDefinition.encodeInput(definition.task, input))))

/** Runs iterations until the task answers something other than continue (at most `maxIterations`). */
export const runToEnd = async (
  definition: TaskDefinition.Definition,
  input: unknown,
  options: RunOptions & { readonly beforeIteration?: (index: number) => void | Promise<void> } = {},
): Promise<ReadonlyArray<Iteration>> => {
  const clock = options.clock ?? makeClock()
  const iterations: Array<Iteration> = []
  let stored = input
  let output: unknown
  for (let index = 0; index < definition.maxIterations; index++) {
    await options.beforeIteration?.(index)
    const iteration = await runIteration(definition, stored, { ...options, clock, output })
    iterations.push(iteration)
    if (iteration.result._tag !== "Continue") return iterations
    stored = await store(definition, iteration.result.input)
    output = iteration.output
    if (iteration.result.wakeAt !== undefined) clock.now = Math.max(clock.now, iteration.result.wakeAt)
  }
  throw new Error(`${definition.id} did not finish within ${definition.maxIterations} iterations`)
}

/** The last iteration's answer. */
export const last = (iterations: ReadonlyArray<Iteration>): TaskDefinition.Result => iterations[iterations.length - 1]!.result
