/**
 * A cluster's nodes as users see them: two real daemons as nodes of one
 * real PostgreSQL 15 database (a private cluster,
 * packages/core/test/support/Postgres.ts), one of them in web mode.
 * `tasklane daemon status` on a node lists both nodes (text and `--json`),
 * the web UI's status bar says how many there are and how many are live and
 * lists them on click, and once a node is killed both show it lost.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { Browser } from "playwright-core"
import { afterAll, describe, expect, it } from "vitest"
import { postgresForFile } from "../../packages/core/test/support/PostgresForFile.ts"
import { ok } from "../support/CliProcess.ts"
import { type DaemonProcess, fixtureConfig, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { poll } from "../support/TaskPolling.ts"
import { launchChromium, openSignedIn, outputDir, startWebDaemon } from "../ui/WebUiSupport.ts"

const pg = postgresForFile()
let browser: Browser | undefined
const cleanup: Array<() => Promise<unknown> | void> = []

afterAll(async () => {
  await browser?.close()
  for (const step of cleanup.reverse()) await step()
})

const nodeArgs = (url: string, id: string) => ["--store", url, "--node-id", id, "--config", fixtureConfig, "--no-examples", "--shutdown-grace", "2"]

/** A daemon's status, as JSON. */
const statusJson = async (daemon: DaemonProcess) =>
  JSON.parse(await ok(daemon.dataDir, ["daemon", "status", "--json"])) as {
    readonly cluster?: { readonly nodeId: string; readonly nodes: ReadonlyArray<{ readonly id: string; readonly live: boolean; readonly heartbeatAgeMs: number }> }
  }

describe("a cluster's nodes in daemon status and the web UI", () => {
  it("both nodes listed live; a killed node shown lost", async () => {
    const url = await pg().createDatabase()
    const webDir = tempDataDir()
    const { daemon: a, signIn } = await startWebDaemon(webDir, nodeArgs(url, "node-a"))
    cleanup.push(() => removeDataDir(webDir), () => a.stop())
    const b = await startDaemon({ dataDir: tempDataDir(), args: nodeArgs(url, "node-b") })
    cleanup.push(() => removeDataDir(b.dataDir), () => b.stop("SIGKILL"))

    // Both heartbeat: a sees b once b has registered.
    const both = await poll(async () => {
      const nodes = (await statusJson(a)).cluster?.nodes ?? []
      return nodes.length === 2 && nodes.every((n) => n.live) ? nodes : undefined
    }, { timeoutMs: 15_000, what: () => ok(a.dataDir, ["daemon", "status"]) })
    expect(both.map((n) => n.id).sort()).toEqual(["node-a", "node-b"])
    expect((await statusJson(a)).cluster?.nodeId).toBe("node-a")
    expect((await statusJson(b)).cluster?.nodeId).toBe("node-b")
    for (const n of both) expect(n.heartbeatAgeMs).toBeLessThan(10_000)

    const text = await ok(a.dataDir, ["daemon", "status"])
    expect(text).toContain(`event store  PostgreSQL at ${url}`)
    expect(text).toMatch(/^cluster +this daemon is node node-a \(\*\); 2 nodes, 2 live$/m)
    expect(text).toMatch(/^ {2}node +host +pid +state +heartbeat +running +epoch$/m)
    expect(text).toMatch(new RegExp(`^  node-a \\* +\\S+ +${a.child.pid} +live +[\\d.]+ (ms|s) ago +\\d+ +\\d+$`, "m"))
    expect(text).toMatch(new RegExp(`^  node-b +\\S+ +${b.child.pid} +live +`, "m"))

    mkdirSync(outputDir, { recursive: true })
    browser = await launchChromium()
    const page = await openSignedIn(browser, signIn, { width: 1000, height: 600 })
    const entry = page.getByTestId("cluster").getByRole("button")
    await expect.poll(() => entry.textContent(), { timeout: 10_000 }).toBe("cluster: 2 nodes (2 live)")
    await entry.click()
    const rows = page.getByTestId("cluster-nodes").locator("tbody tr")
    await expect.poll(async () => (await rows.locator("td:first-child").allTextContents()).sort()).toEqual(["node-a (this daemon)", "node-b"])
    await page.screenshot({ path: join(outputDir, "status-bar-cluster-live.png") })

    // Killed: on the same host its dead pid is seen at the next heartbeat, past the lease at the latest.
    await b.stop("SIGKILL")
    const lost = await poll(async () => {
      const nodes = (await statusJson(a)).cluster?.nodes ?? []
      return nodes.some((n) => n.id === "node-b" && !n.live) ? nodes : undefined
    }, { timeoutMs: 30_000, intervalMs: 250, what: () => ok(a.dataDir, ["daemon", "status"]) })
    expect(lost.find((n) => n.id === "node-a")?.live).toBe(true)
    expect(await ok(a.dataDir, ["daemon", "status"])).toMatch(/^ {2}node-b +\S+ +\d+ +lost +/m)
    await expect.poll(() => entry.textContent(), { timeout: 10_000 }).toBe("cluster: 2 nodes (1 live)")
    expect(await page.getByTestId("cluster-nodes").locator("tr[data-node=node-b] td.node-lost").textContent()).toBe("lost")
    await page.screenshot({ path: join(outputDir, "status-bar-cluster-lost.png") })
  }, 120_000)
})
