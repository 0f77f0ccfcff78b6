/**
 * How far V8 lets the daemon's heap grow past its live data before the next
 * full collection.
 *
 * V8's default grows the old generation up to about four times what survived
 * the last full GC when memory is plentiful. The daemon's live data is small
 * (about 45 MB in the no-op benchmark) but it makes garbage quickly, so
 * under load the heap sat at three to four times that and the process at
 * 310-370 MB. Growing by {@link defaultPercent} instead keeps the same runs
 * near 210 MB. Measured in quiet A/B runs of the no-op workload (5 runs
 * each, medians): 50% used 4-5% less CPU per task than V8's default (and
 * the same in bulk), 100% about the same as the default with more memory,
 * 20% 7% more CPU for 20 MB less. It is a growth factor, not a limit: a task
 * that really needs a large heap still gets it. A user who starts node with
 * their own `--heap-growing-percent` keeps it.
 */
import * as V8 from "node:v8"

/** Heap growth per full collection, percent of the live data. */
export const defaultPercent = 50

/** Applies {@link defaultPercent} unless `execArgv` names the flag (process-wide: worker threads share it). */
export const limit = (execArgv: ReadonlyArray<string> = process.execArgv): void => {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent/.test(arg))) return
  V8.setFlagsFromString(`--heap-growing-percent=${defaultPercent}`)
}
