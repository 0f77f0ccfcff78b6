/**
 * The coalescing writer against a recording writer (the real socket path is
 * covered by Server.test.ts and every end-to-end test): frames of one turn
 * become one write, order is kept, a close flushes first, and a full
 * connection holds writers back until it drains.
 */
import { Deferred, Effect } from "effect"
import { Socket } from "effect/socket"
import { describe, expect, it } from "vitest"
import { coalesce, flushPending } from "../src/internal/CoalescingSocket.ts"

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

const recording = (gate?: () => Effect.Effect<void>) => {
  const writes: Array<string | Uint8Array | Socket.CloseEvent> = []
  const writer: Socket.Writer = {
    write: (chunk) => Effect.andThen(Effect.sync(() => writes.push(chunk)), gate?.() ?? Effect.void),
    writeAll: () => Effect.die("not used"),
  }
  return { writes, writer }
}

describe("CoalescingSocket", () => {
  it("sends the frames of one event-loop turn as one write, in order", async () => {
    const { writes, writer } = recording()
    const coalesced = coalesce(writer)
    await Effect.runPromise(Effect.forEach(["a\n", "b\n", "c\n"], coalesced.write, { discard: true }))
    expect(writes).toEqual([])
    await nextTurn()
    expect(writes).toEqual(["a\nb\nc\n"])
    await Effect.runPromise(coalesced.write(new Uint8Array([0x64, 0x0a])))
    await Effect.runPromise(coalesced.write("e\n"))
    await nextTurn()
    expect(writes.map((w) => Buffer.from(w as Uint8Array | string).toString())).toEqual(["a\nb\nc\n", "d\ne\n"])
  })

  it("a close event flushes what is pending before it", async () => {
    const { writes, writer } = recording()
    const coalesced = coalesce(writer)
    await Effect.runPromise(coalesced.write("last\n"))
    await Effect.runPromise(coalesced.write(new Socket.CloseEvent(1009)))
    expect(writes.map((w) => (Socket.isCloseEvent(w) ? `close ${w.code}` : w))).toEqual(["last\n", "close 1009"])
  })

  it("while a flush waits for the connection to drain, writers wait too", async () => {
    const drained = Deferred.makeUnsafe<void>()
    let full = true
    const { writes, writer } = recording(() => (full ? Deferred.await(drained) : Effect.void))
    const coalesced = coalesce(writer)
    await Effect.runPromise(coalesced.write("first\n"))
    await nextTurn()
    expect(writes).toEqual(["first\n"])
    let secondDone = false
    const second = Effect.runPromise(coalesced.write("second\n")).then(() => (secondDone = true))
    await nextTurn()
    expect(secondDone).toBe(false)
    full = false
    Deferred.doneUnsafe(drained, Effect.void)
    await second
    await nextTurn()
    expect(writes).toEqual(["first\n", "second\n"])
  })

  it("flushPending writes what every writer holds at once (before task code may block the loop)", async () => {
    const first = recording()
    const second = recording()
    await Effect.runPromise(coalesce(first.writer).write("reply\n"))
    await Effect.runPromise(coalesce(second.writer).write("event\n"))
    flushPending()
    expect([first.writes, second.writes]).toEqual([["reply\n"], ["event\n"]])
    await nextTurn()
    expect([first.writes, second.writes]).toEqual([["reply\n"], ["event\n"]])
  })

  it("a failed flush fails the writes after it", async () => {
    const writer: Socket.Writer = {
      write: () => Effect.fail(new Socket.SocketError({ reason: new Socket.SocketWriteError({ cause: new Error("EPIPE") }) })),
      writeAll: () => Effect.die("not used"),
    }
    const coalesced = coalesce(writer)
    await Effect.runPromise(coalesced.write("lost\n"))
    await nextTurn()
    const exit = await Effect.runPromiseExit(coalesced.write("after\n"))
    expect(exit._tag).toBe("Failure")
  })
})
