/**
 * The History view's paged loading against the REAL daemon in web mode: the
 * renderer's own client (`DaemonClient`, Effect RPC) over a WebSocket from
 * `ws` (a minimal bridge: the browser's `WebBridge` needs the DOM, and runs
 * in the Chromium suites). Small pages make a
 * 50-step demo task span many, so the pages asked for ahead, the short last
 * page, an exact multiple of the page size (an empty page ends it) and a
 * start version are all exercised; each load equals one unpaged History call.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { WebSocket } from "ws"
import { type DesktopBridge, TaskEvent, TaskRpc, type Ids } from "@tasklane/core/client"
import * as DaemonClient from "../../apps/desktop/src/renderer/DaemonClient.ts"
import { fetchHistory } from "../../apps/desktop/src/renderer/history/HistoryFetch.ts"
import * as HistoryModel from "../../apps/desktop/src/renderer/history/HistoryModel.ts"
import { type DaemonProcess, removeDataDir, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, waitFor } from "../support/TaskPolling.ts"
import { startWebDaemon } from "../ui/WebUiSupport.ts"

/** The renderer's bridge over a `ws` WebSocket. */
const wsBridge = (url: string): DesktopBridge.DesktopBridge => {
  let socket: WebSocket | undefined
  const frames = new Set<(frame: string) => void>()
  const closes = new Set<(reason: string) => void>()
  const subscribe = <A>(set: Set<A>, listener: A) => (set.add(listener), () => void set.delete(listener))
  return {
    kind: "web",
    connect: () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url)
        socket = ws
        ws.on("open", () => resolve())
        ws.on("error", reject)
        ws.on("message", (data) => frames.forEach((listener) => listener(String(data))))
        ws.on("close", (code) => closes.forEach((listener) => listener(`closed (${code})`)))
      }),
    send: (frame) => socket!.send(frame),
    onFrame: (listener) => subscribe(frames, listener),
    onClose: (listener) => subscribe(closes, listener),
    close: () => socket?.close(),
    onOpenHistory: () => () => {},
  }
}

describe("fetchHistory (paged History RPC, real daemon)", () => {
  let dataDir: string
  let daemon: DaemonProcess
  let client: DaemonClient.DaemonClient
  let taskId: Ids.TaskId
  let all: ReadonlyArray<TaskEvent.EventEnvelope>

  beforeAll(async () => {
    dataDir = tempDataDir()
    const started = await startWebDaemon(dataDir)
    daemon = started.daemon
    const url = new URL("/rpc", started.signIn)
    url.protocol = "ws:"
    url.searchParams.set("token", started.signIn.searchParams.get("token")!)
    client = DaemonClient.connect(wsBridge(url.href))
    const task = await client.call((c) => c.Trigger({ definitionId: "demo", input: { steps: 50, delaySeconds: 0 } }))
    taskId = task.context.taskId
    const unix = await connectTo(daemon)
    await waitFor(unix, taskId, "done", { timeoutMs: 30_000, settled: true })
    await unix.close()
    all = TaskRpc.parseHistory(await client.call((c) => c.History({ taskId })))
  }, 60_000)

  afterAll(async () => {
    client?.close()
    await daemon?.stop("SIGKILL")
    if (dataDir) removeDataDir(dataDir)
  })

  it("pages join up to the whole history, decoded, with progress after each page", async () => {
    expect(all.length).toBeGreaterThan(150)
    for (const pageSize of [7, 50, all.length, 1000]) {
      const progress: Array<number> = []
      const fetched = await fetchHistory(client, taskId, { pageSize, onProgress: (n) => progress.push(n) })
      if (fetched instanceof HistoryModel.HistoryLoadError) throw fetched
      expect(fetched.envelopes).toEqual(all)
      expect(fetched.events).toEqual(all.map(TaskEvent.fromEnvelope))
      expect(progress.at(-1)).toBe(all.length)
      expect(progress.length).toBe(Math.floor(all.length / pageSize) + 1)
    }
  })

  it("starts at a version", async () => {
    const fetched = await fetchHistory(client, taskId, { fromVersion: 101, pageSize: 30 })
    if (fetched instanceof HistoryModel.HistoryLoadError) throw fetched
    expect(fetched.envelopes).toEqual(all.slice(100))
  })
})
