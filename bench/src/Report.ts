/**
 * Report: turns the run's results into the record under bench/results/:
 * `<YYYY-MM-DD>.json` (everything, every run), `<date>.md` (the tables, also
 * printed), `<date>.svg` and `<date>.png` (bar charts of throughput and p99
 * latency per workload, Tasklane vs BullMQ, rendered with headless Chromium
 * through playwright-core, found by test/support/Browser.ts; without Chromium
 * only the SVG is written and the report says why the PNG was skipped).
 * Same-day runs overwrite.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Browser from "@tasklane/test/browser"

export const resultsDir = join(import.meta.dirname, "..", "results")

/** One row of the comparison table: a measure and its value per system. */
export interface Row {
  readonly measure: string
  readonly values: ReadonlyArray<number>
  /** Fraction digits shown. */
  readonly digits: number
}

export interface Comparison {
  readonly systems: ReadonlyArray<string>
  readonly rows: ReadonlyArray<Row>
}

const fmt = (value: number, digits: number) =>
  Number.isFinite(value) ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "n/a"

/** Markdown table: one column per system, then Tasklane / <other> ratios. */
export const comparisonTable = (c: Comparison): string => {
  const others = c.systems.slice(1)
  const header = ["measure", ...c.systems, ...others.map((o) => `${c.systems[0]} / ${o}`)]
  const lines = [`| ${header.join(" | ")} |`, `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`]
  for (const row of c.rows) {
    const ratios = others.map((_, i) => fmt(row.values[0]! / row.values[i + 1]!, 2))
    lines.push(`| ${[row.measure, ...row.values.map((v) => fmt(v, row.digits)), ...ratios].join(" | ")} |`)
  }
  return lines.join("\n")
}

/** A plain markdown table. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n")

const colors = ["#2563eb", "#f97316", "#a855f7", "#16a34a"]

export interface ChartPanel {
  readonly title: string
  readonly unit: string
  readonly values: ReadonlyArray<number>
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;")

/** An SVG of small bar charts side by side, one per panel, one bar per system. */
export const chartSvg = (title: string, systems: ReadonlyArray<string>, groups: ReadonlyArray<{ readonly heading: string; readonly panels: ReadonlyArray<ChartPanel> }>): string => {
  const panelW = 200
  const panelH = 260
  const gap = 30
  const top = 90
  const panels = groups.flatMap((g) => g.panels)
  const width = panels.length * (panelW + gap) + gap + groups.length * 20
  const height = top + panelH + 110
  const parts: Array<string> = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif">`)
  parts.push(`<rect width="100%" height="100%" fill="white"/>`)
  parts.push(`<text x="${gap}" y="30" font-size="20" font-weight="bold">${escape(title)}</text>`)
  systems.forEach((s, i) => {
    parts.push(`<rect x="${gap + i * 190}" y="44" width="14" height="14" fill="${colors[i]}"/><text x="${gap + i * 190 + 20}" y="56" font-size="13">${escape(s)}</text>`)
  })
  let x = gap
  for (const group of groups) {
    const groupW = group.panels.length * (panelW + gap) - gap
    parts.push(`<text x="${x + groupW / 2}" y="${top - 8}" font-size="15" font-weight="bold" text-anchor="middle">${escape(group.heading)}</text>`)
    for (const panel of group.panels) {
      const max = Math.max(...panel.values.filter(Number.isFinite), 1e-9)
      const base = top + panelH
      parts.push(`<line x1="${x}" y1="${base}" x2="${x + panelW}" y2="${base}" stroke="#333"/>`)
      const barW = (panelW - 20) / panel.values.length - 8
      panel.values.forEach((v, i) => {
        const h = Number.isFinite(v) ? ((panelH - 30) * v) / max : 0
        const bx = x + 10 + i * (barW + 8)
        parts.push(`<rect x="${bx}" y="${base - h}" width="${barW}" height="${h}" fill="${colors[i]}"/>`)
        const label = v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toPrecision(3)
        parts.push(`<text x="${bx + barW / 2}" y="${base - h - 5}" font-size="11" text-anchor="middle">${label}</text>`)
      })
      parts.push(`<text x="${x + panelW / 2}" y="${base + 20}" font-size="12" text-anchor="middle">${escape(panel.title)}</text>`)
      parts.push(`<text x="${x + panelW / 2}" y="${base + 36}" font-size="11" fill="#555" text-anchor="middle">${escape(panel.unit)}</text>`)
      x += panelW + gap
    }
    x += 20
  }
  parts.push(`<text x="${gap}" y="${height - 20}" font-size="11" fill="#555">Same machine, same run. Tasklane fsyncs every group commit; BullMQ on Redis defaults does not fsync (appendonly no); "BullMQ (fsync)" = appendonly yes, appendfsync always.</text>`)
  parts.push(`</svg>`)
  return parts.join("\n")
}

/** Renders `svg` to a PNG with headless Chromium; returns why not if it could not. */
export const renderPng = async (svg: string, path: string): Promise<string | undefined> => {
  const found = await Browser.find().catch((error: Error) => error)
  if (found instanceof Error) return found.message
  const browser = await Browser.launch({ found })
  try {
    const page = await browser.newPage()
    const width = Number(/width="(\d+)"/.exec(svg)?.[1] ?? 1200)
    const height = Number(/height="(\d+)"/.exec(svg)?.[1] ?? 500)
    await page.setViewportSize({ width, height })
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`)
    await page.screenshot({ path, clip: { x: 0, y: 0, width, height } })
    return undefined
  } catch (error) {
    return `Chromium failed: ${error instanceof Error ? error.message : String(error)}`
  } finally {
    await browser.close()
  }
}

/** Writes `<date>.json`, `.md`, `.svg` and (if Chromium works) `.png`; returns the paths written and the PNG skip reason. */
export const write = async (date: string, json: unknown, markdown: string, svg: string) => {
  mkdirSync(resultsDir, { recursive: true })
  const base = join(resultsDir, date)
  writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`)
  writeFileSync(`${base}.svg`, svg)
  const skipped = await renderPng(svg, `${base}.png`).catch((error: unknown) => `Chromium failed: ${error instanceof Error ? error.message : String(error)}`)
  const note = skipped === undefined ? "" : `\n\n**PNG chart skipped**: ${skipped}. The SVG chart is at ${date}.svg.\n`
  writeFileSync(`${base}.md`, `${markdown}${note}\n`)
  return { files: [`${base}.json`, `${base}.md`, `${base}.svg`, ...(skipped === undefined ? [`${base}.png`] : [])], skipped }
}
