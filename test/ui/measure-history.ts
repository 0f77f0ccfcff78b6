/**
 * Measures the History view on a 100,000-event history (figures printed,
 * nothing asserted): `npx tsx test/ui/measure-history.ts` (ITERATIONS=N to
 * change the size; 20,000 iterations ≈ 100,000 events).
 *
 * 1. In Node: decode + fold speed, and the memory of every state
 *    (`Replay.scan`) against checkpoints every 1,000 events (what the view keeps).
 * 2. In headless Chromium, page served by a daemon in web mode (bench
 *    task config): (a) the daemon runs a real task of 50,000 iterations
 *    (100,002 events, ~1.5 min) and the History view opens it three times
 *    (paged History RPC: time until the list shows, median wait per page);
 *    (b) with the daemon stopped, opens the synthetic file through "Open history…" and
 *    reports the time until the view shows, the page's own decode and fold
 *    timings (`history-decode`, `history-fold` measures, so the fold's
 *    events/s in the browser), the time per scrub step, and
 *    requestAnimationFrame deltas while scrolling the event list; saves
 *    `test-output/ui/history-100k.png`.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Replay, TaskEvent } from "@tasklane/core/client"
import type { Page } from "playwright-core"
import * as HistoryModel from "../../apps/desktop/src/renderer/history/HistoryModel.ts"
import { removeDataDir, tempDataDir } from "../support/DaemonProcess.ts"
import { syntheticHistory } from "./HistorySupport.ts"
import * as RawChromium from "./RawChromium.ts"
import { connectTo, waitFor } from "../support/TaskPolling.ts"
import { buildDaemon, buildUi, goTo, launchChromium, outputDir, startWebDaemon } from "./WebUiSupport.ts"

// Page-side code runs in Chromium; this module is type-checked without the DOM lib.
interface ScrollerElement {
  scrollTop: number
}
declare const document: { querySelector<E = ScrollerElement>(selector: string): E | null }
declare const requestAnimationFrame: (callback: (now: number) => void) => number
declare const performance: { now(): number; getEntriesByName(name: string): Array<{ duration: number }>; clearMeasures(): void }

const iterations = Number(process.env.ITERATIONS ?? 20_000)
const root = join(import.meta.dirname, "..", "..")
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const heapMb = () => (gc(), process.memoryUsage().heapUsed / 1024 / 1024)

const stats = (deltas: ReadonlyArray<number>) => {
  const sorted = [...deltas].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return { frames: sorted.length, medianMs: +at(0.5).toFixed(1), p95Ms: +at(0.95).toFixed(1), maxMs: +sorted.at(-1)!.toFixed(1), over20ms: sorted.filter((d) => d > 20).length }
}

const scrollRun = (page: Page, ms: number, pxPerFrame: number) =>
  page.evaluate(({ ms, pxPerFrame }) =>
    new Promise<Array<number>>((resolve) => {
      const scroller = document.querySelector("[data-testid=event-scroll]")!
      const deltas: Array<number> = []
      let start = 0, last = 0
      const frame = (now: number) => {
        deltas.push(now - last)
        last = now
        if (now - start >= ms) return resolve(deltas.slice(1))
        scroller.scrollTop += pxPerFrame
        requestAnimationFrame(frame)
      }
      requestAnimationFrame((now) => {
        start = last = now
        requestAnimationFrame(frame)
      })
    }), { ms, pxPerFrame })

const main = async () => {
  const doc = syntheticHistory(iterations)
  const n = doc.events.length
  const fileDir = tempDataDir()
  const file = join(fileDir, `synthetic-${n}.json`)
  writeFileSync(file, JSON.stringify(doc))
  console.log(`synthetic history: ${iterations.toLocaleString()} iterations, ${n.toLocaleString()} events, ${(JSON.stringify(doc).length / 1e6).toFixed(1)} MB of JSON`)

  // 1. Node: fold speed, and memory of all states vs checkpoints.
  let t = performance.now()
  const events = doc.events.map(TaskEvent.fromEnvelope)
  const decodeMs = performance.now() - t
  t = performance.now()
  const final = Replay.replay(events)
  const replayMs = performance.now() - t
  if (final instanceof Replay.ReplayError) throw final
  const base = heapMb()
  t = performance.now()
  let history = HistoryModel.fold(doc.events, events) as HistoryModel.History | undefined
  const foldMs = performance.now() - t
  const checkpointMb = heapMb() - base
  history = undefined
  void history
  const base2 = heapMb()
  t = performance.now()
  let states = Replay.scan(events) as ReadonlyArray<Replay.TaskState> | undefined
  const scanMs = performance.now() - t
  const scanMb = heapMb() - base2
  states = undefined
  void states
  console.log(`node: decode ${decodeMs.toFixed(0)} ms (${Math.round(n / decodeMs * 1000).toLocaleString()} events/s); Replay.replay ${replayMs.toFixed(0)} ms (${Math.round(n / replayMs * 1000).toLocaleString()} events/s)`)
  console.log(`node: HistoryModel.fold (one in-place fold, a checkpoint every 1,000) ${foldMs.toFixed(0)} ms, +${checkpointMb.toFixed(1)} MB; Replay.scan (every state) ${scanMs.toFixed(0)} ms, +${scanMb.toFixed(1)} MB${(globalThis as { gc?: unknown }).gc ? "" : " (run node with --expose-gc for exact heap figures)"}`)

  // 2. Chromium.
  buildDaemon()
  buildUi()
  const dataDir = tempDataDir()
  const { daemon, signIn } = await startWebDaemon(dataDir, ["--config", join(root, "apps", "daemon", "bench", "bench.config.ts")])
  const browser = await launchChromium()
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.addInitScript("globalThis.__name = (f) => f")
    await page.goto(signIn.href)
    await page.locator(".status-bar[data-connection=connected]").waitFor()

    // 2a. Through the daemon: a real task of `iterations * 2.5` iterations (two events each) opened at #/tasks/<id>/history.
    const connection = await connectTo(daemon)
    const fill = Date.now()
    const task = await connection.call((client) => client.Trigger({ definitionId: "iterate", input: { left: Math.round(iterations * 2.5) } }))
    const taskId = task.context.taskId
    const done = await waitFor(connection, taskId, "done", { timeoutMs: 900_000 })
    await connection.close()
    console.log(`daemon: ran a task of ${done.context.iteration.toLocaleString()} iterations, ${done.context.version.toLocaleString()} events, in ${((Date.now() - fill) / 1000).toFixed(0)} s`)
    for (let run = 1; run <= 3; run++) {
      await goTo(page, "#/")
      await page.waitForTimeout(300)
      await page.evaluate(() => performance.clearMeasures())
      const start = Date.now()
      await goTo(page, `#/tasks/${taskId}/history`)
      await page.locator(".event-row.virtual-row").first().waitFor({ timeout: 120_000 })
      const shownMs = Date.now() - start
      const [fetch, fold, waits] = await page.evaluate(() => [
        performance.getEntriesByName("history-fetch").at(-1)?.duration ?? Number.NaN,
        performance.getEntriesByName("history-fold").at(-1)?.duration ?? Number.NaN,
        performance.getEntriesByName("history-page-wait").map((e) => e.duration),
      ] as const)
      const sortedWaits = [...waits].sort((a, b) => a - b)
      console.log(`chromium via daemon, run ${run}: route → list shown ${shownMs} ms; in page: fetch (${waits.length} pages, History RPC over the WebSocket + decode) ${fetch.toFixed(0)} ms, median wait per page ${sortedWaits[sortedWaits.length >> 1]!.toFixed(0)} ms, fold ${fold.toFixed(0)} ms`)
    }

    // 2a'. The same, in a Chromium that no Playwright instruments (see RawChromium.ts); timed inside the page.
    const raw = await RawChromium.open(signIn.href)
    try {
      // The sign-in address redirects once (the token becomes a cookie): ask again until the app's page answers.
      for (let tries = 0; ; tries++) {
        const connected = await raw.evaluate<boolean>(`document.querySelector(".status-bar[data-connection=connected]") !== null`).catch(() => false)
        if (connected) break
        if (tries > 200) throw new Error("the UI never connected in the raw Chromium")
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      for (let run = 1; run <= 3; run++) {
        const [shown, fetch, fold] = await raw.evaluate<[number, number, number]>(`new Promise((resolve) => {
          location.hash = "#/"
          setTimeout(() => {
            performance.clearMeasures()
            const start = performance.now()
            location.hash = "#/tasks/${taskId}/history"
            const check = () => document.querySelector(".event-row.virtual-row")
              ? resolve([performance.now() - start, ...["history-fetch", "history-fold"].map((name) => performance.getEntriesByName(name).at(-1).duration)])
              : requestAnimationFrame(check)
            requestAnimationFrame(check)
          }, 300)
        })`)
        console.log(`chromium via daemon, no Playwright attached, run ${run}: route → list shown ${shown.toFixed(0)} ms (timed in the page); fetch ${fetch.toFixed(0)} ms, fold ${fold.toFixed(0)} ms`)
      }
    } finally {
      await raw.close()
    }

    // 2b. An exported file, with the daemon stopped.
    await goTo(page, "#/")
    await daemon.stop("SIGTERM")
    const open = Date.now()
    await page.setInputFiles('input[aria-label="Open history file"]', file)
    await page.locator(".event-row.virtual-row").first().waitFor({ timeout: 120_000 })
    const openMs = Date.now() - open
    const [read, parse, decode, fold] = await page.evaluate(() => ["history-read", "history-parse", "history-decode", "history-fold"].map((name) => performance.getEntriesByName(name).at(-1)?.duration ?? Number.NaN))
    const inPage = await page.evaluate(() => {
      const at = (name: string) => (performance.getEntriesByName(name).at(-1) as { startTime?: number } | undefined)?.startTime ?? Number.NaN
      return at("history-first-render") - at("history-read")
    })
    console.log(`chromium: in page, file read started → first render committed ${inPage.toFixed(0)} ms`)
    console.log(`chromium: file input → list shown ${openMs} ms (read + JSON.parse + decode + fold + first render); in page: read ${read!.toFixed(0)} ms, JSON.parse ${parse!.toFixed(0)} ms, decode ${decode!.toFixed(0)} ms, fold ${fold!.toFixed(0)} ms = ${Math.round(n / fold! * 1000).toLocaleString()} events/s (${Math.round(n / (decode! + fold!) * 1000).toLocaleString()} events/s decode+fold)`)
    console.log(`DOM event rows rendered: ${await page.locator(".event-row.virtual-row").count()} (virtualized); timeline bars drawn: ${await page.locator(".timeline-bar").count()}`)

    // Scrub steps: the worst case replays 999 events from a checkpoint.
    await page.getByRole("slider", { name: "Position" }).focus()
    await page.keyboard.press("Home")
    for (const [label, key, count] of [["→ (one event)", "ArrowRight", 300], ["PgDn (100 events)", "PageDown", 200]] as const) {
      const start = Date.now()
      for (let i = 0; i < count; i++) await page.keyboard.press(key)
      await page.getByTestId("position").getAttribute("data-position")
      console.log(`scrub ${label}: ${((Date.now() - start) / count).toFixed(1)} ms per key press incl. re-render (playwright round trip included)`)
    }
    await page.keyboard.press("End")
    await page.screenshot({ path: join(outputDir, "history-100k.png") })

    for (const [label, px] of [["idle (baseline, no scrolling)", 0], ["steady scroll (~15,000 px/s)", 256], ["fast scroll (~96,000 px/s)", 1600]] as const) {
      await page.evaluate(() => (document.querySelector("[data-testid=event-scroll]")!.scrollTop = 0))
      await page.waitForTimeout(300)
      console.log(`event list ${label}: ${JSON.stringify(stats(await scrollRun(page, 3000, px)))}`)
    }
  } finally {
    await browser.close()
    await daemon.stop("SIGKILL")
    removeDataDir(dataDir)
    removeDataDir(fileDir)
  }
}

await main()
