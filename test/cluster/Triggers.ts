/**
 * The cluster crash suite's client side: sends planned triggers in
 * TriggerMany batches, round-robin over the daemons that serve, while the
 * chaos runs. A batch whose daemon died (or stopped) mid-call goes to the
 * next daemon with the same idempotency keys, and an item a store failure
 * refused (DaemonError: the database is down, say) is sent again, as a
 * careful client would; so "acknowledged" is well defined: a task id some
 * daemon answered `Triggered` for. Any other refusal is recorded as a
 * problem. `release(n)` paces it: only the first n plans may be sent.
 */
import type { TaskRpc } from "@tasklane/core"
import { sleep } from "../support/TaskPolling.ts"
import type { Supervisor } from "./Supervisor.ts"

/** Sends `requests` through `supervisor`'s daemons; call `release` to let more go. */
export const start = (supervisor: Supervisor, requests: ReadonlyArray<TaskRpc.TriggerRequest>, batchSize: number) => {
  /** Acknowledged task id → index of its request. */
  const acknowledged = new Map<string, number>()
  const refused: Array<string> = []
  const stats = { calls: 0, failedCalls: 0, resentItems: 0 }
  /** Failed calls by reason (pids and times blanked, so that reasons group). */
  const failures = new Map<string, number>()
  let allowed = 0
  let turn = 0

  const send = async (indexes: ReadonlyArray<number>) => {
    let pending = indexes
    while (pending.length > 0) {
      const slot = await supervisor.someLive((live) => live[turn++ % live.length]!, 120_000)
      try {
        const triggers = pending.map((i) => requests[i]!)
        const outcomes = await supervisor.call(slot, (c) => c.call((client) => client.TriggerMany({ triggers })), 10_000)
        stats.calls++
        const again: Array<number> = []
        outcomes.forEach((outcome, k) => {
          const index = pending[k]!
          if (outcome._tag === "Triggered") acknowledged.set(outcome.taskId, index)
          else if (outcome.error._tag === "DaemonError") again.push(index)
          else refused.push(`${requests[index]!.idempotencyKey}: ${JSON.stringify(outcome.error)}`)
        })
        stats.resentItems += again.length
        pending = again
      } catch (error) {
        const reason = String((error as Error)?.message ?? error).replace(/pid \d+|\d+ ms|\(\w+\)/g, "…").slice(0, 80)
        failures.set(reason, (failures.get(reason) ?? 0) + 1)
        stats.failedCalls++
      }
      if (pending.length > 0) await sleep(200)
    }
  }

  const done = (async () => {
    let sent = 0
    while (sent < requests.length) {
      if (sent >= allowed) {
        await sleep(50)
        continue
      }
      const end = Math.min(allowed, sent + batchSize)
      await send(Array.from({ length: end - sent }, (_, k) => sent + k))
      sent = end
    }
  })()

  return {
    acknowledged,
    refused,
    stats,
    failures,
    /** Lets the first `n` requests go (never fewer than before). */
    release: (n: number) => void (allowed = Math.max(allowed, Math.min(n, requests.length))),
    /** Resolves when every request was acknowledged or refused. */
    done,
  }
}
