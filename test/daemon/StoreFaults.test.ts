/**
 * A full disk under the real daemon: its data directory on a small tmpfs that
 * the test mounts (skipped, with the reason printed, where mounting is not
 * permitted). While the disk is full, triggers fail with a typed error naming
 * the cause and `tasklane daemon status` (and Info) report the store
 * degraded with the error, as does the web UI's status bar (headless
 * Chromium); once space is freed the same daemon process writes again,
 * without a restart, the status bar clears, and every task acknowledged
 * before is still there.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { Replay, StoreHealth } from "@tasklane/core"
import { afterAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { tasklane } from "../support/CliProcess.ts"
import type { Browser } from "playwright-core"
import { type DaemonProcess, fixtureConfig } from "../support/DaemonProcess.ts"
import { connectTo, getTask, poll, rejection, waitFor } from "../support/TaskPolling.ts"
import { launchChromium, openSignedIn, startWebDaemon } from "../ui/WebUiSupport.ts"

/** A tmpfs of `size` on a fresh short path (unix socket paths are limited), or why there cannot be one. */
const mountTmpfs = (size: string): { readonly dir: string } | { readonly reason: string } => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tl-"))
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "pipe" })
    return { dir }
  } catch (cause) {
    Fs.rmdirSync(dir)
    return { reason: `cannot mount a tmpfs (${String(cause).split("\n")[0]}); it needs root or CAP_SYS_ADMIN` }
  }
}

const mount = mountTmpfs("16m")
if ("reason" in mount) console.warn(`full-disk test skipped: ${mount.reason}.`)
const dataDir = "dir" in mount ? mount.dir : ""
let daemon: DaemonProcess | undefined
let c: Connection | undefined
let browser: Browser | undefined

afterAll(async () => {
  await browser?.close()
  await c?.close().catch(() => undefined)
  await daemon?.stop("SIGKILL")
  if (dataDir !== "") {
    execFileSync("umount", [dataDir])
    Fs.rmdirSync(dataDir)
  }
})

/** Writes zeros to `file` until the disk is full. */
const fillDisk = (file: string) => {
  const fd = Fs.openSync(file, "w")
  const chunk = Buffer.alloc(64 * 1024)
  try {
    for (;;) Fs.writeSync(fd, chunk)
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOSPC") throw cause
  } finally {
    Fs.closeSync(fd)
  }
}

const status = async (): Promise<{ readonly pid: number; readonly store: StoreHealth.StoreHealth }> => {
  const result = await tasklane(dataDir, ["daemon", "status", "--json"])
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout)
}

describe.skipIf(dataDir === "")("a full disk under the running daemon", () => {
  it("degrades the store with the error, then writes again once space is freed, losing nothing", async () => {
    const web = await startWebDaemon(dataDir, ["--config", fixtureConfig, "--no-examples"])
    daemon = web.daemon
    c = await connectTo(daemon)
    browser = await launchChromium()
    const page = await openSignedIn(browser, web.signIn, { width: 1200, height: 800 })
    const storeHealth = page.locator("[data-testid=store-health]")
    const trigger = (input: unknown): Promise<Replay.TaskState> => c!.call((client) => client.Trigger({ definitionId: "quick", input }))
    const before: Array<string> = []
    for (let i = 0; i < 10; i++) before.push((await trigger({ i })).context.taskId)
    for (const id of before) await waitFor(c, id, "done")
    expect((await status()).store).toEqual({ status: "ok", damage: [] })

    const filler = Path.join(dataDir, "filler")
    fillDisk(filler)
    const acknowledged = [...before]
    let error: { readonly _tag: string; readonly message: string } | undefined
    for (let i = 0; error === undefined && i < 2_000; i++) {
      try {
        acknowledged.push((await trigger({ filling: i })).context.taskId)
      } catch (e) {
        error = e as typeof error
      }
    }
    expect(error).toMatchObject({ _tag: "DaemonError" })
    expect(error!.message).toMatch(/No space left on device/)

    const degraded = await status()
    expect(degraded.store).toMatchObject({ status: "degraded", error: expect.stringMatching(/No space left on device/) })
    const human = await tasklane(dataDir, ["daemon", "status"], { NO_COLOR: "1" })
    expect(human.stdout).toMatch(/store +DEGRADED since .*: .*No space left on device/)
    await page.locator("[data-testid=store-health][data-status=degraded]").waitFor({ timeout: 5_000 })
    expect(await storeHealth.textContent()).toMatch(/^store degraded: .*No space left on device/)
    // While degraded, triggers fail at once with a readable error (from the CLI too: not exit 3).
    const refused = await rejection(trigger({ refused: true }))
    expect(refused.message).toMatch(/cannot write since .*No space left on device/)

    Fs.rmSync(filler)
    const healthy = await poll(async () => {
      const now = await status()
      return now.store.status === "ok" ? now : undefined
    }, { timeoutMs: 15_000 })
    // The same process: it was not restarted.
    expect(healthy.pid).toBe(daemon.child.pid)
    await storeHealth.waitFor({ state: "detached", timeout: 5_000 })
    const after = await trigger({ after: true })
    await waitFor(c, after.context.taskId, "done")

    for (const id of before) expect((await getTask(c, id)).status, id).toBe("done")
    for (const id of acknowledged) expect((await getTask(c, id)).context.taskId).toBe(id)
    expect(daemon.output()).toMatch(/a write failed; appends fail until the database is reopened/)
    expect(daemon.output()).toMatch(/reopened and is writable again/)
  })
})
