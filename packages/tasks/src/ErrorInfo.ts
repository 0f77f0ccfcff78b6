/**
 * Error details as plain data: what `controller.response.error(...)`, a thrown
 * value, a rejected promise or `controller.logger.error(..., { error })` becomes
 * before it is recorded: `ErrorInfo` is the recorded shape itself
 * (`TaskShapes.ErrorInfo` of `@tasklane/core`, what events and the wire carry).
 * {@link errorInfoOf} is the one reading of `error(message, details?)`, the
 * two-argument form Webiny's `controller.response.error` has.
 */
import type { TaskShapes } from "@tasklane/core"

/** Error details as recorded for a failed task or an error log line. */
export type ErrorInfo = TaskShapes.ErrorInfo

/** Structured error details (Webiny's `IResponseError`: `code` and `data` may be null there). */
export interface ErrorDetails {
  readonly message: string
  readonly code?: string | null | undefined
  readonly data?: unknown
  readonly stack?: string | undefined
}

/** What `controller.response.error` accepts: a message, an `Error`, or structured details. */
export type ErrorInput = string | globalThis.Error | ErrorDetails

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

const stringField = (record: Record<string, unknown>, key: string): string | undefined => {
  const value = record[key]
  return typeof value === "string" ? value : undefined
}

/**
 * Turns anything a task produced or threw into {@link ErrorInfo}. An `Error`
 * keeps its message and stack; its `code` (or an Effect error's `_tag`) becomes
 * `code`; a `data` property is kept. Any other value becomes its string form.
 */
export const toErrorInfo = (u: unknown): ErrorInfo => {
  if (typeof u === "string") return { message: u }
  if (!isRecord(u)) return { message: String(u) }
  const isError = u instanceof globalThis.Error
  const message = stringField(u, "message")
  if (message === undefined && !isError) return { message: "Unknown error", data: u }
  const code = stringField(u, "code") ?? stringField(u, "_tag")
  const stack = isError ? u.stack : undefined
  return {
    message: message !== undefined && message !== "" ? message : isError ? u.name : "Unknown error",
    ...(code !== undefined ? { code } : {}),
    ...(u["data"] !== undefined ? { data: u["data"] } : {}),
    ...(stack !== undefined ? { stack } : {}),
  }
}

/**
 * The error of `error(first, details?)`. With one argument it is
 * {@link toErrorInfo} of it. With details (an `Error`, `{ message, code?,
 * data? }` or anything caught), `first` is the message; the details give
 * `code`, `data` and `stack`, and their own message, when it says something
 * else, follows after a colon, so nothing the task said is lost:
 * `error("Task failed", { message: "Disk full", code: "ENOSPC" })` is
 * `{ message: "Task failed: Disk full", code: "ENOSPC" }`.
 */
export const errorInfoOf = (first: unknown, details?: unknown): ErrorInfo => {
  if (details === undefined) return toErrorInfo(first)
  const head = toErrorInfo(first).message
  if (!isRecord(details)) {
    const own = typeof details === "string" ? details : undefined
    return own !== undefined ? { message: own === "" || own === head ? head : `${head}: ${own}` } : { message: head, data: details }
  }
  const own = stringField(details, "message")
  const code = stringField(details, "code") ?? stringField(details, "_tag")
  const stack = details instanceof globalThis.Error ? details.stack : stringField(details, "stack")
  return {
    message: own === undefined || own === "" || own === head ? head : `${head}: ${own}`,
    ...(code !== undefined ? { code } : {}),
    ...(details["data"] !== undefined && details["data"] !== null ? { data: details["data"] } : {}),
    ...(stack !== undefined ? { stack } : {}),
  }
}
