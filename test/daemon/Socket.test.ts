/**
 * The daemon's socket and data directory against unwelcome visitors: a
 * second daemon on the same data dir, and bytes no well-behaved client sends
 * (garbage, truncated JSON, unknown tags, bad payloads, a line over the
 * 16 MiB frame limit) written on a raw `net` connection to the REAL daemon.
 * Each gets an error reply or a closed connection; the daemon keeps serving
 * and the stored data does not change.
 */
import type { Ids } from "@tasklane/core"
import * as Net from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, history, waitFor } from "../support/TaskPolling.ts"

let daemon: DaemonProcess
let c: Connection
let taskId: Ids.TaskId

beforeAll(async () => {
  daemon = await startDaemon({ dataDir: tempDataDir() })
  c = await connectTo(daemon)
  taskId = (await c.call((client) => client.Trigger({ definitionId: "counter", input: { n: 0, target: 2 } }))).context.taskId
  await waitFor(c, taskId, "done")
})

afterAll(async () => {
  await c?.close()
  if (daemon !== undefined) {
    await daemon.stop()
    removeDataDir(daemon.dataDir)
  }
})

describe("a second daemon on the same data dir", () => {
  it("exits non-zero naming the directory and the running pid; the first keeps serving", async () => {
    const second = await startDaemon({ dataDir: daemon.dataDir, waitReady: false })
    const code = await second.exited
    expect(code).not.toBe(0)
    expect(second.output()).toContain(`a Tasklane daemon is already running for ${daemon.dataDir} (pid ${daemon.child.pid})`)
    expect(second.output()).not.toContain(" serving ")

    const info = await c.call((client) => client.Info())
    expect(info.pid).toBe(daemon.child.pid)
    const fresh = await connectTo(daemon)
    try {
      expect((await fresh.call((client) => client.GetTask({ taskId }))).status).toBe("done")
    } finally {
      await fresh.close()
    }
  })
})

interface Exchange {
  /** Every JSON line the daemon wrote back. */
  readonly replies: Array<Record<string, any>>
  /** The daemon closed (or reset) the connection. */
  readonly closed: boolean
}

/**
 * Writes each of `writes` on one fresh raw connection, the next one only once
 * the replies so far reach its `after` count, and collects replies until
 * `lines` arrived, the daemon closed the connection, or `waitMs` passed.
 */
const exchange = (
  writes: string | Buffer | ReadonlyArray<{ readonly data: string | Buffer; readonly after: number }>,
  lines: number,
  waitMs = 3_000,
): Promise<Exchange> =>
  new Promise((resolve) => {
    const queue = typeof writes === "string" || Buffer.isBuffer(writes) ? [{ data: writes, after: 0 }] : [...writes]
    const socket = Net.createConnection({ path: daemon.socketPath })
    const replies: Array<Record<string, any>> = []
    let buffer = ""
    let settled = false
    const finish = (closed: boolean) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.removeAllListeners("data")
      socket.on("error", () => undefined)
      socket.destroy()
      resolve({ replies, closed })
    }
    const writeDue = () => {
      while (queue.length > 0 && queue[0]!.after <= replies.length) socket.write(queue.shift()!.data)
    }
    const timer = setTimeout(() => finish(false), waitMs)
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8")
      for (let index = buffer.indexOf("\n"); index !== -1; index = buffer.indexOf("\n")) {
        replies.push(JSON.parse(buffer.slice(0, index)))
        buffer = buffer.slice(index + 1)
      }
      if (replies.length >= lines) finish(false)
      else writeDue()
    })
    socket.on("error", () => finish(true))
    socket.on("close", () => finish(true))
    socket.on("connect", writeDue)
  })

const request = (id: string, tag: string, payload: unknown) =>
  JSON.stringify({ _tag: "Request", id, tag, payload, headers: [] }) + "\n"

/** Replies with the Exit of request `id`. */
const exitOf = (replies: Exchange["replies"], id: string) => replies.find((reply) => reply._tag === "Exit" && reply.requestId === id)

describe("malformed and oversized frames on the daemon socket", () => {
  let before: { history: unknown; head: number }

  beforeAll(async () => {
    before = { history: await history(c, taskId), head: (await c.call((client) => client.Info())).head }
  })

  it("garbage gets a Defect reply and the same connection still answers the next request", async () => {
    const { replies, closed } = await exchange([
      { data: "this is not json\n", after: 0 },
      { data: request("2", "Info", null), after: 1 },
    ], 2)
    expect(closed).toBe(false)
    expect(replies[0]).toMatchObject({ _tag: "Defect" })
    expect(JSON.stringify(replies[0])).toContain("NdjsonDecodeError")
    expect(exitOf(replies, "2")).toMatchObject({ exit: { _tag: "Success", value: { pid: daemon.child.pid } } })
  })

  it("truncated JSON gets a Defect reply", async () => {
    const { replies, closed } = await exchange('{"_tag":"Request","id":"1","tag":"Trigger","payload":{"definitionId":"quick"\n', 1)
    expect(closed).toBe(false)
    expect(replies).toHaveLength(1)
    expect(replies[0]).toMatchObject({ _tag: "Defect" })
  })

  it("an unknown message tag gets a Defect reply; an unknown RPC tag fails that request", async () => {
    const message = await exchange(JSON.stringify({ _tag: "Bogus", id: "1" }) + "\n", 1)
    expect(message.replies[0]).toMatchObject({ _tag: "Defect" })
    expect(JSON.stringify(message.replies[0])).toContain("Unknown request tag")

    const rpc = await exchange(request("5", "NoSuchRpc", {}), 1)
    const exit = exitOf(rpc.replies, "5")
    expect(exit).toMatchObject({ exit: { _tag: "Failure" } })
    expect(JSON.stringify(exit)).toContain("NoSuchRpc")
  })

  it("a payload that does not match the RPC's schema fails that request and stores nothing", async () => {
    const { replies } = await exchange(
      request("6", "Trigger", { definitionId: "quick", input: {}, delaySeconds: -5 }) +
        request("7", "GetTask", { taskId: 42 }),
      2,
    )
    expect(exitOf(replies, "6")).toMatchObject({ exit: { _tag: "Failure" } })
    expect(exitOf(replies, "7")).toMatchObject({ exit: { _tag: "Failure" } })
  })

  it("a line over 16 MiB closes the connection", async () => {
    const huge = Buffer.alloc(17 * 1024 * 1024, "a".charCodeAt(0))
    const { replies, closed } = await exchange(huge, 1, 10_000)
    expect(closed).toBe(true)
    expect(replies.filter((reply) => reply._tag === "Exit")).toEqual([])
  })

  it("a well-formed Trigger over 16 MiB closes the connection and stores no task", async () => {
    const input = { blob: "x".repeat(17 * 1024 * 1024) }
    const { replies, closed } = await exchange(request("8", "Trigger", { definitionId: "quick", input }), 1, 10_000)
    expect(closed).toBe(true)
    expect(exitOf(replies, "8")).toBeUndefined()
  })

  it("afterwards the daemon still serves, and stored data is unchanged", async () => {
    expect(daemon.child.exitCode).toBeNull()
    const fresh = await connectTo(daemon)
    try {
      const info = await fresh.call((client) => client.Info())
      expect(info.head).toBe(before.head)
      expect(await history(fresh, taskId)).toEqual(before.history)
      const page = await fresh.call((client) => client.ListTasks({}))
      expect(page.tasks.map((task) => task.context.taskId)).toEqual([taskId])
    } finally {
      await fresh.close()
    }
  })
})
