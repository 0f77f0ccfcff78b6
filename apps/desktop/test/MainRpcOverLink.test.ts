/**
 * The whole desktop path in plain Node, minus Electron's IPC: the renderer's
 * own `RpcClient` over its `BridgeSocket`, over the preload's bridge, over
 * `DaemonLink` (and so FrameCheck), to a real daemon the link starts. This
 * proves FrameCheck accepts exactly what Effect's RPC client sends (requests,
 * stream Acks, Pings) and that replies, typed errors and streams come back.
 *
 * The IPC between preload and main is a direct in-process hand-off here (the
 * same kind of stand-in as PreloadBridge.test.ts's fake `ipcRenderer`,
 * because real IPC needs the Electron binary; see test/desktop/ElectronLaunch.test.ts).
 */
import { TaskRpc } from "@tasklane/core/client"
import { Effect, Layer, Stream } from "effect"
import { RpcClient, RpcSerialization } from "effect/rpc"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, expect, it } from "vitest"
import { Channels } from "../src/main/Channels.ts"
import * as DaemonLink from "../src/main/DaemonLink.ts"
import { makeBridge } from "../src/preload/Bridge.ts"
import * as BridgeSocket from "../src/renderer/BridgeSocket.ts"
import { bin, removeDataDir, tempDataDir } from "../../../test/support/DaemonProcess.ts"

const dataDir = tempDataDir()

afterAll(async () => {
  try {
    const pid = Number(Fs.readFileSync(Path.join(dataDir, "daemon.pid"), "utf8"))
    process.kill(pid, "SIGTERM")
    const alive = () => {
      try {
        return process.kill(pid, 0)
      } catch {
        return false
      }
    }
    for (let i = 0; i < 200 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  } catch {
    // no daemon was started
  }
  removeDataDir(dataDir)
})

/** Main's IPC handlers and the preload's `ipcRenderer`, joined directly. */
const wire = () => {
  const toRenderer = new Map<string, (event: unknown, ...args: Array<unknown>) => void>()
  const link = DaemonLink.make({
    dataDir,
    daemon: { ...DaemonLink.daemonCommand(bin), extraArgs: ["--shutdown-grace", "1"] },
    onFrame: (frame) => toRenderer.get(Channels.frame)?.({}, frame),
    onClose: (reason) => toRenderer.get(Channels.closed)?.({}, reason),
  })
  return makeBridge({
    invoke: () => link.connect().then(() => ({ ok: true }), (cause: Error) => ({ ok: false, message: cause.message })),
    send: (channel, frame) => (channel === Channels.send ? link.send(frame as string) : link.close()),
    on: (channel, listener) => toRenderer.set(channel, listener),
  })
}

it("runs the renderer's RPC client through the bridge and the link to the daemon", async () => {
  const bridge = wire()
  const program = Effect.gen(function*() {
    const client = yield* RpcClient.make(TaskRpc.TaskRpcs)
    const info = yield* client.Info()
    expect(info.dataDir).toBe(dataDir)
    const definitions = yield* client.Definitions({})
    expect(definitions.map((definition) => definition.id)).toContain("demo")
    const refused = yield* Effect.flip(client.Trigger({ definitionId: "no-such-task", input: {} }))
    expect(refused._tag).toBe("UnknownDefinition")
    const task = yield* client.Trigger({ definitionId: "demo", input: { steps: 1, delaySeconds: 0 } })
    // A stream: its chunks are acknowledged with Ack frames, which FrameCheck must pass.
    const events = yield* client.Subscribe({ fromPosition: 0 }).pipe(Stream.take(3), Stream.runCollect)
    expect(events.length).toBe(3)
    expect(events[0]!.stream).toBe(task.context.taskId)
  }).pipe(
    Effect.scoped,
    Effect.provide(RpcClient.layerProtocolSocket().pipe(Layer.provide(BridgeSocket.layer(bridge)), Layer.provide(RpcSerialization.layerJson))),
  )
  await Effect.runPromise(program)
  bridge.close()
}, 60_000)
