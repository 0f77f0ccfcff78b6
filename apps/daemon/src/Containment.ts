/**
 * Keeps task code that runs inline (on the daemon's own event loop) from
 * taking the daemon down, as far as one process can:
 *
 * - Every call into task code runs in an async context naming its owner
 *   (`within`). An unhandled promise rejection or an uncaught exception is
 *   then attributed to the iteration or hook whose code raised it (Node runs
 *   both handlers in the async context of the fault) and fails it; a fault no
 *   owner can be found for is logged, never fatal.
 * - `process.exit()` called from task code throws instead of exiting.
 * - A synchronous loop cannot be interrupted in-process: a watchdog thread
 *   sees the event loop stand still past the deadline of the inline work
 *   running, prints which task blocked it and kills the daemon (SIGKILL), so
 *   a supervisor restarts it; the restart records the iteration as
 *   interrupted by a crash and the poison-task limit (`maxCrashRetries`)
 *   ends it. A hook has no such count, so the watchdog first writes what it
 *   stopped (`Blocked`) to a file, and the next start records that hook as
 *   failed instead of running it again (`takeBlocked`). Tasks that may do
 *   this belong in `isolation: "worker"`.
 *
 * Lifecycle: `install` once per process (the daemon's entry point); the
 * watchdog thread starts with the first `watch` and is unref'd.
 */
import { AsyncLocalStorage } from "node:async_hooks"
import { readFileSync, rmSync } from "node:fs"
import { Worker } from "node:worker_threads"
import type { TaskEvent } from "@tasklane/core"

/** Who answers for task code running in an async context. */
export interface Owner {
  /** "task <id> iteration <n>", for messages. */
  readonly label: string
  /** Receives a fault of this owner's code; called at most once per fault. */
  readonly fault: (error: unknown, kind: FaultKind) => void
}

/** How task code failed outside its own answer. */
export type FaultKind = "unhandled rejection" | "uncaught exception"

const owners = new AsyncLocalStorage<Owner>()

/** Calls task code so that faults of the async work it starts are attributed to `owner`. */
export const within = <A>(owner: Owner, call: () => A): A => owners.run(owner, call)

/** Runs daemon code called back from task code outside the task's context (so its faults are not blamed on the task). */
export const outside = <A>(call: () => A): A => owners.exit(call)

/** Thrown into task code that calls `process.exit()` while running inline. */
export class ExitFromTaskCode extends Error {
  constructor(readonly exitCode: unknown) {
    super(`task code called process.exit(${exitCode === undefined ? "" : String(exitCode)}); the daemon does not exit for a task`)
    this.name = "ExitFromTaskCode"
  }
}

/** Inline work the watchdog stopped the daemon for. */
export interface Blocked {
  readonly label: string
  readonly taskId: string
  /** Set for a lifecycle hook (an iteration has none). */
  readonly hook?: TaskEvent.HookName | undefined
}

let installed = false
let blockedFile: string | undefined

/**
 * Installs the process-wide handlers: faults go to their owner, else to
 * `log`; `process.exit()` from task code throws. The watchdog writes what it
 * stops to `blockedPath`. Idempotent.
 */
export const install = (options: { readonly log: (message: string) => void; readonly blockedPath: string }): void => {
  if (installed) return
  installed = true
  blockedFile = options.blockedPath
  const log = options.log
  const report = (kind: FaultKind) => (error: unknown) => {
    const owner = owners.getStore()
    if (owner !== undefined) return owner.fault(error, kind)
    log(`${kind} outside any task (the daemon keeps running): ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  }
  process.on("unhandledRejection", report("unhandled rejection"))
  process.on("uncaughtException", report("uncaught exception"))
  const exit = process.exit.bind(process)
  process.exit = ((code?: number | string | null) => {
    if (owners.getStore() !== undefined) throw new ExitFromTaskCode(code)
    return exit(code as number | undefined)
  }) as typeof process.exit
}

// The watchdog: a tiny thread that reads the main loop's heartbeat from shared memory.
const heartbeatMs = 250
/** The loop must have stood still this long, and the work be this far past its deadline, before the watchdog acts. */
const stalledMs = 5_000
const graceMs = 5_000

/**
 * Shared memory between the daemon's loop and the watchdog: slot 0 of
 * `times` is the loop's heartbeat; slot i > 0 holds the deadline of a piece
 * of inline work (0: free), and `labels` its {@link Blocked} as JSON. A
 * registration is a few stores, no message: it must be cheap (one per
 * inline iteration) and visible even when the loop blocks right after it.
 */
const slots = 1024
const labelBytes = 256

const watchdogSource = `
const { workerData } = require("node:worker_threads")
const { writeFileSync, writeSync } = require("node:fs")
const times = new Float64Array(workerData.times)
const labels = new Uint8Array(workerData.labels)
const decoder = new TextDecoder()
const blockedOf = (i) => {
  const bytes = labels.subarray(i * ${labelBytes}, (i + 1) * ${labelBytes})
  const end = bytes.indexOf(0)
  try { return JSON.parse(decoder.decode(bytes.subarray(0, end === -1 ? bytes.length : end))) } catch { return { label: "inline task code", taskId: "" } }
}
setInterval(() => {
  const now = Date.now()
  if (now - times[0] < ${stalledMs}) return
  const overdue = []
  for (let i = 1; i < ${slots}; i++) if (times[i] !== 0 && now > times[i] + ${graceMs}) overdue.push(blockedOf(i))
  if (overdue.length === 0) return
  const names = overdue.map((blocked) => blocked.label).join(", ")
  try { writeFileSync(workerData.blockedFile, JSON.stringify(overdue)) } catch {}
  writeSync(2, "tasklane daemon: " + names + " blocked the event loop for " + Math.round((now - times[0]) / 1000) +
    " s, past its timeout; stopping the daemon so that it can be restarted (run such tasks with isolation: \\"worker\\")\\n")
  process.kill(process.pid, "SIGKILL")
}, 500)
`

interface Watchdog {
  readonly times: Float64Array
  readonly labels: Uint8Array
  readonly free: Array<number>
}

let watchdog: Watchdog | undefined
const encoder = new TextEncoder()

const startWatchdog = (): Watchdog => {
  const times = new Float64Array(new SharedArrayBuffer(slots * 8))
  const labels = new Uint8Array(new SharedArrayBuffer(slots * labelBytes))
  times[0] = Date.now()
  const worker = new Worker(watchdogSource, { eval: true, workerData: { times: times.buffer, labels: labels.buffer, blockedFile } })
  worker.unref()
  setInterval(() => (times[0] = Date.now()), heartbeatMs).unref()
  return { times, labels, free: Array.from({ length: slots - 1 }, (_, i) => slots - 1 - i) }
}

const unwatched = () => {}

/**
 * Registers inline work that must end by `deadline` (epoch ms) with the
 * watchdog; the returned function unregisters it. Past 1,023 pieces of
 * inline work at once, the rest go unwatched.
 */
export const watch = (blocked: Blocked, deadline: number): (() => void) => {
  const dog = (watchdog ??= startWatchdog())
  const slot = dog.free.pop()
  if (slot === undefined) return unwatched
  const label = dog.labels.subarray(slot * labelBytes, (slot + 1) * labelBytes)
  const { written } = encoder.encodeInto(JSON.stringify(blocked), label)
  if (written < labelBytes) label[written] = 0
  dog.times[slot] = deadline
  let released = false
  return () => {
    if (released) return
    released = true
    dog.times[slot] = 0
    dog.free.push(slot)
  }
}

/** What the watchdog stopped the previous daemon for (read once, then forgotten). */
export const takeBlocked = (path: string): ReadonlyArray<Blocked> => {
  try {
    const blocked = JSON.parse(readFileSync(path, "utf8")) as ReadonlyArray<Blocked>
    rmSync(path, { force: true })
    return Array.isArray(blocked) ? blocked : []
  } catch {
    return []
  }
}
