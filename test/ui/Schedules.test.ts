/**
 * The Schedules view in headless Chromium against a real daemon in web mode
 * (fixture definitions): a per-second schedule shows its definition, cron
 * and zone, next runs and its latest firings with their task's status
 * (linked to the task); Pause turns it paused in the view and in the daemon,
 * Resume back; Trigger now starts a task the card links; Remove (confirmed)
 * takes it off the list. History opens a schedule's every record, newest
 * first (created, fired, paused, triggered), the fired and triggered rows
 * linked to their tasks, and shows a new record when opened again.
 * Screenshots: test-output/ui/schedules.png, schedule-history.png.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { type DaemonProcess, fixtureConfig, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo } from "../support/TaskPolling.ts"
import { goTo, launchChromium, openSignedIn, outputDir, startWebDaemon, tearDown } from "./WebUiSupport.ts"

describe("web UI: Schedules view", () => {
  let dataDir: string
  let daemon: DaemonProcess
  let c: Connection
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    mkdirSync(outputDir, { recursive: true })
    dataDir = tempDataDir()
    ;({ daemon } = await startWebDaemon(dataDir, ["--config", fixtureConfig, "--no-examples"]))
    const signIn = new URL(/web UI: (http:\/\/\S+)/.exec(daemon.output())![1]!)
    c = await connectTo(daemon)
    browser = await launchChromium()
    page = await openSignedIn(browser, signIn, { width: 1200, height: 900 })
  }, 60_000)

  afterAll(() => tearDown({ browser, connection: c, daemon, dataDir }))

  const listed = async (id: string) => (await c.call((client) => client.ScheduleList())).find((s) => s.id === id)

  it("lists a schedule with its firings, pauses and resumes it, triggers it now and removes it", async () => {
    const added = await c.call((client) =>
      client.ScheduleAdd({ definitionId: "quick", cron: "* * * * * *", tz: "Europe/Berlin", name: "every second", input: { from: "ui" }, overlap: "allow" })
    )
    await goTo(page, "#/schedules")
    const card = page.getByTestId(`schedule-${added.id}`)
    await card.waitFor()
    await expect.poll(() => card.getAttribute("data-paused")).toBe("false")
    await expect.poll(() => card.textContent()).toContain("every second")
    const text = (await card.textContent())!
    expect(text).toContain("quick")
    expect(text).toContain("* * * * * *")
    expect(text).toContain("(Europe/Berlin)")
    expect(await card.getByTestId("schedule-next").locator(".schedule-time").count()).toBe(3)
    // Firings appear (the view refreshes itself) with their task's status, linked to the task.
    const fired = card.locator('[data-outcome="fired"] a[href^="#/tasks/"]').first()
    await fired.waitFor({ timeout: 10_000 })
    await expect.poll(() => fired.locator("[data-status]").getAttribute("data-status"), { timeout: 10_000 }).toBe("done")
    const taskHref = (await fired.getAttribute("href"))!
    expect((await c.call((client) => client.GetTask({ taskId: taskHref.split("/").pop()! as never }))).context.definitionId).toBe("quick")

    await card.getByRole("button", { name: "Pause" }).click()
    await expect.poll(() => card.getAttribute("data-paused")).toBe("true")
    expect(await card.getByTestId("schedule-state").textContent()).toBe("paused")
    expect(await card.getByTestId("schedule-next").textContent()).toContain("none while paused")
    expect((await listed(added.id))?.paused).toBe(true)
    await page.screenshot({ path: join(outputDir, "schedules.png") })

    await card.getByRole("button", { name: "Resume" }).click()
    await expect.poll(() => card.getAttribute("data-paused")).toBe("false")
    expect((await listed(added.id))?.paused).toBe(false)

    await card.getByRole("button", { name: "Trigger now" }).click()
    const manual = card.locator('.fork-note a[href^="#/tasks/"]')
    await manual.waitFor()
    const manualId = (await manual.textContent())!
    expect((await c.call((client) => client.GetTask({ taskId: manualId as never }))).context.idempotencyKey).toContain(`schedule:${added.id}:now:`)
    await expect.poll(() => card.locator('[data-outcome="manual"]').count(), { timeout: 5000 }).toBeGreaterThan(0)

    await card.getByRole("button", { name: "Remove" }).click()
    await page.locator("dialog[open]").getByRole("button", { name: "Remove" }).click()
    await card.waitFor({ state: "detached" })
    expect(await listed(added.id)).toBeUndefined()
    await page.getByText("No schedules.").waitFor()
  })

  it("shows a schedule's history, newest first, with its tasks linked, and reloads it when opened again", async () => {
    const added = await c.call((client) =>
      client.ScheduleAdd({ definitionId: "quick", cron: "* * * * * *", name: "with history", input: {}, overlap: "allow", catchUp: "none" })
    )
    const records = () => c.call((client) => client.ScheduleHistory({ scheduleId: added.id }))
    await expect.poll(async () => (await records()).some((r) => r._tag === "ScheduleFired" && r.taskId !== undefined), { timeout: 10_000 }).toBe(true)
    await c.call((client) => client.SchedulePause({ scheduleId: added.id }))
    const manual = await c.call((client) => client.ScheduleTriggerNow({ scheduleId: added.id }))
    // Paused, so the history stops growing: the UI must show exactly these, newest first.
    const recorded = await records()
    const kinds = recorded.map((r) => r._tag.replace(/^Schedule/, "").toLowerCase()).reverse()
    expect(kinds.join(" ")).toMatch(/^triggered paused( fired)+ created$/)
    const firedTaskId = recorded.flatMap((r) => (r._tag === "ScheduleFired" && r.taskId !== undefined ? [r.taskId] : []))[0]!
    expect((await c.call((client) => client.GetTask({ taskId: firedTaskId as never }))).context.definitionId).toBe("quick")

    await goTo(page, "#/schedules")
    const card = page.getByTestId(`schedule-${added.id}`)
    await card.waitFor()
    await card.getByRole("button", { name: "History", exact: true }).click()
    const rows = card.getByTestId("schedule-history").locator("tbody tr")
    await expect.poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-kind")))).toEqual(kinds)
    expect(await rows.nth(1).locator("td").nth(1).textContent()).toBe("paused")
    const triggeredRow = rows.first()
    expect(await triggeredRow.textContent()).toContain("by hand")
    expect(await triggeredRow.locator("a").getAttribute("href")).toBe(`#/tasks/${manual.context.taskId}`)
    const firedRow = rows.nth(kinds.length - 2)
    expect(await firedRow.getAttribute("data-kind")).toBe("fired")
    expect(await firedRow.locator("a").getAttribute("href")).toBe(`#/tasks/${firedTaskId}`)
    expect(await rows.last().textContent()).toContain('quick "with history"; cron * * * * * * (UTC); overlap allow; catch-up none')
    await page.screenshot({ path: join(outputDir, "schedule-history.png") })

    await card.getByRole("button", { name: "Hide history" }).click()
    await card.getByTestId("schedule-history").waitFor({ state: "detached" })
    const again = await c.call((client) => client.ScheduleTriggerNow({ scheduleId: added.id }))
    await card.getByRole("button", { name: "History", exact: true }).click()
    await expect.poll(() => rows.count()).toBe(kinds.length + 1)
    expect(await rows.first().locator("a").getAttribute("href")).toBe(`#/tasks/${again.context.taskId}`)
  })

  it("opens from the top bar and routes back on reload", async () => {
    await goTo(page, "#/tasks")
    await page.getByRole("link", { name: "Schedules" }).click()
    await page.waitForURL(/#\/schedules$/)
    await page.reload()
    await page.locator(".schedules-view").waitFor()
  })
})
