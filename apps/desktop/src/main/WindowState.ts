/**
 * The main window's size, position and maximized flag, kept between runs in
 * a small JSON file (`window-state.json` in Electron's userData directory).
 * Electron-free: pure functions (`decode`, `clamp`) plus tiny file IO.
 *
 * Lifecycle: `load` at startup (a missing, unreadable or invalid file gives
 * the defaults, never an error), `clamp` against the displays' work areas so
 * a window saved on a monitor that is gone does not open off-screen, and
 * `save` (atomic: a temporary file renamed over it) when the window closes.
 */
import { Exit, Schema } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"

/** A rectangle in screen coordinates. */
export interface Rectangle {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

/** What is remembered: the window's normal (unmaximized) bounds and whether it was maximized. */
export interface WindowState {
  readonly bounds: { readonly x?: number; readonly y?: number; readonly width: number; readonly height: number }
  readonly maximized: boolean
}

/** The smallest and largest window size restored. */
export const limits = { minWidth: 640, minHeight: 420, maxWidth: 10_000, maxHeight: 10_000 } as const

/** A first run's window: no position (the OS centers it). */
export const defaults: WindowState = { bounds: { width: 1280, height: 820 }, maximized: false }

const Stored = Schema.Struct({
  bounds: Schema.Struct({
    x: Schema.optionalKey(Schema.Finite),
    y: Schema.optionalKey(Schema.Finite),
    width: Schema.Finite,
    height: Schema.Finite,
  }),
  maximized: Schema.Boolean,
})
const decodeStored = Schema.decodeUnknownExit(Stored)

/** Decode a parsed file; anything invalid gives the defaults. */
export const decode = (json: unknown): WindowState => {
  const exit = decodeStored(json)
  return Exit.isSuccess(exit) ? exit.value : defaults
}

const clampNumber = (value: number, min: number, max: number) => Math.round(Math.min(Math.max(value, min), max))

const overlaps = (a: Rectangle, b: Rectangle, margin: number) =>
  a.x + margin < b.x + b.width && b.x + margin < a.x + a.width && a.y + margin < b.y + b.height && b.y + margin < a.y + a.height

/**
 * Sane bounds: the size within `limits` (and within the largest work area),
 * and the position dropped (so the OS centers the window) unless at least
 * 48 px of the window lie on one of `workAreas`.
 */
export const clamp = (state: WindowState, workAreas: ReadonlyArray<Rectangle> = []): WindowState => {
  const maxWidth = Math.max(limits.minWidth, Math.min(limits.maxWidth, ...workAreas.map((area) => area.width)))
  const maxHeight = Math.max(limits.minHeight, Math.min(limits.maxHeight, ...workAreas.map((area) => area.height)))
  const width = clampNumber(state.bounds.width, limits.minWidth, maxWidth)
  const height = clampNumber(state.bounds.height, limits.minHeight, maxHeight)
  const { x, y } = state.bounds
  const visible = x !== undefined && y !== undefined &&
    (workAreas.length === 0 || workAreas.some((area) => overlaps({ x, y, width, height }, area, 48)))
  return {
    bounds: visible ? { x: Math.round(x), y: Math.round(y), width, height } : { width, height },
    maximized: state.maximized,
  }
}

/** Read the state file; a missing, unreadable or invalid file gives the defaults. */
export const load = (file: string): WindowState => {
  try {
    return decode(JSON.parse(Fs.readFileSync(file, "utf8")))
  } catch {
    return defaults
  }
}

/** Write the state file atomically (creating its directory). */
export const save = (file: string, state: WindowState): void => {
  Fs.mkdirSync(Path.dirname(file), { recursive: true })
  const temporary = `${file}.${process.pid}.tmp`
  Fs.writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`)
  Fs.renameSync(temporary, file)
}
