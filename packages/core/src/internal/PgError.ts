/**
 * StoreErrors from what the PostgreSQL client or the fold raised. An SqlError
 * wraps the server's or the driver's error as its `cause`; the reason names
 * the whole chain (first line of each), so an operator sees "relation … does
 * not exist" or "connection refused", not only "Failed to execute statement".
 */
import { StoreError } from "../StoreErrors.ts"

/** The message of an error and of each error in its `cause` chain, joined. */
export const describe = (cause: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = cause
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const text = (current instanceof Error ? current.message : typeof current === "object" ? String((current as { message?: unknown }).message ?? current) : String(current)).split("\n")[0]!
    if (text !== "" && !parts.includes(text)) parts.push(text)
    current = typeof current === "object" ? (current as { cause?: unknown }).cause : undefined
  }
  return parts.join(": ")
}

/** A StoreError for `operation` (a StoreError passes through unchanged). */
export const toStoreError = (operation: string) => (cause: unknown): StoreError =>
  cause instanceof StoreError ? cause : new StoreError({ operation, reason: describe(cause) })

/** The SQLSTATE the server answered (`code` of an error in the `cause` chain), if any. */
export const sqlState = (cause: unknown): string | undefined => {
  let current: unknown = cause
  for (let depth = 0; typeof current === "object" && current !== null && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}
