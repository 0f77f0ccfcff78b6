/**
 * Asks whether anything answers on a unix socket, without speaking to it:
 * a bare `connect` that is closed as soon as it succeeds. Shared by the stale
 * socket check (DataDir) and the client's fail-fast check (Client).
 */
import { Effect } from "effect"
import * as Net from "node:net"

/** What a connection attempt found. */
export type ProbeResult =
  | { readonly _tag: "Answered" }
  | { readonly _tag: "Unreachable"; readonly code: string; readonly reason: string }
  | { readonly _tag: "TimedOut"; readonly reason: string }

const describe = (error: NodeJS.ErrnoException): { code: string; reason: string } => {
  const code = error.code ?? "UNKNOWN"
  switch (code) {
    case "ENOENT":
      return { code, reason: "no socket file (the daemon is not running)" }
    case "ECONNREFUSED":
      return { code, reason: "nothing listens on the socket (stale socket file; the daemon is not running)" }
    case "EACCES":
    case "EPERM":
      return { code, reason: "permission denied (is the daemon running as another user?)" }
    case "ENOTSOCK":
      return { code, reason: "the path is not a socket" }
    default:
      return { code, reason: error.message }
  }
}

/** Try to connect to `path` within `timeoutMs`; never fails, reports what happened. */
export const probeSocket = (path: string, timeoutMs: number): Effect.Effect<ProbeResult> =>
  Effect.callback<ProbeResult>((resume) => {
    const conn = Net.createConnection({ path })
    const finish = (result: ProbeResult) => {
      clearTimeout(timer)
      conn.removeAllListeners()
      conn.on("error", () => {})
      conn.destroy()
      resume(Effect.succeed(result))
    }
    const timer = setTimeout(
      () => finish({ _tag: "TimedOut", reason: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    )
    conn.once("connect", () => finish({ _tag: "Answered" }))
    conn.once("error", (error) => finish({ _tag: "Unreachable", ...describe(error) }))
    return Effect.sync(() => {
      clearTimeout(timer)
      conn.destroy()
    })
  })
