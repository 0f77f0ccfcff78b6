/**
 * The renderer's live task state without a browser: the TaskStore folding
 * live events with the shared `Replay.step` (batched, deduplicated, gaps
 * detected) and the TaskListModel paging a filtered list and keeping it live.
 */
import { type Ids, TaskEvent, type TaskRpc } from "@tasklane/core/client"
import { describe, expect, it } from "vitest"
import { type TaskListSnapshot, TaskListModel } from "../src/renderer/TaskListModel.ts"
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
/** Lets settled promises' callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe("TaskStore", () => {
  it("is an Observable whose snapshot (the flush count) changes exactly when listeners are told", () => {
    const { store, flush } = manualStore()
    const before = store.getSnapshot()
    let told = 0
    const unsubscribe = store.subscribe(() => told++)
    store.apply([triggered("s1", 1)])
    expect(store.getSnapshot()).toBe(before)
    flush()
    expect(told).toBe(1)
    expect(store.getSnapshot()).not.toBe(before)
    unsubscribe()
    store.apply([triggered("s2", 2)])
    flush()
    expect(told).toBe(1)
  })

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
    const model = new TaskListModel(store, { status: "triggered" }, loader)
    model.subscribe(() => changes++)
    const rows = () => model.getSnapshot().rows
    model.start()
    await Promise.resolve()
    await Promise.resolve()
    expect(rows().length).toBe(500)
    model.want(100)
    expect(requests).toEqual([undefined])
    model.want(300)
    await Promise.resolve()
    await Promise.resolve()
    expect(requests).toEqual([undefined, "500"])
    expect(rows().length).toBe(1000)

    // A new task appears at the top; one that leaves the filtered status leaves the list.
    store.apply([triggered("newest", 200_000), started("t100000", 2, 100_001)])
    flush()
    expect(rows()[0]).toBe("newest")
    expect(rows()).not.toContain("t100000")
    expect(rows().length).toBe(1000)
    expect(changes).toBeGreaterThan(2)
    model.dispose()
  })

  it("is an Observable: a new snapshot per change, the same one between changes, and published rows are never mutated", async () => {
    const { store, flush } = manualStore()
    const page = states(3, 300)
    const answers: Array<{ resolve: (page: TaskRpc.TaskPage) => void; reject: (cause: unknown) => void }> = []
    const model = new TaskListModel(store, {}, () => new Promise((resolve, reject) => answers.push({ resolve, reject })))
    const seen: Array<TaskListSnapshot> = []
    const unsubscribe = model.subscribe(() => seen.push(model.getSnapshot()))
    const initial = model.getSnapshot()
    expect(model.getSnapshot()).toBe(initial)

    model.start()
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ loading: true, rows: [] })
    expect(model.getSnapshot()).toBe(seen[0])

    // A failed page says why; retry clears it and asks again.
    answers[0]!.reject(new Error("daemon away"))
    await settle()
    expect(model.getSnapshot()).toMatchObject({ loading: false, error: "daemon away" })
    model.retry()
    expect(model.getSnapshot()).toMatchObject({ loading: true, error: "" })
    answers[1]!.resolve({ tasks: page } as unknown as TaskRpc.TaskPage)
    await settle()
    const loaded = model.getSnapshot()
    expect(loaded).toMatchObject({ rows: ["t300", "t299", "t298"], exhausted: true, loading: false, error: "" })
    const told = seen.length

    // A change that keeps every row where it is publishes nothing.
    store.apply([started("t300", 2, 301)])
    flush()
    expect(seen).toHaveLength(told)
    expect(model.getSnapshot()).toBe(loaded)

    // A new task is a new snapshot; the one handed out before keeps its rows.
    store.apply([triggered("t400", 400)])
    flush()
    expect(seen).toHaveLength(told + 1)
    expect(model.getSnapshot().rows).toEqual(["t400", "t300", "t299", "t298"])
    expect(loaded.rows).toEqual(["t300", "t299", "t298"])

    unsubscribe()
    store.apply([triggered("t500", 500)])
    flush()
    expect(seen).toHaveLength(told + 1)
    expect(model.getSnapshot().rows[0]).toBe("t500")
    model.dispose()
  })
})
