/**
 * Every task that matches a filter, read page by page: the one loop over
 * `listTasks` cursors in the daemon (recovery's scans, an abort's children).
 * A plain read of the store; what to do with the tasks is the caller's.
 */
import { Effect } from "effect"
import type { EventStore, Replay, StoreErrors } from "@tasklane/core"

/** Tasks read per page: large enough that a scan is a few reads, small enough that one page stays cheap. */
const pageSize = 1000

/** Every task matching `filter`, in the index's order. */
export const allTasks = (
  store: EventStore.EventStore["Service"],
  filter: EventStore.TaskFilter,
): Effect.Effect<ReadonlyArray<Replay.TaskState>, StoreErrors.StoreError> =>
  Effect.gen(function*() {
    const all: Array<Replay.TaskState> = []
    let cursor: string | undefined
    do {
      const page = yield* store.listTasks(filter, { limit: pageSize, ...(cursor === undefined ? {} : { cursor }) })
      all.push(...page.tasks)
      cursor = page.cursor
    } while (cursor !== undefined)
    return all
  })
