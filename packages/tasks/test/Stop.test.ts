import { Effect, Fiber } from "effect"
import { describe, expect, it } from "vitest"
import { Iteration } from "@tasklane/tasks/host"

describe("Iteration.Stop", () => {
  it("the first fire wins and reaches each listener once; a late listener hears it at once", () => {
    const stop = new Iteration.Stop()
    const heard: Array<string> = []
    stop.listen((outcome) => heard.push(`a:${outcome._tag}`))
    const off = stop.listen((outcome) => heard.push(`b:${outcome._tag}`))
    off()
    stop.fire({ _tag: "TimedOut" })
    stop.fire({ _tag: "Forced" })
    stop.listen((outcome) => heard.push(`late:${outcome._tag}`))
    expect(heard).toEqual(["a:TimedOut", "late:TimedOut"])
    expect(stop.outcome).toEqual({ _tag: "TimedOut" })
  })

  it("await completes with the outcome; interrupting another wait does not disturb it", async () => {
    const stop = new Iteration.Stop()
    const waiting = Effect.runFork(stop.await)
    await Effect.runPromise(Fiber.interrupt(Effect.runFork(stop.await)))
    stop.fire({ _tag: "Forced" })
    expect(await Effect.runPromise(Fiber.join(waiting))).toEqual({ _tag: "Forced" })
  })

  it("timer fires TimedOut after its delay unless cancelled", async () => {
    const fired = Iteration.timer(5)
    const cancelled = Iteration.timer(5)
    cancelled.cancel()
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(fired.stop.outcome).toEqual({ _tag: "TimedOut" })
    expect(cancelled.stop.outcome).toBeUndefined()
  })
})

describe("Iteration.runOnce", () => {
  const entry = (run: () => unknown) => ({ id: "t", timeout: 60, closeToTimeout: 1, task: { id: "t", run } }) as never
  const runOnce = (run: () => unknown, stop: Iteration.Stop) =>
    Iteration.runOnce({ entry: entry(run), input: {}, output: undefined, now: Date.now, signal: new AbortController().signal, stop, host: {} as never })

  it("a Promise answer wins over a stop that never fires", async () => {
    const { outcome } = await Effect.runPromise(runOnce(() => Promise.resolve(42), new Iteration.Stop()))
    expect(outcome).toEqual({ _tag: "Returned", result: 42 })
  })

  it("a stop wins over a Promise that never settles, and a rejection is Threw", async () => {
    const stop = new Iteration.Stop()
    const pending = Effect.runPromise(runOnce(() => new Promise(() => {}), stop))
    stop.fire({ _tag: "TimedOut" })
    expect((await pending).outcome).toEqual({ _tag: "TimedOut" })
    const error = new Error("no")
    expect((await Effect.runPromise(runOnce(() => Promise.reject(error), new Iteration.Stop()))).outcome).toEqual({ _tag: "Threw", error })
  })

  it("a stop interrupts an Effect answer", async () => {
    const stop = new Iteration.Stop()
    let interrupted = false
    const pending = Effect.runPromise(runOnce(() => Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => (interrupted = true)))), stop))
    await new Promise((resolve) => setTimeout(resolve, 5))
    stop.fire({ _tag: "Forced" })
    expect((await pending).outcome).toEqual({ _tag: "Forced" })
    expect(interrupted).toBe(true)
  })
})
