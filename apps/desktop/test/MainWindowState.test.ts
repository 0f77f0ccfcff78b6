/** WindowState: the window's bounds survive a restart, and never come back unusable. */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import * as WindowState from "../src/main/WindowState.ts"

const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tl-ws-"))
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))
const screen = { x: 0, y: 0, width: 1920, height: 1080 }

describe("WindowState", () => {
  it("saves and loads bounds and the maximized flag", () => {
    const file = Path.join(dir, "nested", "window-state.json")
    const state = { bounds: { x: 100, y: 80, width: 1000, height: 700 }, maximized: true }
    WindowState.save(file, state)
    expect(WindowState.load(file)).toEqual(state)
    expect(Fs.readdirSync(Path.dirname(file))).toEqual(["window-state.json"])
  })

  it("gives the defaults for a missing, garbage or invalid file", () => {
    expect(WindowState.load(Path.join(dir, "missing.json"))).toEqual(WindowState.defaults)
    const garbage = Path.join(dir, "garbage.json")
    for (const content of ["{", "[]", JSON.stringify({ bounds: { width: "wide", height: 1 }, maximized: false }), JSON.stringify({ bounds: { width: 800 } })]) {
      Fs.writeFileSync(garbage, content)
      expect(WindowState.load(garbage)).toEqual(WindowState.defaults)
    }
  })

  it("clamps sizes to the limits and the screen", () => {
    const tiny = WindowState.clamp({ bounds: { x: 10, y: 10, width: 20, height: 5 }, maximized: false }, [screen])
    expect(tiny.bounds).toEqual({ x: 10, y: 10, width: WindowState.limits.minWidth, height: WindowState.limits.minHeight })
    const huge = WindowState.clamp({ bounds: { x: 0, y: 0, width: 50_000, height: 50_000 }, maximized: true }, [screen])
    expect(huge).toEqual({ bounds: { x: 0, y: 0, width: 1920, height: 1080 }, maximized: true })
    expect(WindowState.clamp({ bounds: { width: 1e9, height: 1e9 }, maximized: false }).bounds)
      .toEqual({ width: WindowState.limits.maxWidth, height: WindowState.limits.maxHeight })
  })

  it("drops a position that is off every screen, so the window opens centered", () => {
    const gone = WindowState.clamp({ bounds: { x: 4000, y: 200, width: 800, height: 600 }, maximized: false }, [screen])
    expect(gone.bounds).toEqual({ width: 800, height: 600 })
    const second = { x: 1920, y: 0, width: 1280, height: 1024 }
    expect(WindowState.clamp({ bounds: { x: 2000, y: 100, width: 800, height: 600 }, maximized: false }, [screen, second]).bounds)
      .toEqual({ x: 2000, y: 100, width: 800, height: 600 })
  })
})
