/**
 * Measures the web UI's task list against a daemon holding 100,000 stored
 * tasks (figures printed, nothing asserted): `npx tsx test/ui/measure.ts`
 * (TASKS=N to change the count; DATA_DIR=<dir> to reuse a filled data dir).
 *
 * 1. Fills a fresh data dir by triggering the benchmark's `noop` definition
 *    (apps/daemon/bench/bench.config.ts) many at a time and waits until all ran.
 * 2. In headless Chromium, opens the list and reads the time from navigation
 *    start to the `tasks-first-rows` performance mark the list sets when its
 *    first page renders (first visit, then a reload).
 * 3. Scrolls the list programmatically for ~3 s at a fixed speed and records
 *    requestAnimationFrame deltas (median, p95, max, frames over 16.7 ms), how
 *    many frames showed unloaded placeholder rows, and how many rows got loaded.
 * 4. Reads the renderer's JS heap (CDP `Performance.getMetrics`) before and after.
 */
import { join } from "node:path"
import type { CDPSession, Page } from "playwright-core"
import { removeDataDir, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, poll } from "../support/TaskPolling.ts"
import { buildDaemon, buildUi, launchChromium, startWebDaemon } from "./WebUiSupport.ts"

// Page-side code below runs in Chromium; this module is type-checked without the DOM lib, so declare what it uses.
interface ScrollerElement {
  scrollTop: number
  textContent: string | null
  querySelector(selector: string): unknown
}
declare const document: { querySelector<E = ScrollerElement>(selector: string): E | null }
declare type HTMLElement = ScrollerElement
declare const requestAnimationFrame: (callback: (now: number) => void) => number

const total = Number(process.env.TASKS ?? 100_000)
const inFlight = 256
const benchConfig = join(import.meta.dirname, "..", "..", "apps", "daemon", "bench", "bench.config.ts")

/** The renderer's CDP performance metrics (heap size, cumulative script/layout/style/task seconds). */
const sessions = new WeakMap<Page, Promise<CDPSession>>()
const metrics = async (page: Page): Promise<Record<string, number>> => {
  let session = sessions.get(page)
  if (session === undefined) {
    session = page.context().newCDPSession(page).then(async (cdp) => (await cdp.send("Performance.enable"), cdp))
    sessions.set(page, session)
  }
  const { metrics } = await (await session).send("Performance.getMetrics")
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]))
}
const heapMb = async (page: Page): Promise<number> => ((await metrics(page)).JSHeapUsedSize ?? Number.NaN) / 1024 / 1024

/** Main-thread time per frame spent in script, layout, style and all tasks between two metric readings. */
const perFrame = (before: Record<string, number>, after: Record<string, number>, frames: number) =>
  Object.fromEntries(
    ["ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "TaskDuration"].map((key) => [
      key.replace("Duration", "MsPerFrame"),
      +((((after[key] ?? 0) - (before[key] ?? 0)) * 1000) / Math.max(1, frames)).toFixed(2),
    ]),
  )

const firstRowsMs = (page: Page) =>
  page.evaluate(async () => {
    for (let i = 0; i < 600 && performance.getEntriesByName("tasks-first-rows").length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return performance.getEntriesByName("tasks-first-rows")[0]?.startTime ?? Number.NaN
  })

/** Scrolls the list for `ms` at `pxPerFrame` and reports frame deltas. */
const scrollRun = (page: Page, ms: number, pxPerFrame: number) =>
  page.evaluate(
    ({ ms, pxPerFrame }) =>
      new Promise<{ deltas: Array<number>; placeholderFrames: number; scrolledTo: number }>((resolve) => {
        const scroller = document.querySelector<HTMLElement>("[data-testid=task-scroll]")!
        const deltas: Array<number> = []
        let placeholderFrames = 0
        const start = performance.now()
        let last = start
        const frame = (now: number) => {
          deltas.push(now - last)
          last = now
          if (scroller.querySelector(".placeholder") !== null) placeholderFrames++
          if (now - start >= ms) return resolve({ deltas: deltas.slice(1), placeholderFrames, scrolledTo: scroller.scrollTop })
          scroller.scrollTop += pxPerFrame
          requestAnimationFrame(frame)
        }
        requestAnimationFrame((now) => {
          last = now
          requestAnimationFrame(frame)
        })
      }),
    { ms, pxPerFrame },
  )

const stats = (deltas: ReadonlyArray<number>) => {
  const sorted = [...deltas].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return {
    frames: sorted.length,
    medianMs: +at(0.5).toFixed(1),
    p95Ms: +at(0.95).toFixed(1),
    maxMs: +sorted[sorted.length - 1]!.toFixed(1),
    over16_7ms: sorted.filter((d) => d > 16.7).length,
    // rAF timestamps jitter around 16.7 ms; a frame actually missed shows as a ~33 ms delta.
    over20ms: sorted.filter((d) => d > 20).length,
  }
}

const main = async () => {
  buildDaemon()
  buildUi()
  // DATA_DIR=<dir> reuses a data dir filled by an earlier run (it is then kept).
  const dataDir = process.env.DATA_DIR ?? tempDataDir()
  const { daemon, signIn } = await startWebDaemon(dataDir, ["--config", benchConfig, "--no-examples", "--concurrency", "64"])
  const browser = await launchChromium()
  try {
    const c = await connectTo(daemon)
    const stored = async () => Object.values((await c.call((client) => client.Info())).counts).reduce((a, b) => a + b, 0)
    if ((await stored()) < total) {
      const fillStart = Date.now()
      let next = await stored()
      const worker = async () => {
        while (next < total) {
          next++
          await c.call((client) => client.Trigger({ definitionId: "noop", input: null }))
        }
      }
      await Promise.all(Array.from({ length: inFlight }, worker))
      const triggeredMs = Date.now() - fillStart
      // Wait until nothing runs or waits any more (counts by status settle).
      const info = await poll(async () => {
        const info = await c.call((client) => client.Info())
        return info.running + info.queued === 0 ? info : undefined
      }, { timeoutMs: 600_000, intervalMs: 500 })
      console.log(`filled ${total.toLocaleString()} noop tasks: triggered in ${(triggeredMs / 1000).toFixed(1)} s, settled after ${((Date.now() - fillStart) / 1000).toFixed(1)} s`)
      console.log(`counts by status: ${JSON.stringify(info.counts)}`)
    } else {
      console.log(`reusing ${dataDir}: ${JSON.stringify((await c.call((client) => client.Info())).counts)}`)
    }
    await c.close()

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    // tsx (esbuild keepNames) wraps named functions in `__name(...)`, which page-side code needs too.
    await page.addInitScript("globalThis.__name = (f) => f")
    await page.goto(signIn.href)
    const firstVisit = await firstRowsMs(page)
    await page.reload()
    const reload = await firstRowsMs(page)
    await page.locator("a.task-row").first().waitFor()
    const count = await page.locator(".toolbar .count").textContent()
    const heapBefore = await heapMb(page)
    console.log(`time to first rows (navigation start → tasks-first-rows): first visit ${firstVisit.toFixed(0)} ms (includes the token redirect), reload ${reload.toFixed(0)} ms; list says "${count}"`)
    console.log(`DOM rows rendered: ${await page.locator("a.task-row").count()} (virtualized)`)

    for (const [label, pxPerFrame] of [["idle (no scrolling, baseline)", 0], ["steady scroll, 8 rows/frame (~15,000 px/s)", 256], ["fast scroll, 50 rows/frame (~96,000 px/s)", 1600]] as const) {
      await page.evaluate(() => (document.querySelector<HTMLElement>("[data-testid=task-scroll]")!.scrollTop = 0))
      await page.waitForTimeout(300)
      const before = await metrics(page)
      const run = await scrollRun(page, 3000, pxPerFrame)
      const after = await metrics(page)
      const loaded = await page.evaluate(() => document.querySelector(".toolbar .count")?.textContent)
      console.log(`${label}: ${JSON.stringify(stats(run.deltas))}, main thread ${JSON.stringify(perFrame(before, after, run.deltas.length))}, frames showing placeholder rows: ${run.placeholderFrames}, scrolled to row ${Math.round(run.scrolledTo / 32).toLocaleString()}; ${loaded}`)
    }
    const heapAfter = await heapMb(page)
    console.log(`renderer JS heap (CDP JSHeapUsedSize): ${heapBefore.toFixed(1)} MB after first page, ${heapAfter.toFixed(1)} MB after scrolling`)
  } finally {
    await browser.close()
    await daemon.stop("SIGKILL")
    if (process.env.DATA_DIR === undefined) removeDataDir(dataDir)
  }
}

await main()
