/**
 * The real desktop app in the real Electron: build it, launch it against a
 * temporary TASKLANE_HOME, check that the window opens, that the preload
 * exposes the bridge (and nothing else of Node), and that an RPC frame sent
 * over the bridge comes back from the daemon the app started (detached, so it
 * outlives the app; the test stops it).
 *
 * Electron's binary cannot be downloaded on some machines (no route to its
 * release host): there this test is skipped and says why at run time. It
 * never triggers electron's download (it reads `path.txt` itself instead of
 * `require("electron")`); ELECTRON_EXEC_PATH points it at a binary elsewhere.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { _electron, type ElectronApplication } from "playwright-core"
import { afterAll, describe, expect, it } from "vitest"
import { removeDataDir, tempDataDir } from "../support/DaemonProcess.ts"

const desktopDir = Path.join(import.meta.dirname, "..", "..", "apps", "desktop")

const findBinary = (): { readonly path: string } | { readonly reason: string } => {
  const override = process.env.ELECTRON_EXEC_PATH
  if (override) return Fs.existsSync(override) ? { path: override } : { reason: `no Electron binary at ${override} (ELECTRON_EXEC_PATH)` }
  const pathFile = Path.join(desktopDir, "node_modules", "electron", "path.txt")
  if (!Fs.existsSync(pathFile)) {
    return { reason: `no Electron binary (${pathFile} is missing: its download did not happen, and it cannot be downloaded on this machine)` }
  }
  const path = Path.join(desktopDir, "node_modules", "electron", "dist", Fs.readFileSync(pathFile, "utf8").trim())
  if (!Fs.existsSync(path)) return { reason: `no Electron binary at ${path}` }
  if (process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: "no display (DISPLAY and WAYLAND_DISPLAY are unset; run under xvfb-run)" }
  }
  return { path }
}

const binary = findBinary()
const executablePath = "path" in binary ? binary.path : undefined
if (executablePath === undefined && "reason" in binary) {
  console.warn(`Electron launch test skipped: ${binary.reason}.`)
}

const dataDir = tempDataDir()
let app: ElectronApplication | undefined

afterAll(async () => {
  await app?.close().catch(() => {})
  try {
    process.kill(Number(Fs.readFileSync(Path.join(dataDir, "daemon.pid"), "utf8")), "SIGTERM")
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  } catch {
    // no daemon was started
  }
  removeDataDir(dataDir)
})

describe("the desktop app in Electron", () => {
  it.skipIf(executablePath === undefined)("opens a window whose bridge reaches the daemon", async () => {
    execFileSync(Path.join(desktopDir, "node_modules", ".bin", "electron-vite"), ["build"], { cwd: desktopDir, stdio: "inherit" })
    const env = { ...process.env, TASKLANE_HOME: dataDir } as Record<string, string>
    delete env.ELECTRON_RUN_AS_NODE
    app = await _electron.launch({
      executablePath: executablePath!,
      // Chromium's own sandbox refuses to run as root (CI containers).
      args: [...(process.getuid?.() === 0 ? ["--no-sandbox"] : []), desktopDir],
      env,
      timeout: 60_000,
    })
    const window = await app.firstWindow()
    expect(await window.title()).toBeTruthy()
    const exposed = await window.evaluate(() => ({
      kind: (window as any).tasklane?.kind,
      keys: Object.keys((window as any).tasklane ?? {}).sort(),
      node: typeof (globalThis as any).require,
    }))
    expect(exposed).toEqual({ kind: "electron", keys: ["close", "connect", "kind", "onClose", "onFrame", "onOpenHistory", "send"], node: "undefined" })
    // The UI connects by itself; send an Info request through the same bridge once it has.
    const reply = await window.evaluate(
      () =>
        new Promise<any>((resolve, reject) => {
          const bridge = (window as any).tasklane
          const off = bridge.onFrame((frame: string) => {
            const message = JSON.parse(frame)
            if (message.requestId === "launch-test") {
              off()
              resolve(message)
            }
          })
          const deadline = Date.now() + 30_000
          const attempt = () => {
            try {
              bridge.send(JSON.stringify({ _tag: "Request", id: "launch-test", tag: "Info", payload: null, headers: [] }))
            } catch {
              if (Date.now() > deadline) return reject(new Error("the bridge never connected"))
              setTimeout(attempt, 200)
            }
          }
          attempt()
        }),
    )
    expect(reply.exit._tag).toBe("Success")
    expect(reply.exit.value.dataDir).toBe(dataDir)
    await app.close()
    app = undefined
    // The daemon the app started outlives it.
    const pid = Number(Fs.readFileSync(Path.join(dataDir, "daemon.pid"), "utf8"))
    expect(() => process.kill(pid, 0)).not.toThrow()
  }, 180_000)
})
