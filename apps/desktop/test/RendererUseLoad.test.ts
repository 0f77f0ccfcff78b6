/**
 * The renderer's `useLoad` hook in real React in headless Chromium (as the
 * UI suites run the renderer): a change of deps cancels the load under way
 * and its late answer never shows; a reload keeps what was shown until the
 * answer; a failure is shown with the last value kept; unmounting cancels.
 * The page is fixtures/UseLoadHarness.ts, bundled here with Vite.
 */
import { join } from "node:path"
import { build, type Rollup } from "vite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Chromium from "../../../test/support/Browser.ts"

// playwright-core belongs to the test package: its types come through the launcher.
type Browser = Awaited<ReturnType<typeof Chromium.launch>>
type Page = Awaited<ReturnType<Browser["newPage"]>>

interface Harness {
  readonly mount: () => void
  readonly setKey: (key: string) => void
  readonly reload: () => void
  readonly answer: (index: number, value: string) => void
  readonly fail: (index: number, message: string) => void
  readonly loads: () => ReadonlyArray<{ readonly key: string; readonly aborted: boolean }>
  readonly unmount: () => void
}

/** The harness page's script, as one IIFE. */
const bundle = async (): Promise<string> => {
  const output = await build({
    configFile: false,
    logLevel: "silent",
    root: import.meta.dirname,
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
    build: {
      write: false,
      minify: false,
      lib: { entry: join(import.meta.dirname, "fixtures", "UseLoadHarness.ts"), formats: ["iife"], name: "UseLoadHarness" },
    },
  })
  const outputs = (Array.isArray(output) ? output : [output]) as ReadonlyArray<Rollup.RollupOutput>
  const chunk = outputs.flatMap((o) => o.output).find((file): file is Rollup.OutputChunk => file.type === "chunk")
  if (chunk === undefined) throw new Error("the harness did not bundle")
  return chunk.code
}

describe("useLoad (real React, headless Chromium)", () => {
  let browser: Browser
  let page: Page
  const errors: Array<string> = []

  const call = <K extends keyof Harness>(name: K, ...args: Parameters<Harness[K]>) =>
    page.evaluate(([name, args]) => {
      const harness = (globalThis as unknown as { harness: Record<string, (...a: Array<unknown>) => unknown> }).harness
      return harness[name]!(...args)
    }, [name, args] as const) as Promise<ReturnType<Harness[K]>>
  const loads = () => call("loads")
  const shown = async () => {
    const output = page.locator("output")
    return {
      key: await output.getAttribute("data-key"),
      value: await output.getAttribute("data-value"),
      error: await output.getAttribute("data-error"),
      loading: await output.getAttribute("data-loading"),
    }
  }
  /** Lets the page run its pending promise callbacks and renders. */
  const idle = () => page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50)))

  beforeAll(async () => {
    const script = await bundle()
    browser = await Chromium.launch()
    page = await browser.newPage()
    page.on("pageerror", (error) => errors.push(error.message))
    page.on("console", (message) => message.type() === "error" && errors.push(message.text()))
    await page.setContent(`<!doctype html><div id="root"></div>`)
    await page.addScriptTag({ content: script })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
  })

  it("cancels a load whose deps changed, drops its late answer, keeps the value through reloads and failures, and cancels on unmount", async () => {
    await call("mount")
    await expect.poll(loads).toEqual([{ key: "a", aborted: false }])
    expect(await shown()).toEqual({ key: "a", value: "", error: "", loading: "true" })

    // New deps: the load for "a" is cancelled; "b" answers first, "a" answers late and is dropped.
    await call("setKey", "b")
    await expect.poll(loads).toEqual([{ key: "a", aborted: true }, { key: "b", aborted: false }])
    await call("answer", 1, "B")
    await expect.poll(shown).toEqual({ key: "b", value: "B", error: "", loading: "false" })
    await call("answer", 0, "A")
    await idle()
    expect(await shown()).toEqual({ key: "b", value: "B", error: "", loading: "false" })

    // A reload keeps what is shown until it settles; a failure says why and keeps the value.
    await call("reload")
    await expect.poll(shown).toEqual({ key: "b", value: "B", error: "", loading: "true" })
    await call("fail", 2, "daemon away")
    await expect.poll(shown).toEqual({ key: "b", value: "B", error: "daemon away", loading: "false" })

    // Unmounting cancels the load under way; its answer goes nowhere.
    await call("reload")
    await expect.poll(async () => (await loads()).length).toBe(4)
    await call("unmount")
    expect((await loads())[3]).toEqual({ key: "b", aborted: true })
    await call("answer", 3, "too late")
    await idle()
    expect(await page.locator("output").count()).toBe(0)
    expect(errors).toEqual([])
  })
})
