/**
 * `pnpm start` (apps/desktop/bin/start.mjs) where Electron cannot run: it
 * says so in one line, runs the real daemon in web mode in the foreground,
 * prints the web UI's URL, points a second launch at the running daemon, and
 * stops the daemon gracefully on Ctrl-C (SIGINT). ELECTRON_EXEC_PATH names a
 * missing binary so the fallback is taken on every machine.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { removeDataDir, startDaemon, tempDataDir } from "../../../test/support/DaemonProcess.ts"

const desktopDir = Path.join(import.meta.dirname, "..")
const start = Path.join(desktopDir, "bin", "start.mjs")
const env = { ...process.env, NO_COLOR: "1", ELECTRON_EXEC_PATH: "/nonexistent/electron" }
const children: Array<ChildProcess> = []
const dirs: Array<string> = []

const launch = (args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, [start, ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
  children.push(child)
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const line = async (pattern: RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const match = output.split("\n").find((candidate) => pattern.test(candidate))
      if (match !== undefined) return match
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no line matching ${pattern} in:\n${output}`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
  return { child, exited, line, output: () => output }
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  // The launcher runs the daemon in its own process group: after a failed test, stop it by its pid file.
  for (const dir of dirs) {
    try {
      process.kill(Number(Fs.readFileSync(Path.join(dir, "daemon.pid"), "utf8")), "SIGKILL")
    } catch {
      // not running
    }
    removeDataDir(dir)
  }
})

describe("pnpm start without Electron", () => {
  it("serves the UI in the browser, points a second launch at it, and stops on Ctrl-C", async () => {
    const dataDir = tempDataDir()
    dirs.push(dataDir)
    const first = launch(["--data-dir", dataDir, "--port", "0"])
    const notice = await first.line(/^Electron is not available/)
    expect(notice).toBe(
      "Electron is not available on this machine (no Electron binary at /nonexistent/electron (ELECTRON_EXEC_PATH)); " +
        "serving the Tasklane UI in your browser instead.",
    )
    const url = (await first.line(/^web UI: /)).slice("web UI: ".length)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/)
    // The served UI (a browser trades ?token= for a cookie; a bearer header is the same token).
    const token = new URL(url).searchParams.get("token")!
    const page = await fetch(new URL("/", url), { headers: { authorization: `Bearer ${token}` } })
    expect(page.status).toBe(200)
    expect(await page.text()).toMatch(/<html/i)

    // A second launch finds the running daemon and prints its URL instead of failing.
    const second = launch(["--data-dir", dataDir, "--port", "0"])
    expect(await second.exited).toBe(0)
    expect(second.output()).toContain(`A Tasklane daemon is already running for ${dataDir}`)
    expect(second.output()).toContain(`web UI: ${url}`)

    first.child.kill("SIGINT")
    expect(await first.exited).toBe(0)
    expect(first.output()).toContain("stopping the daemon")
    // Stopped gracefully: the daemon removed its pid file and the URL file.
    expect(Fs.existsSync(Path.join(dataDir, "daemon.pid"))).toBe(false)
    expect(Fs.existsSync(Path.join(dataDir, "web-url"))).toBe(false)
  }, 60_000)

  it("says how to proceed when a daemon without web mode already runs", async () => {
    const dataDir = tempDataDir()
    dirs.push(dataDir)
    const daemon = await startDaemon({ dataDir })
    try {
      const launcher = launch(["--data-dir", dataDir])
      expect(await launcher.exited).toBe(1)
      expect(launcher.output()).toContain(`A Tasklane daemon is already running for ${dataDir} (pid ${daemon.child.pid})`)
      expect(launcher.output()).toContain(`daemon stop --data-dir ${dataDir}`)
    } finally {
      await daemon.stop()
    }
  })

  it("has --help, and rejects bad usage with exit 2", () => {
    const help = spawnSync(process.execPath, [start, "--help"], { env, encoding: "utf8" })
    expect(help.status).toBe(0)
    expect(help.stdout).toContain("Usage: pnpm start")
    expect(help.stdout).toContain("--port N")
    for (const args of [["--port", "http"], ["--nope"]]) {
      const bad = spawnSync(process.execPath, [start, ...args], { env, encoding: "utf8" })
      expect(bad.status).toBe(2)
      expect(bad.stderr).toMatch(/^tasklane: /)
    }
  })
})
