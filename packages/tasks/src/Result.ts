/**
 * What one iteration of `run` answers: a tagged union of plain data objects
 * (`Done | Continue | Error | Aborted`) that the daemon inspects by `_tag`.
 * Tasks normally build them with `controller.response.*`; the constructors here
 * are the pure versions (no clock), useful in tests and in the runner.
 */
import { type ErrorInfo, errorInfoOf } from "./ErrorInfo.ts"

/**
 * The answer of one iteration: done, continue, error or aborted. Bare
 * `Result` (the default `any`, like `Interface`'s) is accepted wherever a
 * result is expected, also by a task whose `Output` is `never`.
 */
export type Result<Output = any> = Result.Done<Output> | Result.Continue | Result.Error | Result.Aborted

/** The members of {@link Result}. */
export declare namespace Result {
  /** The task finished; `output` is its final output, `message` a human summary. */
  export interface Done<Output = any> {
    readonly _tag: "Done"
    readonly message?: string | undefined
    readonly output?: Output | undefined
  }
  /** Run another iteration with `input` (it replaces the input), not before `wakeAt` (epoch ms) if set. */
  export interface Continue<Input = unknown> {
    readonly _tag: "Continue"
    readonly input: Input
    readonly wakeAt?: number | undefined
  }
  /** The task failed with `error`. */
  export interface Error {
    readonly _tag: "Error"
    readonly error: ErrorInfo
  }
  /** The task stopped because it was asked to abort. */
  export interface Aborted {
    readonly _tag: "Aborted"
  }
}

function done<Output>(message: string | undefined, output?: Output): Result.Done<Output>
function done<Output>(output?: Output): Result.Done<Output>
function done(first?: unknown, second?: unknown): Result.Done<unknown> {
  // `done(undefined, output)` (Webiny's `done(message?, output?)` without a message) keeps the output.
  const [message, output] = typeof first === "string" || (first === undefined && second !== undefined) ? [first as string | undefined, second] : [undefined, first]
  return {
    _tag: "Done",
    ...(message !== undefined ? { message } : {}),
    ...(output !== undefined ? { output } : {}),
  }
}

const continue_ = <Input>(input: Input, wakeAt?: number): Result.Continue<Input> =>
  wakeAt === undefined ? { _tag: "Continue", input } : { _tag: "Continue", input, wakeAt }

/** `error(e)` for a message, an `Error` or details; `error(message, details)` as Webiny has it (see `errorInfoOf`). */
const error = (first: unknown, details?: unknown): Result.Error => ({ _tag: "Error", error: errorInfoOf(first, details) })

const aborted = (): Result.Aborted => ({ _tag: "Aborted" })

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

const is = (u: unknown): u is Result => {
  if (!isRecord(u)) return false
  switch (u["_tag"]) {
    case "Done":
    case "Aborted":
      return true
    case "Continue":
      return "input" in u && (u["wakeAt"] === undefined || typeof u["wakeAt"] === "number")
    case "Error":
      return isRecord(u["error"]) && typeof u["error"]["message"] === "string"
    default:
      return false
  }
}

/**
 * Pure constructors and a guard for {@link Result}. `done("msg")` treats a lone
 * string as the message (use `done(message, output)` for a string output);
 * `error(message, details?)` keeps the details' code and data;
 * `continue(input, wakeAt?)` takes an absolute epoch-ms wake time.
 */
export const Result = {
  done,
  continue: continue_,
  error,
  aborted,
  /** Whether a value `run` returned is a well-formed result. */
  is,
} as const
