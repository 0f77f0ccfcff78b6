/** Formatting of times, durations and JSON for display. */

// One formatter for all rows: `toLocaleString(…, options)` builds a new one per call, too slow for scrolling.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" })

/** A timestamp (ms) as local date and time, or an em dash. */
export const time = (ms: number | undefined): string => (ms === undefined ? "—" : dateTime.format(ms))

/** A duration in ms, compact: `850 ms`, `12.3 s`, `4 m 05 s`, `2 h 10 m`. */
export const duration = (ms: number | undefined): string => {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return "—"
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const s = Math.floor(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s`
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} m`
}

/** A JSON value pretty-printed (undefined shows as a dash). */
export const json = (value: unknown): string => (value === undefined ? "—" : JSON.stringify(value, null, 2) ?? String(value))
