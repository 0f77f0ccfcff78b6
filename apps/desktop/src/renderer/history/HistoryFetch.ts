/**
 * Loads a task's history from the daemon in pages, decoding each page while
 * the daemon reads and sends the next ones (a few pages are asked for ahead
 * of the one being decoded). In one answer, a long history kept the page
 * idle while the daemon read, parsed and encoded every event, then the
 * daemon idle while the page decoded them all (about 3.5 s for 67,000
 * events here); paged, the two overlap and each page's garbage stays young.
 */
import { type Ids, type TaskEvent, TaskRpc } from "@tasklane/core/client"
import type { DaemonClient } from "../DaemonClient.ts"
import * as HistoryModel from "./HistoryModel.ts"

/** Events per History call. */
export const pageSize = 5_000

/** The envelopes and decoded events of a task from version `fromVersion` on. */
export interface Fetched {
  readonly envelopes: ReadonlyArray<TaskEvent.EventEnvelope>
  readonly events: ReadonlyArray<TaskEvent.RecordedEvent>
}

/** Pages asked for ahead of the one being decoded (asking past the end costs an empty answer). */
export const pagesInFlight = 3

/**
 * Every event of the task from `fromVersion` (1 = all), in pages of
 * {@link pageSize} (unless given) with {@link pagesInFlight} asked for ahead;
 * `onProgress(n)` after each page with the number loaded so far. The first
 * event that does not decode fails the whole load.
 */
export const fetchHistory = async (
  client: DaemonClient,
  taskId: Ids.TaskId,
  options: { readonly fromVersion?: number; readonly pageSize?: number; readonly onProgress?: (loaded: number) => void } = {},
): Promise<Fetched | HistoryModel.HistoryLoadError> => {
  const limit = options.pageSize ?? pageSize
  const inFlight: Array<Promise<ReadonlyArray<TaskEvent.EventEnvelope>>> = []
  let asked = options.fromVersion ?? 1
  const askNext = () => {
    inFlight.push(client.call((c) => c.History({ taskId, fromVersion: asked, limit })).then(TaskRpc.parseHistory))
    asked += limit
  }
  for (let i = 0; i < pagesInFlight; i++) askNext()
  const envelopes: Array<TaskEvent.EventEnvelope> = []
  const events: Array<TaskEvent.RecordedEvent> = []
  try {
    for (;;) {
      const waiting = performance.now()
      const got = await inFlight.shift()!
      const more = got.length === limit
      if (more) askNext()
      const decoding = performance.now()
      const decoded = HistoryModel.decode(got)
      // Where a page's time goes, in the page's performance timeline (the measurements read these).
      performance.measure("history-page-wait", { start: waiting, end: decoding })
      performance.measure("history-page-decode", { start: decoding, end: performance.now() })
      if (decoded instanceof HistoryModel.HistoryLoadError) return decoded
      for (let i = 0; i < got.length; i++) envelopes.push(got[i]!), events.push(decoded[i]!)
      options.onProgress?.(envelopes.length)
      if (!more) return { envelopes, events }
    }
  } finally {
    // Pages asked for ahead and no longer wanted (past the end, or after a failure): ignore their answers.
    for (const pending of inFlight) pending.catch(() => undefined)
  }
}
