/**
 * The status bar's cluster entry (renderer/ClusterState.tsx) in headless
 * Chromium: the real component, bundled by Vite from the renderer's sources
 * with React and the renderer's styles, rendered from a `ClusterInfo` as a
 * cluster node's Info carries it, so every figure is fixed: the labels,
 * the tooltip, the list's rows and where it opens. Real nodes on PostgreSQL
 * behind the whole app are test/daemon/ClusterNodesStatus.test.ts. Saves a
 * screenshot of the open list to `test-output/ui/`.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { Browser, Page } from "playwright-core"
import { build, type Rolldown } from "vite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { launchChromium, outputDir } from "./WebUiSupport.ts"

const renderer = join(import.meta.dirname, "..", "..", "apps", "desktop", "src", "renderer")
// A module that seems to sit beside the renderer's sources, so its imports resolve as theirs do.
const entry = join(renderer, "__cluster-status-test.tsx")

const cluster = {
  nodeId: "web-2",
  nodes: [
    { id: "web-1", host: "alpha", pid: 311, epoch: 3, startedAt: 0, heartbeatAt: 0, heartbeatAgeMs: 1_234, running: 5, live: true },
    { id: "web-2", host: "beta", pid: 42, epoch: 1, startedAt: 0, heartbeatAt: 0, heartbeatAgeMs: 400, running: 2, live: true },
    { id: "batch-9", host: "gamma", pid: 7, epoch: 12, startedAt: 0, heartbeatAt: 0, heartbeatAgeMs: 185_000, running: 1, live: false },
  ],
}

/** The entry: the component in a status bar, from the cluster the page puts on `window.cluster`. */
const entrySource = `
import { createRoot } from "react-dom/client"
import { ClusterState } from "./ClusterState.tsx"
import "./styles.css"
const cluster = (globalThis as any).cluster
createRoot(document.getElementById("root")!).render(
  <div className="app"><div className="content" /><footer className="status-bar"><ClusterState cluster={cluster} /></footer></div>
)
`

/** The entry bundled into one script (and a stylesheet, unless the script injects the styles itself). */
const bundle = async (): Promise<{ readonly script: string; readonly css: string }> => {
  const result = await build({
    configFile: false,
    logLevel: "silent",
    // Production React, as the app ships (under vitest the mode would be "test": React's dev JSX runtime).
    mode: "production",
    oxc: { jsx: { runtime: "automatic", development: false } },
    root: renderer,
    plugins: [{
      name: "cluster-status-entry",
      resolveId: (id) => (id === entry ? entry : undefined),
      load: (id) => (id === entry ? entrySource : undefined),
    }],
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
    build: {
      write: false,
      minify: false,
      rolldownOptions: { input: entry, output: { format: "iife" } },
    },
  })
  const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) => (r as Rolldown.RolldownOutput).output)
  const script = outputs.find((o) => o.type === "chunk")
  const css = outputs.find((o) => o.type === "asset" && o.fileName.endsWith(".css"))
  if (script?.type !== "chunk") throw new Error(`the bundle lacks a script: ${outputs.map((o) => o.fileName)}`)
  return { script: script.code, css: css?.type === "asset" ? String(css.source) : "" }
}

describe("status bar: the cluster's nodes", () => {
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    mkdirSync(outputDir, { recursive: true })
    const { script, css } = await bundle()
    browser = await launchChromium()
    page = await (await browser.newContext({ viewport: { width: 900, height: 300 } })).newPage()
    page.on("pageerror", (error) => console.error("page error:", error.message))
    await page.setContent(`<!doctype html><html><head><style>${css}</style></head><body><div id="root"></div></body></html>`)
    await page.evaluate((c) => ((globalThis as unknown as { cluster: unknown }).cluster = c), cluster)
    await page.addScriptTag({ content: script })
    await page.getByTestId("cluster").waitFor({ timeout: 5_000 })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
  })

  it("shows the node count and how many are live, with every node in the tooltip", async () => {
    const button = page.getByTestId("cluster").getByRole("button")
    expect(await button.textContent()).toBe("cluster: 3 nodes (2 live)")
    expect(await button.getAttribute("title")).toBe([
      "web-1 on alpha: live, heartbeat 1.2 s ago, 5 running",
      "web-2 (this daemon) on beta: live, heartbeat 400 ms ago, 2 running",
      "batch-9 on gamma: lost, heartbeat 3 m 05 s ago, 1 running",
    ].join("\n"))
    expect(await page.getByTestId("cluster-nodes").count()).toBe(0)
  })

  it("a click opens the node list above the bar (id, state, heartbeat, running); Escape closes it", async () => {
    const button = page.getByTestId("cluster").getByRole("button")
    await button.click()
    const list = page.getByTestId("cluster-nodes")
    await list.waitFor()
    const rows = await Promise.all((await list.locator("tbody tr").all()).map((tr) => tr.locator("td").allTextContents()))
    expect(rows).toEqual([
      ["web-1", "alpha", "live", "1.2 s ago", "5"],
      ["web-2 (this daemon)", "beta", "live", "400 ms ago", "2"],
      ["batch-9", "gamma", "lost", "3 m 05 s ago", "1"],
    ])
    // Above the bar, inside the window: readable, not clipped.
    const bar = await page.locator(".status-bar").boundingBox()
    const box = await list.boundingBox()
    expect(box!.y + box!.height).toBeLessThanOrEqual(bar!.y)
    expect(box!.y).toBeGreaterThanOrEqual(0)
    expect(await list.locator("[data-node=batch-9] td.node-lost").count()).toBe(1)
    await page.screenshot({ path: join(outputDir, "status-bar-cluster.png") })
    await page.keyboard.press("Escape")
    await list.waitFor({ state: "detached" })
    expect(await button.getAttribute("aria-expanded")).toBe("false")
  })
})
