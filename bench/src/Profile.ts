/**
 * Profile: reads a V8 .cpuprofile (written by node --cpu-prof) and ranks
 * functions by self time: the time of every sample whose top frame is the
 * function, summed per functionName + url:line. Frames in the daemon bundle
 * (apps/daemon/dist/tasklane.mjs) are mapped back to their TypeScript source
 * with the bundle's source map; paths are shown relative to the repo.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { SourceMap } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number }
    readonly children?: ReadonlyArray<number>
  }>
  readonly startTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

export interface HotSpot {
  readonly function: string
  readonly location: string
  readonly selfMs: number
  /** The caller accounting for most of this self time: nearest in our code, else in a library (useful for natives). */
  readonly via: string
  /** Share of the profile's busy (non-idle) time, percent. */
  readonly percent: number
}

export interface ProfileSummary {
  readonly file: string
  readonly totalMs: number
  readonly idleMs: number
  /** Whether only the samples inside the workload's window were counted (else the whole profile, startup included). */
  readonly windowed: boolean
  readonly top: ReadonlyArray<HotSpot>
}

const root = join(import.meta.dirname, "..", "..")
const maps = new Map<string, SourceMap | null>()

const sourceMapOf = (path: string): SourceMap | null => {
  if (!maps.has(path)) {
    const mapPath = `${path}.map`
    maps.set(path, existsSync(mapPath) ? new SourceMap(JSON.parse(readFileSync(mapPath, "utf8"))) : null)
  }
  return maps.get(path)!
}

const shorten = (path: string) => {
  const nm = path.lastIndexOf("node_modules/")
  if (nm >= 0) return path.slice(nm + "node_modules/".length).replace(/^\.pnpm\/[^/]+\/node_modules\//, "")
  return path.startsWith(root) ? path.slice(root.length + 1) : path
}

const locate = (url: string, line: number, column: number): string => {
  if (url === "") return ""
  if (!url.startsWith("file://")) return `${url}:${line + 1}`
  const path = fileURLToPath(url)
  const map = path.endsWith(".mjs") ? sourceMapOf(path) : null
  const entry = map?.findEntry(line, column)
  if (entry !== undefined && entry !== null && "originalSource" in entry && entry.originalSource !== undefined) {
    const source = entry.originalSource.startsWith("file://") ? fileURLToPath(entry.originalSource) : join(path, "..", entry.originalSource)
    return `${shorten(source)}:${entry.originalLine + 1}`
  }
  return `${shorten(path)}:${line + 1}`
}

/**
 * The main thread's .cpuprofile in `dir`: node writes one per thread
 * (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile) and the daemon also
 * runs tsx's module-hooks thread, so take thread 0, else the largest file.
 */
export const mainThreadProfile = (dir: string): string | undefined => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))
  const main = files.find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))
  return main !== undefined ? join(dir, main) : files.map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0]
}

/** Now on the clock V8 stamps profiles with (CLOCK_MONOTONIC), in microseconds. */
export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n)

/**
 * Top `n` functions by self time (idle excluded). `window` ([from, to] from
 * `nowUs` in the measuring process) keeps only the samples taken during the
 * workload, leaving out the daemon's startup; if the profile's clock does
 * not overlap it, every sample counts.
 */
export const summarize = (file: string, n = 10, window?: readonly [number, number]): ProfileSummary => {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile
  const sampleTimes: Array<number> = []
  let t = profile.startTime
  for (const delta of profile.timeDeltas) sampleTimes.push((t += delta))
  const windowed = window !== undefined && sampleTimes.some((at) => at >= window[0] && at <= window[1])
  const byNode = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    if (windowed && (sampleTimes[i]! < window[0] || sampleTimes[i]! > window[1])) continue
    byNode.set(profile.samples[i]!, (byNode.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const parents = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)
  /**
   * The caller to show: the nearest ancestor in our code (not node_modules)
   * within 6 frames, else the nearest in any file (a library), skipping node: internals.
   */
  const caller = (id: number): string => {
    let library: string | undefined
    for (let p = parents.get(id), depth = 0; p !== undefined && depth < 16; p = parents.get(p), depth++) {
      const frame = nodes.get(p)!.callFrame
      if (!frame.url.startsWith("file://")) continue
      const shown = `${frame.functionName === "" ? "(anonymous)" : frame.functionName} ${locate(frame.url, frame.lineNumber, frame.columnNumber)}`
      if (!shown.includes("node_modules") && !/ (effect|classic-level|abstract-level|@effect)\//.test(shown)) return shown
      library ??= shown
      if (depth >= 6) break
    }
    return library ?? ""
  }
  const byFunction = new Map<string, { function: string; location: string; selfUs: number; callers: Map<string, number> }>()
  let totalUs = 0
  let idleUs = 0
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0
    if (us === 0) continue
    totalUs += us
    const { functionName, url, lineNumber, columnNumber } = node.callFrame
    if (functionName === "(idle)") {
      idleUs += us
      continue
    }
    const location = locate(url, lineNumber, columnNumber)
    const name = functionName === "" ? "(anonymous)" : functionName
    const key = `${name} ${location}`
    const entry = byFunction.get(key) ?? { function: name, location, selfUs: 0, callers: new Map<string, number>() }
    entry.selfUs += us
    const via = caller(node.id)
    entry.callers.set(via, (entry.callers.get(via) ?? 0) + us)
    byFunction.set(key, entry)
  }
  const busyUs = totalUs - idleUs
  const top = [...byFunction.values()].sort((a, b) => b.selfUs - a.selfUs).slice(0, n).map((e) => ({
    function: e.function,
    location: e.location,
    selfMs: Math.round(e.selfUs / 100) / 10,
    via: [...e.callers].sort((x, y) => y[1] - x[1]).map(([via, us]) => (via === "" ? "" : `${via} (${Math.round((us / e.selfUs) * 100)}%)`))[0] ?? "",
    percent: Math.round((e.selfUs / busyUs) * 1000) / 10,
  }))
  return { file, totalMs: Math.round(totalUs / 1000), idleMs: Math.round(idleUs / 1000), windowed, top }
}
