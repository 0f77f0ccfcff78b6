/**
 * End-to-end tests of the web UI: the real daemon in web mode
 * (`tasklane daemon --http 127.0.0.1:0`, example tasks loaded, temp data dir)
 * serving the built renderer (`apps/desktop/out/renderer`, built here first),
 * driven by headless Chromium through playwright-core. Each test checks what
 * a user would notice, and saves a screenshot of the screen it ends on to
 * `test-output/ui/`.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { ok } from "../support/CliProcess.ts"
import { type DaemonProcess, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, waitFor } from "../support/TaskPolling.ts"
import { goTo, launchChromium, openSignedIn, outputDir, startWebDaemon, tearDown } from "./WebUiSupport.ts"

const shots = outputDir

describe("web UI", () => {
  let dataDir: string
  let daemon: DaemonProcess
  let signIn: URL
  let base: string
  let c: Connection
  let browser: Browser
  let page: Page

  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`) })
  const go = (hash: string) => goTo(page, hash)
  const taskCount = async () => (await c.call((client) => client.ListTasks({ limit: 1000 }))).tasks.length
  const badge = () => page.locator(".detail-head [data-status]")

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true })
    dataDir = tempDataDir()
    ;({ daemon, signIn } = await startWebDaemon(dataDir))
    base = signIn.origin
    c = await connectTo(daemon)
    browser = await launchChromium()
    page = await openSignedIn(browser, signIn, { width: 1200, height: 760 })
    // The token is swapped for a cookie and leaves the address bar.
    expect(page.url()).toBe(`${base}/`)
  }, 60_000)

  afterAll(() => tearDown({ browser, connection: c, daemon, dataDir }))

  it("triggers the demo task through its generated form and shows it reach done live", async () => {
    await go("#/definitions/demo")
    await page.locator('[id="input.steps"]').fill("3")
    await page.locator('[id="input.delaySeconds"]').fill("0.5")
    await page.getByLabel("Task name").fill("countdown from the UI")
    await page.getByText("input looks valid").waitFor()
    await shot("definitions-form")
    // A marker on window proves the page is never reloaded while the status changes.
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42))
    await page.getByRole("button", { name: "Trigger" }).click()
    await page.waitForURL(/#\/tasks\/[0-9a-f-]+$/)
    const taskId = page.url().split("/").pop()!
    await expect.poll(() => badge().getAttribute("data-status"), { timeout: 10_000 }).toMatch(/^(triggered|running|continue)$/)
    await expect.poll(() => badge().getAttribute("data-status"), { timeout: 15_000 }).toBe("done")
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42)
    await page.locator(".log-line", { hasText: "Step 3 of 3" }).waitFor()
    await expect.poll(() => page.locator('[aria-label="Output"]').textContent()).toContain('"steps": 3')
    expect((await waitFor(c, taskId, "done")).context.name).toBe("countdown from the UI")
    await shot("task-done")
  })

  it("shows field errors for invalid input and triggers nothing", async () => {
    const before = await taskCount()
    await go("#/definitions/demo")
    await page.locator('[id="input.steps"]').fill("500")
    await page.locator('[id="input.failAt"]').fill("0")
    // Live validation puts each issue next to its field before any submit.
    await page.getByTestId("error-input.steps").waitFor()
    await page.getByTestId("error-input.failAt").waitFor()
    await page.getByRole("button", { name: "Trigger" }).click()
    await page.getByText("nothing was triggered").waitFor()
    expect(page.url()).toMatch(/#\/definitions\/demo$/)
    expect(await page.getByTestId("error-input.steps").textContent()).toMatch(/100/)
    expect(await taskCount()).toBe(before)
    await shot("definitions-invalid")
  })

  it("a form just opened shows no errors; Trigger with a required field empty says Required and triggers nothing", async () => {
    const before = await taskCount()
    await go("#/definitions/hashFiles")
    await page.getByText("fill in the form").waitFor()
    expect(await page.locator('[data-testid^="error-"]').count()).toBe(0)
    await page.getByRole("button", { name: "Trigger" }).click()
    await page.getByText("nothing was triggered").waitFor()
    expect(await page.getByTestId("error-input.folder").textContent()).toBe("Required")
    expect(await taskCount()).toBe(before)
  })

  it("aborts a running task after confirming", async () => {
    const task = await c.call((client) => client.Trigger({ definitionId: "demo", input: { steps: 60, delaySeconds: 1 }, name: "long countdown" }))
    const taskId = task.context.taskId
    await waitFor(c, taskId, ["running", "continue"])
    await go(`#/tasks/${taskId}`)
    await expect.poll(() => badge().getAttribute("data-status")).toMatch(/^(running|continue)$/)
    await page.getByRole("button", { name: "Abort", exact: true }).click()
    const dialog = page.getByRole("dialog")
    await dialog.waitFor()
    await shot("abort-confirm")
    // Cancelling changes nothing.
    await dialog.getByRole("button", { name: "Cancel" }).click()
    expect((await c.call((client) => client.GetTask({ taskId }))).context.abortRequested).toBe(false)
    await page.getByRole("button", { name: "Abort", exact: true }).click()
    await dialog.getByRole("button", { name: "Abort task" }).click()
    await expect.poll(() => badge().getAttribute("data-status"), { timeout: 10_000 }).toBe("aborted")
    expect(await page.getByRole("button", { name: "Abort", exact: true }).isDisabled()).toBe(true)
    expect((await waitFor(c, taskId, "aborted")).status).toBe("aborted")
    await shot("task-aborted")
  })

  it("still shows everything after a reload", async () => {
    await go("#/tasks")
    const rows = page.locator("a.task-row")
    await expect.poll(() => rows.count()).toBe(2)
    const statuses = () => rows.locator("[data-status]").evaluateAll((badges) => badges.map((b) => b.getAttribute("data-status")))
    expect(await statuses()).toEqual(["aborted", "done"])
    await page.reload()
    await page.locator(".status-bar[data-connection=connected]").waitFor()
    expect(page.url()).toMatch(/#\/tasks$/)
    await expect.poll(() => rows.count()).toBe(2)
    expect(await statuses()).toEqual(["aborted", "done"])
    expect(await rows.first().textContent()).toContain("long countdown")
    await shot("tasks")
    // The detail route survives a reload too.
    await rows.nth(1).click()
    await badge().waitFor()
    await page.reload()
    await expect.poll(() => badge().getAttribute("data-status")).toBe("done")
    await expect.poll(() => page.locator(".detail-head h2").textContent()).toBe("countdown from the UI")
  })

  it("shows reconnecting while the daemon is down and catches up when it is back", async () => {
    await go("#/tasks")
    const rows = page.locator("a.task-row")
    await expect.poll(() => rows.count()).toBe(2)
    await c.close()
    expect(await daemon.stop("SIGTERM")).toBe(0)
    await page.locator(".status-bar[data-connection=reconnecting]").waitFor()
    await shot("reconnecting")
    // Same data dir (same token, so the page's cookie still works) and same address.
    ;({ daemon } = await startWebDaemon(dataDir, [], signIn.host))
    c = await connectTo(daemon)
    await page.locator(".status-bar[data-connection=connected]").waitFor({ timeout: 15_000 })
    // Live updates resume after the reconnect: a task triggered now appears and runs without a reload.
    await c.call((client) => client.Trigger({ definitionId: "demo", input: { steps: 1, delaySeconds: 0 }, name: "after the restart" }))
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3)
    expect(await rows.first().textContent()).toContain("after the restart")
    await expect.poll(() => rows.first().locator("[data-status]").getAttribute("data-status"), { timeout: 10_000 }).toBe("done")
  })

  it("refuses requests without the token, and the page shows nothing useful without the cookie", async () => {
    for (const path of ["/", "/index.html", "/rpc"]) expect((await fetch(base + path)).status, path).toBe(401)
    expect((await fetch(`${base}/?token=wrong`)).status).toBe(401)
    const stranger = await browser.newContext()
    const other = await stranger.newPage()
    const response = await other.goto(`${base}/#/tasks`)
    expect(response?.status()).toBe(401)
    const text = await other.locator("body").innerText()
    expect(text).not.toContain("Tasklane")
    expect(text).not.toContain("countdown")
    await other.screenshot({ path: join(shots, "no-token.png") })
    await stranger.close()
  })

  it("deletes a finished task after confirming; an unfinished one is refused with the daemon's reason, as by `tasklane rm`", async () => {
    const { context: { taskId } } = await c.call((client) =>
      client.Trigger({ definitionId: "demo", input: { steps: 60, delaySeconds: 1 }, name: "to be deleted" })
    )
    await waitFor(c, taskId, ["running", "continue"])
    await go(`#/tasks/${taskId}`)
    await expect.poll(() => badge().getAttribute("data-status")).toMatch(/^(running|continue)$/)
    const deleteButton = page.getByRole("button", { name: "Delete", exact: true })
    const dialog = page.getByRole("dialog")
    await deleteButton.click()
    await dialog.getByRole("button", { name: "Delete task" }).click()
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(
      new RegExp(`^Delete failed: task ${taskId} is (running|continue): only a finished task can be deleted; abort it first`),
    )
    expect((await c.call((client) => client.GetTask({ taskId }))).context.deleted).toBeUndefined()

    await c.call((client) => client.Abort({ taskId }))
    await expect.poll(() => badge().getAttribute("data-status"), { timeout: 10_000 }).toBe("aborted")
    await deleteButton.click()
    await dialog.waitFor()
    await shot("delete-confirm")
    await dialog.getByRole("button", { name: "Delete task" }).click()
    await page.waitForURL(/#\/tasks$/)
    await page.locator("a.task-row").first().waitFor()
    expect(await page.locator("a.task-row").allTextContents()).not.toContainEqual(expect.stringContaining("to be deleted"))
    expect((await c.call((client) => client.ListTasks({ limit: 1000 }))).tasks.map((t) => t.context.taskId)).not.toContain(taskId)
  })

  it("resumes live updates above the pruned watermark when a prune removed what it missed while the daemon was away", async () => {
    await go("#/tasks")
    const rows = page.locator("a.task-row")
    const statusOf = (name: string) => rows.filter({ hasText: name }).locator("[data-status]").getAttribute("data-status")
    // A task running when the daemon stops, aborted while the page is away: its abort lands below the watermark but is kept.
    const { context: { taskId: running } } = await c.call((client) =>
      client.Trigger({ definitionId: "demo", input: { steps: 60, delaySeconds: 1 }, name: "running when the daemon stopped" })
    )
    await waitFor(c, running, ["running", "continue"])
    const shown = (await c.call((client) => client.ListTasks({ limit: 1000 }))).tasks.length
    await expect.poll(() => rows.count()).toBe(shown)
    await expect.poll(() => statusOf("running when the daemon stopped")).toMatch(/^(running|continue)$/)
    // Every problem the status bar shows from now on (a live-update one clears on each retry, so a look at the end could miss it).
    // (Page-side code as a string: this file is type-checked without the DOM library.)
    await page.evaluate(`(() => {
      const seen = (globalThis.problemsSeen = [])
      new MutationObserver(() => {
        for (const el of document.querySelectorAll(".status-problem")) if (!seen.includes(el.textContent)) seen.push(el.textContent)
      }).observe(document.body, { childList: true, subtree: true, characterData: true })
    })()`)
    await c.close()
    expect(await daemon.stop("SIGTERM")).toBe(0)
    await page.locator(".status-bar[data-connection=reconnecting]").waitFor()
    // Meanwhile, on a daemon without --http (the page cannot reach it), the running task is aborted, then a task
    // runs that the page never sees, then `tasklane prune` removes every done task: the watermark ends above the
    // page's last folded position and above the kept task's abort.
    daemon = await startDaemon({ dataDir, args: ["--abort-grace", "1", "--shutdown-grace", "2"] })
    c = await connectTo(daemon)
    await c.call((client) => client.Abort({ taskId: running }))
    // Settled: the demo's hooks run after its final event, and `head` below must not move before the prune.
    await waitFor(c, running, "aborted", { settled: true })
    const { context: { taskId: missed } } = await c.call((client) =>
      client.Trigger({ definitionId: "demo", input: { steps: 1, delaySeconds: 0 }, name: "missed by the page" })
    )
    await waitFor(c, missed, "done", { settled: true })
    const head = (await c.call((client) => client.Info())).head
    const report = JSON.parse(await ok(dataDir, ["prune", "--older-than", "0ms", "--status", "done", "--json"])) as {
      taskIds: Array<string>
      prunedThrough: number
    }
    expect(report.taskIds).toContain(missed)
    expect(report.taskIds).not.toContain(running)
    expect(report.prunedThrough).toBe(head)
    const kept = (await c.call((client) => client.ListTasks({ limit: 1000 }))).tasks
    expect(kept.map((t) => t.status)).not.toContain("done")
    await c.close()
    expect(await daemon.stop("SIGTERM")).toBe(0)
    // Back on the page's address: its Subscribe from below the watermark fails with PositionPruned.
    ;({ daemon } = await startWebDaemon(dataDir, [], signIn.host))
    c = await connectTo(daemon)
    await page.locator(".status-bar[data-connection=connected]").waitFor({ timeout: 15_000 })
    await c.call((client) => client.Trigger({ definitionId: "demo", input: { steps: 1, delaySeconds: 0 }, name: "after the prune" }))
    await expect.poll(() => rows.first().textContent(), { timeout: 10_000 }).toContain("after the prune")
    await expect.poll(() => statusOf("after the prune"), { timeout: 10_000 }).toBe("done")
    await expect.poll(() => statusOf("running when the daemon stopped")).toBe("aborted")
    expect(await page.evaluate(() => (globalThis as unknown as { problemsSeen: Array<string> }).problemsSeen)).toEqual([])
    await shot("resumed-after-prune")
    // The pruned tasks stay in the open list until a reload; after it, the list is what the daemon has.
    await page.reload()
    await page.locator(".status-bar[data-connection=connected]").waitFor()
    const names = (await c.call((client) => client.ListTasks({ limit: 1000 }))).tasks.map((t) => t.context.name!)
    expect(names).toEqual(["after the prune", ...kept.map((t) => t.context.name)])
    await expect.poll(() => rows.allTextContents()).toEqual(names.map((name) => expect.stringContaining(name)))
  })
})
