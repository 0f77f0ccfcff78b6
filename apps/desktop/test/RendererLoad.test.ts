/**
 * The renderer's load model (the core of `useLoad`): a newer load wins over
 * an older one whose answer comes later, a cancelled load's answer is
 * dropped and its signal aborted, a failure keeps the last value and says
 * why, `refresh` leaves a load under way alone, and the snapshot follows the
 * `Observable` contract (same identity until a change, listeners told once
 * per change).
 */
import { describe, expect, it } from "vitest"
import { Load, type LoadState } from "../src/renderer/Load.ts"

/** A promise the test settles by hand, plus the signal its load was given. */
const deferred = <A>() => {
  let resolve: (value: A) => void = () => {}
  let reject: (cause: unknown) => void = () => {}
  const promise = new Promise<A>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

/** A loader whose every call is recorded and answered by the test. */
const manualLoader = <A>() => {
  const calls: Array<{ readonly signal: AbortSignal; readonly answer: ReturnType<typeof deferred<A>> }> = []
  const load = (signal: AbortSignal) => {
    const answer = deferred<A>()
    calls.push({ signal, answer })
    return answer.promise
  }
  return { calls, load }
}

/** Lets settled promises' callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

/** The model plus every snapshot its listeners were told about. */
const observed = <A>() => {
  const model = new Load<A>()
  const seen: Array<LoadState<A>> = []
  const unsubscribe = model.subscribe(() => seen.push(model.getSnapshot()))
  return { model, seen, unsubscribe }
}

describe("Load", () => {
  it("drops a stale answer: the newer load wins even when the older one answers last", async () => {
    const { model } = observed<string>()
    const { calls, load } = manualLoader<string>()
    model.start(load)
    model.start(load)
    expect(calls[0]!.signal.aborted).toBe(true)
    expect(calls[1]!.signal.aborted).toBe(false)
    calls[1]!.answer.resolve("new")
    await settle()
    calls[0]!.answer.resolve("old")
    await settle()
    expect(model.getSnapshot()).toEqual({ value: "new", error: "", loading: false })
  })

  it("drops a stale failure too: an older load failing late does not put an error over a newer answer", async () => {
    const { model } = observed<string>()
    const { calls, load } = manualLoader<string>()
    model.start(load)
    model.reload()
    calls[1]!.answer.resolve("fresh")
    await settle()
    calls[0]!.answer.reject(new Error("too late"))
    await settle()
    expect(model.getSnapshot()).toEqual({ value: "fresh", error: "", loading: false })
  })

  it("cancel drops the answer under way and aborts its signal", async () => {
    const { model } = observed<string>()
    const { calls, load } = manualLoader<string>()
    model.start(load)
    expect(model.getSnapshot().loading).toBe(true)
    model.cancel()
    expect(calls[0]!.signal.aborted).toBe(true)
    expect(model.getSnapshot().loading).toBe(false)
    calls[0]!.answer.resolve("unwanted")
    await settle()
    expect(model.getSnapshot()).toEqual({ value: undefined, error: "", loading: false })
  })

  it("keeps the last value on a failure and says why; the next answer clears the error", async () => {
    const { model } = observed<number>()
    const { calls, load } = manualLoader<number>()
    model.start(load)
    calls[0]!.answer.resolve(1)
    await settle()
    model.reload()
    // While reloading, what was shown stays.
    expect(model.getSnapshot()).toEqual({ value: 1, error: "", loading: true })
    calls[1]!.answer.reject(new Error("daemon away"))
    await settle()
    expect(model.getSnapshot()).toEqual({ value: 1, error: "daemon away", loading: false })
    model.reload()
    expect(model.getSnapshot().error).toBe("daemon away")
    calls[2]!.answer.resolve(2)
    await settle()
    expect(model.getSnapshot()).toEqual({ value: 2, error: "", loading: false })
  })

  it("turns a loader that throws at once into a failure", async () => {
    const { model } = observed<number>()
    model.start(() => {
      throw new Error("bad request")
    })
    await settle()
    expect(model.getSnapshot()).toEqual({ value: undefined, error: "bad request", loading: false })
  })

  it("refresh leaves a load under way alone; reload replaces it", async () => {
    const { model } = observed<string>()
    const { calls, load } = manualLoader<string>()
    model.refresh()
    expect(calls).toHaveLength(0)
    model.start(load)
    model.refresh()
    expect(calls).toHaveLength(1)
    model.reload()
    expect(calls).toHaveLength(2)
    calls[1]!.answer.resolve("b")
    await settle()
    model.refresh()
    expect(calls).toHaveLength(3)
  })

  it("hands out the same snapshot until a change and tells listeners once per change", async () => {
    const { model, seen, unsubscribe } = observed<string>()
    const { calls, load } = manualLoader<string>()
    const idle = model.getSnapshot()
    expect(model.getSnapshot()).toBe(idle)
    model.start(load)
    expect(seen).toEqual([{ value: undefined, error: "", loading: true }])
    expect(model.getSnapshot()).toBe(seen[0])
    // Replacing a load under way changes nothing a view shows: no new snapshot.
    model.reload()
    expect(seen).toHaveLength(1)
    calls[1]!.answer.resolve("a")
    await settle()
    expect(seen).toHaveLength(2)
    expect(model.getSnapshot()).toBe(seen[1])
    unsubscribe()
    model.reload()
    expect(seen).toHaveLength(2)
    expect(model.getSnapshot().loading).toBe(true)
  })
})
