/**
 * A Webiny task whose input is validated with zod (`createInputValidation({
 * validator })`, test/fixtures/webiny/tasklane.config.ts) as a user meets it
 * in the web UI: the real daemon in web mode, headless Chromium. The form is
 * generated from zod's own JSON Schema (labels, help text, a select for the
 * enum, the default filled in, a JSON editor for the record), the daemon's
 * live validation puts zod's messages next to their fields, and a valid form
 * triggers a task that runs to done. Screenshots go to `test-output/ui/`.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { type DaemonProcess, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, waitFor } from "../support/TaskPolling.ts"
import { goTo, launchChromium, openSignedIn, outputDir, startWebDaemon, tearDown } from "./WebUiSupport.ts"

const config = join(import.meta.dirname, "..", "fixtures", "webiny", "tasklane.config.ts")

describe("web UI: a zod-validated Webiny task", () => {
  let dataDir: string
  let daemon: DaemonProcess
  let c: Connection
  let browser: Browser
  let page: Page

  const field = (name: string) => page.locator(`[id="input.${name}"]`)
  const taskCount = async () => (await c.call((client) => client.ListTasks({ limit: 1000 }))).tasks.length

  beforeAll(async () => {
    mkdirSync(outputDir, { recursive: true })
    dataDir = tempDataDir()
    let signIn: URL
    ;({ daemon, signIn } = await startWebDaemon(dataDir, ["--config", config, "--no-examples"]))
    c = await connectTo(daemon)
    browser = await launchChromium()
    page = await openSignedIn(browser, signIn, { width: 1200, height: 900 })
  }, 60_000)

  afterAll(() => tearDown({ browser, connection: c, daemon, dataDir }))

  it("renders the form from zod's JSON Schema: labels, help text, enum select, default, record as JSON", async () => {
    await goTo(page, "#/definitions/sendWebhook")
    await page.getByText("fill in the form").waitFor()
    expect(await page.locator('label[for="input.webhookId"]').textContent()).toContain("Webhook id")
    await page.getByText("Which webhook to call").waitFor()
    expect(await field("eventName").evaluate((select) => select.tagName)).toBe("SELECT")
    expect(await field("eventName").locator("option").allTextContents()).toEqual(["Choose…", "entry.created", "entry.deleted"])
    expect(await field("attempts").inputValue()).toBe("3")
    expect(await field("data").evaluate((editor) => editor.tagName)).toBe("TEXTAREA")
    expect(await page.locator('[data-testid^="error-"]').count()).toBe(0)
    await page.screenshot({ path: join(outputDir, "zod-form.png") })
  })

  it("shows zod's messages next to their fields while typing, and triggers nothing while invalid", async () => {
    const before = await taskCount()
    await goTo(page, "#/definitions/sendWebhook")
    await field("webhookId").fill("wh-ui")
    await field("attempts").fill("9")
    await page.getByTestId("error-input.attempts").waitFor()
    expect(await page.getByTestId("error-input.attempts").textContent()).toMatch(/<=\s*5/)
    await page.getByRole("button", { name: "Trigger" }).click()
    await page.getByText("nothing was triggered").waitFor()
    expect(await page.getByTestId("error-input.eventName").textContent()).toMatch(/entry\.created/)
    expect(await taskCount()).toBe(before)
    await page.screenshot({ path: join(outputDir, "zod-form-invalid.png") })
  })

  it("triggers valid input, and the task runs to done with it", async () => {
    await goTo(page, "#/definitions/sendWebhook")
    await field("webhookId").fill("wh-ui")
    await field("eventName").selectOption({ label: "entry.deleted" })
    await field("attempts").fill("2")
    await field("data").fill('{"id": 7}')
    await page.getByText("input looks valid").waitFor()
    await page.getByRole("button", { name: "Trigger" }).click()
    await page.waitForURL(/#\/tasks\/[0-9a-f-]+$/)
    const taskId = page.url().split("/").pop()!
    const done = await waitFor(c, taskId, "done")
    expect(done.context.output).toEqual({ delivered: { webhookId: "wh-ui", eventName: "entry.deleted", attempts: 2, data: { id: 7 } } })
    await expect.poll(() => page.locator(".detail-head [data-status]").getAttribute("data-status"), { timeout: 10_000 }).toBe("done")
  })
})
