/**
 * A socket whose writes are coalesced per event-loop turn: frames written
 * during one turn (the replies and stream chunks a burst of RPC work
 * produces) go to the connection as one write at the end of the turn
 * (`setImmediate`), instead of one `write(2)` each. Hot-path plumbing (plain
 * code under a small Effect surface; DESIGN §7: socket writes coalesced per
 * tick).
 *
 * Order is kept: frames are written in the order they were given, and a
 * close event first flushes what is pending. Backpressure is kept: while the
 * connection's buffer is full (a flush is waiting for `drain`), writers wait
 * for it, as they would with the socket's own writer. A failed flush fails
 * the writes that come after it.
 *
 * Task code that runs inline may block the event loop for good (a busy
 * loop the watchdog ends by killing the daemon): `flushPending` writes every
 * connection's pending frames at once, and is called before task code is
 * entered, so a reply made before (a Trigger's answer) is not held back.
 */
import { Effect, Exit, type Fiber } from "effect"
import { Socket } from "effect/socket"

type Frame = Uint8Array | string

/** The flushes of writers holding frames now. */
const pendingFlushes = new Set<() => void>()

/** Writes what every coalesced writer holds, now (before task code may block the loop). */
export const flushPending = (): void => {
  for (const flush of [...pendingFlushes]) flush()
}

/** Wraps a writer so that frames written in one event-loop turn are sent as one write. */
export const coalesce = (writer: Socket.Writer): Socket.Writer => {
  let pending: Array<Frame> = []
  let scheduled = false
  /** A flush waiting for the connection to drain. */
  let blocked: Fiber.Fiber<void, Socket.SocketError> | undefined
  let failed: Exit.Exit<void, Socket.SocketError> | undefined

  const joined = (frames: ReadonlyArray<Frame>): Frame =>
    frames.every((frame) => typeof frame === "string")
      ? (frames as ReadonlyArray<string>).join("")
      : Buffer.concat(frames.map((frame) => (typeof frame === "string" ? Buffer.from(frame) : frame)))

  const flush = () => {
    if (!scheduled) return
    scheduled = false
    pendingFlushes.delete(flush)
    if (pending.length === 0 || failed !== undefined) return
    const frames = pending
    pending = []
    const fiber = Effect.runFork(writer.write(frames.length === 1 ? frames[0]! : joined(frames)))
    const settled = (exit: Exit.Exit<void, Socket.SocketError>) => {
      if (Exit.isFailure(exit)) failed = exit
      if (blocked === fiber) blocked = undefined
    }
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) return settled(exit)
    blocked = fiber
    fiber.addObserver(settled)
  }

  const enqueue = (frame: Frame): Effect.Effect<void, Socket.SocketError> => {
    if (failed !== undefined) return failed
    pending.push(frame)
    if (!scheduled) {
      scheduled = true
      pendingFlushes.add(flush)
      setImmediate(flush)
    }
    return Effect.void
  }

  const write = (chunk: Frame | Socket.CloseEvent): Effect.Effect<void, Socket.SocketError> =>
    Effect.suspend(() => {
      const waiting = blocked
      if (waiting !== undefined) return Effect.andThen(waitFor(waiting), () => write(chunk))
      if (!Socket.isCloseEvent(chunk)) return enqueue(chunk)
      flush()
      return blocked === undefined ? writer.write(chunk) : Effect.andThen(waitFor(blocked), () => writer.write(chunk))
    })

  const waitFor = (fiber: Fiber.Fiber<void, Socket.SocketError>): Effect.Effect<void> =>
    Effect.callback<void>((resume) => {
      fiber.addObserver(() => resume(Effect.void))
    })

  return {
    write,
    writeAll: (chunks) => Effect.forEach(chunks, write, { discard: true }),
  }
}

/** The socket with its writer coalesced ({@link coalesce}). */
export const coalesced = (socket: Socket.Socket): Socket.Socket =>
  Socket.make({ reader: socket.reader, writer: Effect.map(socket.writer, coalesce) })
