/**
 * End-to-end tests of the History view: the real daemon in web mode (the
 * built-in `demo` task, 50 steps with no delay), headless Chromium, and the
 * real `tasklane` CLI as the reference. Scrubbing with the keyboard shows the
 * same status and context as `tasklane replay --at N`; an exported file opens
 * with the daemon stopped; a fork from an iteration starts with that
 * iteration's input and links both ways. Screenshots go to
 * `test-output/ui/history-*.png`.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ClassicLevel } from "classic-level"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { ok } from "../support/CliProcess.ts"
import { type DaemonProcess, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, waitFor } from "../support/TaskPolling.ts"
import { syntheticHistory } from "./HistorySupport.ts"
import { goTo, launchChromium, openSignedIn, outputDir, startWebDaemon, tearDown } from "./WebUiSupport.ts"

describe("History view", () => {
  let dataDir: string
  let daemon: DaemonProcess
  let c: Connection
  let browser: Browser
  let page: Page
  let signIn: URL
  let taskId: string
  let total: number

  const shot = (name: string) => page.screenshot({ path: join(outputDir, `history-${name}.png`) })
  const go = (hash: string) => goTo(page, hash)
  const position = () => page.getByTestId("position").getAttribute("data-position").then(Number)
  /** What the page shows at the current position: status and context. */
  const shown = async () => ({
    status: await page.getByTestId("replayed-status").getAttribute("data-status"),
    context: JSON.parse((await page.locator('[aria-label="Context at position"]').textContent())!),
  })
  const replayCli = async (args: ReadonlyArray<string>) => JSON.parse(await ok(dataDir, ["replay", ...args, "--json"]))

  beforeAll(async () => {
    mkdirSync(outputDir, { recursive: true })
    dataDir = tempDataDir()
    const started = await startWebDaemon(dataDir)
    daemon = started.daemon
    signIn = started.signIn
    c = await connectTo(daemon)
    const task = await c.call((client) => client.Trigger({ definitionId: "demo", input: { steps: 50, delaySeconds: 0 }, name: "fifty steps" }))
    taskId = task.context.taskId
    total = (await waitFor(c, taskId, "done", { timeoutMs: 30_000, settled: true })).context.version
    browser = await launchChromium()
    page = await openSignedIn(browser, started.signIn, { width: 1400, height: 900 })
  }, 60_000)

  afterAll(() => tearDown({ browser, connection: c, daemon, dataDir }))

  it("opens from the task, checks replay against the projection, and scrubs with the keyboard like `tasklane replay --at`", async () => {
    await go(`#/tasks/${taskId}`)
    await page.getByRole("link", { name: "History" }).click()
    await page.waitForURL(new RegExp(`#/tasks/${taskId}/history$`))
    await expect.poll(() => page.getByTestId("consistency").getAttribute("data-consistent")).toBe("true")
    expect(await position()).toBe(total)
    expect(await shown()).toEqual(await replayCli([taskId]))

    await page.getByRole("slider", { name: "Position" }).focus()
    await page.keyboard.press("Home")
    expect(await position()).toBe(0)
    await page.keyboard.press("PageDown")
    for (let i = 0; i < 7; i++) await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowLeft")
    expect(await position()).toBe(106)
    const at106 = await replayCli([taskId, "--at", "106"])
    expect(await shown()).toEqual(at106)
    expect(at106.context.iteration).toBeGreaterThan(20)
    // The machine diagram highlights the same state, the list highlights event 106, logs stop there.
    expect(await page.locator(".machine-state.current").getAttribute("data-state")).toBe(at106.status)
    expect(await page.locator(".event-row.current").getAttribute("data-index")).toBe("105")
    const logLines = await page.getByTestId("history-logs").locator(".log-line").count()
    expect(logLines).toBe(at106.context.logCount)
    await shot("scrubbed")

    // Clicking a timeline bar scrubs to that iteration's start.
    await page.locator('.timeline-bar[data-iteration="10"]').click()
    expect((await shown()).context.iteration).toBe(10)
    expect((await shown()).status).toBe("running")
    expect(await shown()).toEqual(await replayCli([taskId, "--at", String(await position())]))
    await page.keyboard.press("End")
    expect(await position()).toBe(total)

    // Filtering by type and searching payloads narrow the list.
    await page.getByLabel("Search event payloads").fill("Step 17 of 50")
    await expect.poll(() => page.getByTestId("event-count").textContent()).toBe(`1 of ${total} events`)
    await page.locator(".event-row.virtual-row").first().click()
    expect((await shown()).context.logCount).toBe(17)
    await page.getByLabel("Search event payloads").fill("")
  })

  it("forks from an iteration with that iteration's input, and links original and fork both ways", async () => {
    await go(`#/tasks/${taskId}/history`)
    await page.getByTestId("history").waitFor()
    await page.locator('.timeline-bar[data-iteration="30"]').click()
    const at = await shown()
    expect(at.context.input).toEqual({ steps: 50, delaySeconds: 0, done: 29 })
    await page.getByRole("button", { name: /^Fork from here/ }).click()
    await page.waitForURL(new RegExp(`#/definitions/demo/fork/${taskId}/30$`))
    await page.getByTestId("fork-note").waitFor()
    expect(await page.locator('[id="input.done"]').inputValue()).toBe("29")
    // Editable: fork with fewer steps left.
    await page.locator('[id="input.steps"]').fill("32")
    await page.getByLabel("Task name").fill("forked at 30")
    await page.getByText("input looks valid").waitFor()
    await shot("fork-form")
    await page.getByRole("button", { name: "Trigger fork" }).click()
    await page.waitForURL(/#\/tasks\/[0-9a-f-]+$/)
    const forkId = page.url().split("/").pop()!
    expect(forkId).not.toBe(taskId)
    const fork = await waitFor(c, forkId, "done", { timeoutMs: 20_000 })
    expect(fork.context.forkedFrom).toEqual({ taskId, iteration: 30 })
    expect(fork.context.output).toEqual({ steps: 32 })
    await expect.poll(() => page.getByTestId("forked-from").textContent()).toBe(`forked from ${taskId} at iteration 30`)
    await shot("fork-detail")
    await page.getByTestId("forked-from").getByRole("link").click()
    await page.waitForURL(new RegExp(`#/tasks/${taskId}$`))
    await page.getByTestId("forks").getByRole("link", { name: "forked at 30" }).waitFor()
    await page.getByRole("link", { name: "History" }).click()
    await page.getByTestId("forks").getByRole("link", { name: "forked at 30" }).click()
    await page.waitForURL(new RegExp(`#/tasks/${forkId}$`))
  })

  it("a pasted fork link (no draft in this browser) reads the iteration's input from the history, and names an iteration that never ran", async () => {
    const fresh = await openSignedIn(browser, signIn, { width: 1400, height: 900 })
    try {
      await goTo(fresh, `#/definitions/demo/fork/${taskId}/30`)
      await fresh.getByTestId("fork-note").waitFor()
      await expect.poll(() => fresh.locator('[id="input.done"]').inputValue()).toBe("29")
      await goTo(fresh, `#/definitions/demo/fork/${taskId}/99`)
      await expect.poll(() => fresh.getByRole("alert").textContent()).toContain(`task ${taskId} has no iteration 99`)
      expect(await fresh.getByRole("button", { name: "Trigger fork" }).count()).toBe(0)
    } finally {
      await fresh.context().close()
    }
  })

  it("opens an exported history file with the daemon stopped, read-only, and explains a file that is not a history", async () => {
    const file = join(dataDir, "fifty.json")
    await ok(dataDir, ["export", taskId, "-o", file])
    const expected = await replayCli(["--file", file])
    const at40 = await replayCli(["--file", file, "--at", "40"])
    await c.close()
    await daemon.stop("SIGTERM")
    await page.locator(".status-bar[data-connection=reconnecting]").waitFor()

    await page.setInputFiles('input[aria-label="Open history file"]', file)
    await page.waitForURL(/#\/history\/file$/)
    await page.getByTestId("history").waitFor()
    expect(await position()).toBe(total)
    expect(await shown()).toEqual(expected)
    expect(await page.getByRole("button", { name: /^Fork from here/ }).count()).toBe(0)
    expect(await page.getByTestId("consistency").count()).toBe(0)
    await page.getByRole("slider", { name: "Position" }).focus()
    await page.keyboard.press("Home")
    for (let i = 0; i < 40; i++) await page.keyboard.press("ArrowRight")
    expect(await shown()).toEqual(at40)
    await shot("file")

    // Dropping the file on the window opens it the same way (a drop as the browser delivers one, with a File in its DataTransfer).
    await goTo(page, "#/")
    // (Page-side code as a string: this file is type-checked without the DOM library.)
    await page.evaluate(`(() => {
      const transfer = new DataTransfer()
      transfer.items.add(new File([${JSON.stringify(readFileSync(file, "utf8"))}], "dropped.json", { type: "application/json" }))
      for (const type of ["dragover", "drop"]) document.body.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }))
    })()`)
    await page.waitForURL(/#\/history\/file$/)
    await expect.poll(() => page.locator("h2").first().textContent()).toContain("dropped.json")
    expect(await shown()).toEqual(expected)

    const notHistory = join(dataDir, "tasks.json")
    writeFileSync(notHistory, JSON.stringify({ tasks: [] }))
    await page.setInputFiles('input[aria-label="Open history file"]', notHistory)
    await expect.poll(() => page.getByRole("alert").textContent()).toContain('tasks.json is not a Tasklane history file (it has no "events" array)')
    await shot("not-a-history")
  })

  it("a long history gets an overview strip of every attempt; clicking it jumps there and moves the bars' window", async () => {
    const file = join(dataDir, "synthetic-2000.json")
    writeFileSync(file, JSON.stringify(syntheticHistory(2000)))
    await page.setInputFiles('input[aria-label="Open history file"]', file)
    const overview = page.getByTestId("timeline-overview")
    await overview.waitFor()
    const box = (await overview.boundingBox())!
    // 2,000 iterations plus 2 retried and 2 interrupted attempts: a quarter of the way in is iteration ~500.
    await overview.click({ position: { x: box.width / 4, y: box.height / 2 } })
    const iteration = (await shown()).context.iteration
    expect(iteration).toBeGreaterThan(480)
    expect(iteration).toBeLessThan(520)
    expect(await page.locator(`.timeline-bar.current[data-iteration="${iteration}"]`).count()).toBe(1)
    await shot("overview")
  })

  it("a projection that drifted from its events (edited in LevelDB while the daemon was down) is shown with where they part", async () => {
    // The daemon was stopped by the export test. Give task's stored summary a log count its events do not make.
    const db = new ClassicLevel<string, string>(join(dataDir, "store"))
    const key = `p!task!${taskId}`
    const stored = JSON.parse(await db.get(key) as string)
    const logCount = stored.context.logCount
    stored.context.logCount = logCount + 7
    await db.put(key, JSON.stringify(stored))
    await db.close()
    const restarted = await startWebDaemon(dataDir)
    daemon = restarted.daemon
    c = await connectTo(daemon)
    const fresh = await openSignedIn(browser, restarted.signIn, { width: 1400, height: 900 })
    try {
      await goTo(fresh, `#/tasks/${taskId}/history`)
      const banner = fresh.getByTestId("consistency")
      await expect.poll(() => banner.getAttribute("data-consistent")).toBe("false")
      // The last event that set context.logCount is the task's last log line.
      const lastLog = Number(await banner.getAttribute("data-diverges-at"))
      const atLastLog = await replayCli([taskId, "--at", String(lastLog)])
      const before = await replayCli([taskId, "--at", String(lastLog - 1)])
      expect(atLastLog.context.logCount).toBe(logCount)
      expect(before.context.logCount).toBe(logCount - 1)
      expect(await banner.textContent()).toContain(`They diverge at event ${lastLog}, the last one that set context.logCount`)
      await banner.getByRole("button", { name: `Go to event ${lastLog}` }).click()
      expect(Number(await fresh.getByTestId("position").getAttribute("data-position"))).toBe(lastLog)
      await fresh.screenshot({ path: join(outputDir, "history-diverged.png") })
    } finally {
      await fresh.context().close()
    }
  })
})
