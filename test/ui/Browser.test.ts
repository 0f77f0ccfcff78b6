/**
 * The browser lookup every UI test, measurement script and the bench chart
 * use (test/support/Browser.ts): `$CHROMIUM_PATH`, then a system Chromium,
 * then the one `pnpm install` brings. The packaged one is unpacked and
 * launched here for real on every run, so a machine with only Node and npm
 * is known to get a working browser even where a system one hides it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import * as Browser from "../support/Browser.ts"

const scratch = mkdtempSync(join(tmpdir(), "tasklane-browser-"))
const fakeBinary = join(scratch, "chrome")
writeFileSync(fakeBinary, "")
const nowhere = join(scratch, "no-such-chromium")

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe("Browser.find", () => {
  it("takes $CHROMIUM_PATH first, then a system Chromium, then the packaged one", async () => {
    expect(await Browser.find({ env: { CHROMIUM_PATH: fakeBinary }, systemCandidates: [nowhere] })).toEqual({
      source: "CHROMIUM_PATH",
      executablePath: fakeBinary,
      env: {},
    })
    expect(await Browser.find({ env: {}, systemCandidates: [nowhere, fakeBinary] })).toEqual({
      source: "system",
      executablePath: fakeBinary,
      env: {},
    })
    const packaged = await Browser.find({ env: {}, systemCandidates: [nowhere] })
    expect(packaged.source).toBe("packaged")
    expect(packaged.executablePath).toBe(join(Browser.packagedDirectory(), "chromium"))
  })

  it("says what is wrong with a $CHROMIUM_PATH that names no file, or a forced system Chromium that is missing", async () => {
    await expect(Browser.find({ env: { CHROMIUM_PATH: nowhere } })).rejects.toThrow(`CHROMIUM_PATH is ${nowhere}, which does not exist`)
    const error = await Browser.find({ env: { TASKLANE_BROWSER: "system" }, systemCandidates: [nowhere] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Browser.BrowserNotFound)
    expect((error as Error).message).toContain(`no system Chromium at ${nowhere}`)
    await expect(Browser.find({ env: { TASKLANE_BROWSER: "firefox" } })).rejects.toThrow("TASKLANE_BROWSER must be auto, system or packaged")
  })

  it("TASKLANE_BROWSER=packaged skips $CHROMIUM_PATH and the system one; the packaged Chromium renders a page headless", async () => {
    const found = await Browser.find({ env: { TASKLANE_BROWSER: "packaged", CHROMIUM_PATH: fakeBinary }, systemCandidates: [fakeBinary] })
    expect(found.source).toBe("packaged")
    // Its own NSS libraries and fonts: it needs nothing installed on the machine.
    expect(found.env["LD_LIBRARY_PATH"]).toBe(join(Browser.packagedDirectory(), "al2023", "lib"))
    const browser = await Browser.launch({ found })
    try {
      const page = await browser.newPage({ viewport: { width: 300, height: 80 } })
      await page.setContent(`<p style="font: 24px sans-serif">Tasklane</p>`)
      expect(await page.locator("p").boundingBox()).toMatchObject({ width: expect.any(Number) })
      // Text was drawn (a font was found): the screenshot is not a blank page.
      const png = await page.screenshot()
      const blank = await (await browser.newPage({ viewport: { width: 300, height: 80 } })).screenshot()
      expect(png.equals(blank)).toBe(false)
    } finally {
      await browser.close()
    }
  }, 60_000)
})
