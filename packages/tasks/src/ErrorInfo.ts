/**
 * Error details as plain data: what `controller.response.error(...)`, a thrown
 * value, a rejected promise or `controller.logger.error(..., { error })` becomes
 * before it is recorded. Mirrors `ErrorInfo` in `@tasklane/core`'s events.
 */

/** Error details as recorded for a failed task or an error log line. */
export interface ErrorInfo {
  readonly message: string
  readonly code?: string | undefined
  readonly data?: unknown
  readonly stack?: string | undefined
}

/** What `controller.response.error` accepts: a message, an `Error`, or structured details. */
export type ErrorInput = string | globalThis.Error | { readonly message: string; readonly code?: string | undefined; readonly data?: unknown }

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
