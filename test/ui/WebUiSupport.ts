/**
 * Shared by the web UI tests and the UI measurement script: building the
 * renderer the daemon's web mode serves, starting a daemon in web mode, and
 * launching headless Chromium (which one: test/support/Browser.ts).
 */
import { execFileSync } from "node:child_process"
import { join } from "node:path"
import type { Browser, Page } from "playwright-core"
import * as Chromium from "../support/Browser.ts"
import { type DaemonProcess, removeDataDir, startDaemon } from "../support/DaemonProcess.ts"
import { poll } from "../support/TaskPolling.ts"

const root = join(import.meta.dirname, "..", "..")

/** Where screenshots and measurements go. */
export const outputDir = join(root, "test-output", "ui")

/** Builds the daemon bundle (what `tasklane daemon` runs). */
export const buildDaemon = (): void => {
  execFileSync(process.execPath, [join(root, "apps", "daemon", "build.mjs")], { stdio: "inherit" })
}

/**
 * Builds the desktop app, whose `out/renderer` the daemon's web mode serves
 * (for the measurement scripts; the test suite's global setup builds it once,
 * as rebuilding empties `out/` under concurrently running tests).
 */
export const buildUi = (): void => {
  execFileSync(process.execPath, [join(root, "apps", "desktop", "build.mjs")], { stdio: "inherit" })
}

/** Starts a daemon in web mode (default: a free port); `signIn` is the printed `…/?token=…` address. */
export const startWebDaemon = async (
  dataDir: string,
  extra: ReadonlyArray<string> = [],
  http = "127.0.0.1:0",
): Promise<{ readonly daemon: DaemonProcess; readonly signIn: URL }> => {
  const daemon = await startDaemon({
    dataDir,
    args: ["--http", http, "--abort-grace", "1", "--shutdown-grace", "2", ...extra],
  })
  const url = await poll(async () => /web UI: (http:\/\/\S+)/.exec(daemon.output())?.[1], { what: daemon.output })
  return { daemon, signIn: new URL(url) }
}

/** Headless Chromium as test/support/Browser.ts finds it (`$CHROMIUM_PATH`, a system one, the packaged one). */
export const launchChromium = (): Promise<Browser> => Chromium.launch()

/** A page signed in through the printed URL (the token becomes a cookie), once the UI says it is connected. */
export const openSignedIn = async (browser: Browser, signIn: URL, viewport: { readonly width: number; readonly height: number }): Promise<Page> => {
  const page = await (await browser.newContext({ viewport })).newPage()
  page.on("pageerror", (error) => console.error("page error:", error.message))
  await page.goto(signIn.href)
  await page.locator(".status-bar[data-connection=connected]").waitFor()
  return page
}

/** Moves the page to a hash route (`#/tasks/…`) without a reload. */
export const goTo = (page: Page, hash: string): Promise<unknown> =>
  page.evaluate((h) => ((globalThis as unknown as { location: { hash: string } }).location.hash = h), hash)

/** Closes what a UI test opened, whichever parts it got to. */
export const tearDown = async (opened: {
  readonly browser?: Browser | undefined
  readonly connection?: { readonly close: () => Promise<void> } | undefined
  readonly daemon?: DaemonProcess | undefined
  readonly dataDir?: string | undefined
}): Promise<void> => {
  await opened.browser?.close()
  await opened.connection?.close().catch(() => undefined)
  await opened.daemon?.stop("SIGKILL")
  if (opened.dataDir) removeDataDir(opened.dataDir)
}
