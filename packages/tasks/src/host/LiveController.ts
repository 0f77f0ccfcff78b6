/**
 * The real {@link Controller}, built once per iteration by the daemon's runner.
 * The runner plugs its own effects in through plain callbacks (log, progress,
 * state updates, child tasks), a clock and an `AbortSignal`, so this module
 * stays free of I/O and is tested with an injected clock.
 *
 * Lifecycle: the runner creates an `AbortController`, calls `makeController`
 * with the iteration's deadline (start + definition timeout), passes the
 * controller to `run`, and aborts the signal when an abort is requested.
 * `state` keeps the input and output for this iteration; every update is
 * reported through `onInputUpdated` / `onOutputUpdated` so the runner can
 * record it, and `response.done()` without an output answers with the state's
 * output.
 */
import type { Controller, ContinueOptions, LogLevel, Progress, TriggerParams } from "../Controller.ts"
import { type ErrorInfo, toErrorInfo } from "../ErrorInfo.ts"
import { Result } from "../Result.ts"
import type { TaskSnapshot } from "../TaskSnapshot.ts"

/** One log line as the controller hands it to the runner. */
export interface LogEntry {
  readonly level: LogLevel
  readonly message: string
  readonly data?: unknown
  readonly error?: ErrorInfo | undefined
}

/** What the runner provides to build a controller for one iteration. */
export interface ControllerOptions<Input, Output> {
  /** The iteration's (decoded) input. */
  readonly input: Input
  /** The output accumulated by earlier iterations, if any. */
  readonly output?: Partial<Output> | undefined
  /** The clock, in epoch milliseconds. */
  readonly now: () => number
  /** Epoch milliseconds at which the iteration's hard timeout hits. */
  readonly deadline: number
  /** Default threshold of `isCloseToTimeout()`, in seconds (the definition's `closeToTimeout`). */
  readonly closeToTimeout: number
  /** Aborted by the runner when the task is asked to stop. */
  readonly signal: AbortSignal
  /** Receives every log line. */
  readonly onLog?: ((entry: LogEntry) => void) | undefined
  /** Receives every progress report. */
  readonly onProgress?: ((progress: Progress) => void) | undefined
  /** Receives the whole input after each `updateInput`. */
  readonly onInputUpdated?: ((input: Input) => void) | undefined
  /** Receives the whole output after each `updateOutput`. */
  readonly onOutputUpdated?: ((output: Partial<Output>) => void) | undefined
  /** Triggers a child task of the running task. */
  readonly trigger: (params: TriggerParams) => Promise<{ readonly id: string }>
  /** Lists the running task's children, optionally of one definition. */
  readonly listChildren: (definitionId: string | undefined) => Promise<ReadonlyArray<TaskSnapshot>>
}

/** `{ error?, data? }` (Tasklane's form) rather than an error given directly (Webiny's `error(message, error, data?)`). */
const isLogDetails = (u: unknown): u is { readonly error?: unknown; readonly data?: unknown } =>
  typeof u === "object" && u !== null && !(u instanceof globalThis.Error) && typeof (u as { message?: unknown }).message !== "string"

const isFiniteNonNegative = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0

const wakeAtOf = (now: number, options: ContinueOptions): number => {
  if ("seconds" in options || "wait" in options) {
    const [name, seconds] = "seconds" in options ? ["seconds", options.seconds] : ["wait", options.wait]
    if (!isFiniteNonNegative(seconds)) {
      throw new RangeError(`continue: ${name} must be a finite number >= 0, got ${String(seconds)}`)
    }
    return now + seconds * 1000
  }
  const at = options.date instanceof Date ? options.date.getTime() : Number.NaN
  if (Number.isNaN(at)) throw new RangeError("continue: date must be a valid Date")
  return at
}

const checkProgress = (progress: Progress): void => {
  if (!isFiniteNonNegative(progress.completed)) {
    throw new RangeError(`setProgress: completed must be a finite number >= 0, got ${String(progress.completed)}`)
  }
  if (progress.total !== undefined && !isFiniteNonNegative(progress.total)) {
    throw new RangeError(`setProgress: total must be a finite number >= 0, got ${String(progress.total)}`)
  }
}

/** Build the controller for one iteration. */
export const makeController = <Input, Output = unknown>(options: ControllerOptions<Input, Output>): Controller<Input, Output> => {
  let input = options.input
  let output = options.output
  const remainingMs = () => Math.max(0, options.deadline - options.now())
  const log = (level: LogLevel, message: string, data: unknown, error: unknown) =>
    options.onLog?.({
      level,
      message,
      ...(data !== undefined ? { data } : {}),
      ...(error !== undefined ? { error: toErrorInfo(error) } : {}),
    })

  function done(message: string | undefined, final?: Output): Result.Done<Output>
  function done(final?: Output): Result.Done<Output>
  function done(first?: unknown, second?: unknown): Result.Done<Output> {
    const result: Result.Done<unknown> = typeof first === "string" || first === undefined ? Result.done(first as string | undefined, second) : Result.done(first)
    return (result.output === undefined && output !== undefined ? { ...result, output } : result) as Result.Done<Output>
  }

  return {
    runtime: {
      isAborted: () => options.signal.aborted,
      isCloseToTimeout: (seconds = options.closeToTimeout) => remainingMs() <= seconds * 1000,
      getRemainingMilliseconds: remainingMs,
      getRemainingSeconds: () => Math.floor(remainingMs() / 1000),
      signal: options.signal,
    },
    response: {
      done,
      continue: (next, wait) => Result.continue(next, wait === undefined ? undefined : wakeAtOf(options.now(), wait)),
      error: (first: unknown, details?: unknown) => Result.error(first, details),
      aborted: () => Result.aborted(),
    },
    state: {
      getInput: () => input,
      getOutput: () => output,
      updateInput: (partial) => {
        input = { ...input, ...partial }
        options.onInputUpdated?.(input)
      },
      updateOutput: (partial) => {
        output = { ...output, ...partial }
        options.onOutputUpdated?.(output)
      },
      setProgress: (progress) => {
        checkProgress(progress)
        options.onProgress?.(progress)
      },
    },
    logger: {
      info: (message, data) => log("info", message, data, undefined),
      warn: (message, data) => log("warn", message, data, undefined),
      error: (message: string, details?: unknown, data?: unknown) =>
        isLogDetails(details) ? log("error", message, details.data, details.error) : log("error", message, data, details),
    },
    task: {
      trigger: (params) => options.trigger(params),
      listChildren: (definitionId) => options.listChildren(definitionId),
    },
  }
}
