/**
 * Asks whether anything answers on a unix socket, without speaking to it:
 * a bare `connect` that is closed as soon as it succeeds. Shared by the stale
 * socket check (DataDir) and the client's fail-fast check (Client). The
 * Effect twin of `Launcher.dial` (interruptible), with the same reasons.
 */
import { Effect } from "effect"
import * as Net from "node:net"
import * as Launcher from "../Launcher.ts"

/** What a connection attempt found. */
export type ProbeResult =
  | { readonly _tag: "Answered" }
  | { readonly _tag: "Unreachable"; readonly code: string; readonly reason: string }
  | { readonly _tag: "TimedOut"; readonly reason: string }

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
    conn.once("error", (error) => finish({ _tag: "Unreachable", ...Launcher.describeDialError(error) }))
    return Effect.sync(() => {
      clearTimeout(timer)
      conn.destroy()
    })
  })
