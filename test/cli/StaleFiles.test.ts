/**
 * What a daemon killed with SIGKILL leaves in its data directory
 * (`daemon.pid`, and `web-url` in web mode), and how the CLI and the next
 * daemon treat it: `daemon status` exits 3 naming the dead pid and prints no
 * web URL; `daemon stop` signals nobody and removes the pid file; a pid file
 * whose pid now belongs to another program does not stop a new daemon from
 * starting, which replaces it and removes the stale `web-url`.
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ok, tasklane } from "../support/CliProcess.ts"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"

const dir = tempDataDir()
const daemons: Array<DaemonProcess> = []
// Stands for an unrelated program that got the dead daemon's pid.
const bystander = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" })

afterAll(async () => {
  for (const daemon of daemons) await daemon.stop("SIGKILL")
  bystander.kill("SIGKILL")
  removeDataDir(dir)
})

describe("files left by a daemon killed with SIGKILL", () => {
  let deadPid = 0

  it("are left behind: daemon.pid and web-url", async () => {
    const daemon = await startDaemon({ dataDir: dir, args: ["--no-examples", "--http", "127.0.0.1:0"] })
    daemons.push(daemon)
    deadPid = daemon.child.pid!
    expect(await daemon.stop("SIGKILL")).toBe("SIGKILL")
    expect(readFileSync(join(dir, "daemon.pid"), "utf8").trim()).toBe(String(deadPid))
    expect(readFileSync(join(dir, "web-url"), "utf8")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/)
  })

  it("daemon status: exit 3, the dead pid named as not running, no web URL", async () => {
    const status = await tasklane(dir, ["daemon", "status"])
    expect(status.code).toBe(3)
    expect(status.stdout).toBe("")
    expect(status.stderr).toContain(`daemon.pid names pid ${deadPid}, which is not a running daemon (it crashed or was killed)`)
    expect(status.stderr).not.toContain("token=")
  })

  it("daemon stop: signals nobody, even when the pid now belongs to another program, and removes the pid file", async () => {
    writeFileSync(join(dir, "daemon.pid"), `${bystander.pid}\n`)
    const stopped = JSON.parse(await ok(dir, ["daemon", "stop", "--json"]))
    expect(stopped).toEqual({ stopped: false, dataDir: dir, stalePid: bystander.pid })
    expect(bystander.exitCode).toBeNull()
    expect(bystander.signalCode).toBeNull()
    expect(existsSync(join(dir, "daemon.pid"))).toBe(false)
  })

  it("the next daemon starts despite a pid file naming a live program, replaces it, and removes the stale web-url", async () => {
    writeFileSync(join(dir, "daemon.pid"), `${bystander.pid}\n`)
    writeFileSync(join(dir, "web-url"), "http://127.0.0.1:1/?token=stale\n")
    const daemon = await startDaemon({ dataDir: dir, args: ["--no-examples"] })
    daemons.push(daemon)
    expect(readFileSync(join(dir, "daemon.pid"), "utf8").trim()).toBe(String(daemon.child.pid))
    expect(existsSync(join(dir, "web-url"))).toBe(false)
    const status = await ok(dir, ["daemon", "status"])
    expect(status).toContain(`(pid ${daemon.child.pid})`)
    expect(status).not.toContain("web UI")
    expect(JSON.parse(await ok(dir, ["daemon", "status", "--json"]))).not.toHaveProperty("webUrl")
    expect(JSON.parse(await ok(dir, ["daemon", "stop", "--json"]))).toEqual({ stopped: true, pid: daemon.child.pid, dataDir: dir })
    expect(bystander.exitCode).toBeNull()
  })
})
