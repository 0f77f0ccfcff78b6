/**
 * The preload's bridge over a fake `ipcRenderer`: the one mock in the
 * desktop tests, because the preload's IPC only exists inside Electron (the
 * real thing is covered by test/desktop/ElectronLaunch.test.ts where an
 * Electron binary exists). The fake records what the bridge sends and lets
 * the test deliver what main would send.
 */
import { DesktopBridge } from "@tasklane/core/client"
import { describe, expect, it } from "vitest"
import { bridgeGlobalName, Channels } from "../src/main/Channels.ts"
import { type ConnectResult, makeBridge } from "../src/preload/Bridge.ts"

const fakeIpc = (connectResult: ConnectResult = { ok: true }) => {
  const sent: Array<[string, ...Array<unknown>]> = []
  const invoked: Array<string> = []
  const listeners = new Map<string, (event: unknown, ...args: Array<unknown>) => void>()
  return {
    sent,
    invoked,
    emit: (channel: string, ...args: Array<unknown>) => listeners.get(channel)?.({ sender: "main" }, ...args),
    ipc: {
      invoke: async (channel: string) => {
        invoked.push(channel)
        return connectResult
      },
      send: (channel: string, ...args: Array<unknown>) => void sent.push([channel, ...args]),
      on: (channel: string, listener: (event: unknown, ...args: Array<unknown>) => void) => listeners.set(channel, listener),
    },
  }
}

describe("preload bridge", () => {
  it("is exposed under the contract's global name, as an electron bridge", () => {
    expect(bridgeGlobalName).toBe(DesktopBridge.globalName)
    const bridge = makeBridge(fakeIpc().ipc)
    expect(bridge.kind).toBe("electron")
    expect(Object.keys(bridge).sort()).toEqual(["close", "connect", "kind", "onClose", "onFrame", "onOpenHistory", "send"])
  })

  it("connects through main, then sends frames on the send channel", async () => {
    const fake = fakeIpc()
    const bridge = makeBridge(fake.ipc)
    expect(() => bridge.send("{}")).toThrow("not connected to the daemon")
    await bridge.connect()
    expect(fake.invoked).toEqual([Channels.connect])
    bridge.send('{"_tag":"Ping"}')
    bridge.close()
    expect(fake.sent).toEqual([[Channels.send, '{"_tag":"Ping"}'], [Channels.close]])
    expect(() => bridge.send("{}")).toThrow("not connected to the daemon")
  })

  it("rejects connect with main's message", async () => {
    const bridge = makeBridge(fakeIpc({ ok: false, message: "cannot start the Tasklane daemon: boom" }).ipc)
    await expect(bridge.connect()).rejects.toThrow("cannot start the Tasklane daemon: boom")
  })

  it("delivers frames, close reasons and opened histories to listeners until they unsubscribe", async () => {
    const fake = fakeIpc()
    const bridge = makeBridge(fake.ipc)
    await bridge.connect()
    const frames: Array<string> = []
    const reasons: Array<string> = []
    const files: Array<DesktopBridge.OpenedFile> = []
    const offFrame = bridge.onFrame((frame) => frames.push(frame))
    bridge.onClose((reason) => reasons.push(reason))
    bridge.onOpenHistory((file) => files.push(file))
    fake.emit(Channels.frame, '{"_tag":"Pong"}')
    fake.emit(Channels.frame, { not: "a string" })
    offFrame()
    fake.emit(Channels.frame, "after unsubscribe")
    fake.emit(Channels.openHistory, { name: "h.json", contents: "{}", extra: "dropped" })
    fake.emit(Channels.openHistory, { name: 1 })
    fake.emit(Channels.closed, "the daemon closed the connection")
    expect(frames).toEqual(['{"_tag":"Pong"}'])
    expect(files).toEqual([{ name: "h.json", contents: "{}" }])
    expect(reasons).toEqual(["the daemon closed the connection"])
    expect(() => bridge.send("{}")).toThrow("not connected to the daemon")
  })
})
