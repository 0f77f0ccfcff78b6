/**
 * NDJSON line framing of a byte stream, in linear time and bounded memory:
 * the one splitter behind the daemon's RPC serialization (internal/Ndjson.ts)
 * and the desktop main process's tunnel to the daemon (DaemonLink), which
 * passes lines through without parsing them.
 *
 * The bytes of the unfinished line are kept as a list of chunks, the newline
 * is looked for only in new bytes, and a line is joined once, so a line that
 * arrives in many chunks costs what its length costs. A line may end in
 * `\r\n`; empty lines are skipped. Node built-ins only (Buffer), no Effect.
 *
 * Lifecycle of a splitter: `push` each chunk as it arrives and get the lines
 * it completed; when more than `maxLineBytes` arrive without a newline,
 * `push` throws what `tooLong()` makes, after forgetting everything it held
 * (so does `reset`, for a caller that gives up on the stream's contents).
 */

const newline = 0x0a
const carriageReturn = 0x0d

/** A stateful splitter for one byte stream. */
export interface Splitter {
  /**
   * The complete lines in `chunk` and the bytes before it (without `\n` or
   * `\r\n`, empty lines skipped). They may be views into `chunk`: use them
   * before the socket gets to reuse its memory (before returning to the event loop).
   */
  readonly push: (chunk: Uint8Array | string) => Array<Buffer>
  /** Forget the unfinished line. */
  readonly reset: () => void
}

/** A splitter accepting lines of up to `maxLineBytes` bytes (the newline not counted). */
export const make = (options: { readonly maxLineBytes: number; readonly tooLong: () => unknown }): Splitter => {
  let pending: Array<Buffer> = []
  let pendingBytes = 0
  const reset = () => {
    pending = []
    pendingBytes = 0
  }
  const overflow = (): never => {
    reset()
    throw options.tooLong()
  }
  const push = (data: Uint8Array | string): Array<Buffer> => {
    const chunk = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    const lines: Array<Buffer> = []
    let start = 0
    let index = chunk.indexOf(newline, start)
    while (index !== -1) {
      if (pendingBytes + index - start > options.maxLineBytes) overflow()
      const piece = chunk.subarray(start, index)
      const line = pendingBytes === 0 ? piece : Buffer.concat([...pending, piece])
      reset()
      const end = line.length > 0 && line[line.length - 1] === carriageReturn ? line.length - 1 : line.length
      if (end > 0) lines.push(end === line.length ? line : line.subarray(0, end))
      start = index + 1
      index = chunk.indexOf(newline, start)
    }
    if (start < chunk.length) {
      // Copy: the socket may reuse the chunk's memory after this call.
      pending.push(Buffer.from(chunk.subarray(start)))
      pendingBytes += chunk.length - start
      if (pendingBytes > options.maxLineBytes) overflow()
    }
    return lines
  }
  return { push, reset }
}
