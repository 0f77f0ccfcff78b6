/**
 * Chromium driven over a bare DevTools connection that enables nothing but
 * `Runtime`, for timings Playwright's own instrumentation distorts:
 * Playwright enables the Network domain on every page, so Chromium copies
 * every WebSocket frame to it. Measured here: 14 frames of 1.3 MB (67,000
 * history events) took 0.9-1.3 s to arrive under Playwright and 0.25-0.45 s
 * in a Chromium with no client attached. Headless, like the UI suites.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { WebSocket } from "ws"
import * as Browser from "../support/Browser.ts"

/** A page opened at a URL; `evaluate` runs an expression in it (promises awaited, the value returned as JSON). */
export interface RawPage {
  readonly evaluate: <T>(expression: string) => Promise<T>
  readonly close: () => Promise<void>
}

const devToolsUrl = (chromium: ChildProcess): Promise<string> =>
  new Promise((resolve, reject) => {
    let seen = ""
    chromium.stderr!.on("data", (chunk: Buffer) => {
      seen += chunk.toString()
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(seen)
      if (match) resolve(match[1]!)
    })
    chromium.on("exit", (code) => reject(new Error(`chromium exited with ${code} before listening:\n${seen}`)))
  })

/** Opens `url` in a fresh headless Chromium (the one test/support/Browser.ts finds). */
export const open = async (url: string, viewport = { width: 1400, height: 900 }): Promise<RawPage> => {
  const found = await Browser.find()
  const profile = mkdtempSync(join(tmpdir(), "tasklane-raw-chromium-"))
  const chromium = spawn(found.executablePath, [
    ...Browser.headlessArgs,
    `--window-size=${viewport.width},${viewport.height}`, `--user-data-dir=${profile}`, "--remote-debugging-port=0", url,
  ], { stdio: ["ignore", "ignore", "pipe"], env: Browser.processEnv(found) })
  const browserUrl = new URL(await devToolsUrl(chromium))
  const targets = await (await fetch(`http://${browserUrl.host}/json/list`)).json() as Array<{ type: string; webSocketDebuggerUrl: string }>
  const socket = new WebSocket(targets.find((target) => target.type === "page")!.webSocketDebuggerUrl, { maxPayload: 256 * 1024 * 1024 })
  await new Promise((resolve, reject) => (socket.once("open", resolve), socket.once("error", reject)))
  const pending = new Map<number, (reply: { result?: { result?: { value?: unknown }; exceptionDetails?: unknown }; error?: unknown }) => void>()
  socket.on("message", (data) => {
    const reply = JSON.parse(String(data))
    pending.get(reply.id)?.(reply)
    pending.delete(reply.id)
  })
  let nextId = 0
  return {
    evaluate: <T>(expression: string) =>
      new Promise<T>((resolve, reject) => {
        const id = ++nextId
        pending.set(id, (reply) => {
          if (reply.error !== undefined || reply.result?.exceptionDetails !== undefined) reject(new Error(JSON.stringify(reply.error ?? reply.result?.exceptionDetails)))
          else resolve(reply.result?.result?.value as T)
        })
        socket.send(JSON.stringify({ id, method: "Runtime.evaluate", params: { expression, awaitPromise: true, returnByValue: true } }))
      }),
    close: async () => {
      socket.close()
      chromium.kill("SIGTERM")
      await new Promise((resolve) => chromium.once("exit", resolve))
      // Its helper processes may still be writing the profile for a moment.
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
    },
  }
}
