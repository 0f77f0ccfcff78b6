/**
 * The renderer's live task state without a browser: the TaskStore folding
 * live events with the shared `Replay.step` (batched, deduplicated, gaps
 * detected) and the TaskListModel paging a filtered list and keeping it live.
 */
import { type Ids, TaskEvent, type TaskRpc } from "@tasklane/core/client"
import { describe, expect, it } from "vitest"
import { TaskListModel } from "../src/renderer/TaskListModel.ts"
import { TaskStore } from "../src/renderer/TaskStore.ts"

let position = 0
const envelope = (taskId: string, version: number, at: number, event: TaskEvent.TaskEvent) =>
  TaskEvent.toEnvelope({
    id: `e-${taskId}-${version}` as Ids.EventId,
    stream: taskId as Ids.TaskId,
    version,
    position: ++position,
    at,
    event,
  })
const triggered = (taskId: string, at: number, definitionId = "demo") =>
  envelope(taskId, 1, at, new TaskEvent.TaskTriggered({ taskId: taskId as Ids.TaskId, definitionId: definitionId as Ids.DefinitionId, input: {}, maxIterations: 3 }))
const started = (taskId: string, version: number, at: number) =>
  envelope(taskId, version, at, new TaskEvent.IterationStarted({ iteration: 1, attempt: 1 }))
const done = (taskId: string, version: number, at: number) => envelope(taskId, version, at, new TaskEvent.TaskDone({ hookDue: false }))

/** A store whose flushes run when the test says so. */
const manualStore = () => {
  const pending: Array<() => void> = []
  const store = new TaskStore((flush) => pending.push(flush))
  return { store, flush: () => pending.splice(0).forEach((f) => f()) }
}
const id = (s: string) => s as Ids.TaskId

describe("TaskStore", () => {
  it("folds live events with Replay.step and tells listeners once per batch", () => {
    const { store, flush } = manualStore()
    const batches: Array<Array<string>> = []
    store.subscribe((changed) => batches.push([...changed]))
    store.apply([triggered("a", 10), triggered("b", 11), started("a", 2, 12)])
    expect(batches).toEqual([])
    flush()
    expect(batches).toEqual([["a", "b"]])
    expect(store.get(id("a"))?.status).toBe("running")
    expect(store.get(id("b"))?.status).toBe("triggered")
    expect(store.position).toBe(position)
  })

  it("skips events already folded and never moves a task back when an older page arrives", () => {
    const { store } = manualStore()
    const events = [triggered("c", 1), started("c", 2, 2), done("c", 3, 3)]
    store.apply(events)
    const final = store.get(id("c"))!
    store.apply(events.slice(1))
    expect(store.get(id("c"))).toBe(final)
    const { store: other } = manualStore()
    other.apply(events.slice(0, 1))
    store.load([other.get(id("c"))!])
    expect(store.get(id("c"))?.status).toBe("done")
  })

  it("ignores events of tasks it has not seen open, and reports a gap as stale", () => {
    const { store } = manualStore()
    const stale: Array<string> = []
    store.onStale = (taskId) => stale.push(taskId)
    store.apply([started("unknown", 2, 1)])
    expect(store.get(id("unknown"))).toBeUndefined()
    store.apply([triggered("d", 1), done("d", 3, 2)])
    expect(stale).toEqual(["d"])
    expect(store.get(id("d"))?.status).toBe("triggered")
  })
})

describe("TaskListModel", () => {
  const states = (count: number, from: number) => {
    const { store } = manualStore()
    store.apply(Array.from({ length: count }, (_, i) => triggered(`t${from - i}`, from - i)))
    return Array.from({ length: count }, (_, i) => store.get(id(`t${from - i}`))!)
  }

  it("loads pages on demand and keeps new and changed tasks in place", async () => {
    const { store, flush } = manualStore()
    const all = states(1200, 100_000)
    const requests: Array<string | undefined> = []
    const loader = async (_filter: unknown, cursor: string | undefined): Promise<TaskRpc.TaskPage> => {
      requests.push(cursor)
      const start = cursor === undefined ? 0 : Number(cursor)
      const end = start + 500
      return { tasks: all.slice(start, end), ...(end < all.length && { cursor: String(end) }) } as TaskRpc.TaskPage
    }
    let changes = 0
    const model = new TaskListModel(store, { status: "triggered" }, loader, () => changes++)
    model.start()
    await Promise.resolve()
    await Promise.resolve()
    expect(model.rows.length).toBe(500)
    model.want(100)
    expect(requests).toEqual([undefined])
    model.want(300)
    await Promise.resolve()
    await Promise.resolve()
    expect(requests).toEqual([undefined, "500"])
    expect(model.rows.length).toBe(1000)

    // A new task appears at the top; one that leaves the filtered status leaves the list.
    store.apply([triggered("newest", 200_000), started("t100000", 2, 100_001)])
    flush()
    expect(model.rows[0]).toBe("newest")
    expect(model.rows).not.toContain("t100000")
    expect(model.rows.length).toBe(1000)
    expect(changes).toBeGreaterThan(2)
    model.dispose()
  })
})
