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

const watchdogSource = `
const { parentPort, workerData } = require("node:worker_threads")
const { writeFileSync, writeSync } = require("node:fs")
const beat = new Float64Array(workerData.heartbeat)
const work = new Map()
parentPort.on("message", (m) => (m.deadline === undefined ? work.delete(m.id) : work.set(m.id, m)))
setInterval(() => {
  const now = Date.now()
  if (now - beat[0] < ${stalledMs}) return
  const overdue = [...work.values()].filter((w) => now > w.deadline + ${graceMs})
  if (overdue.length === 0) return
  const names = overdue.map((w) => w.blocked.label).join(", ")
  try { writeFileSync(workerData.blockedFile, JSON.stringify(overdue.map((w) => w.blocked))) } catch {}
  writeSync(2, "tasklane daemon: " + names + " blocked the event loop for " + Math.round((now - beat[0]) / 1000) +
    " s, past its timeout; stopping the daemon so that it can be restarted (run such tasks with isolation: \\"worker\\")\\n")
  process.kill(process.pid, "SIGKILL")
}, 500)
`

let watchdog: { readonly worker: Worker; readonly beat: Float64Array } | undefined
let nextId = 0

const startWatchdog = () => {
  const shared = new SharedArrayBuffer(8)
  const beat = new Float64Array(shared)
  beat[0] = Date.now()
  const worker = new Worker(watchdogSource, { eval: true, workerData: { heartbeat: shared, blockedFile } })
  worker.unref()
  setInterval(() => (beat[0] = Date.now()), heartbeatMs).unref()
  return { worker, beat }
}

/**
 * Registers inline work that must end by `deadline` (epoch ms) with the
 * watchdog; the returned function unregisters it.
 */
export const watch = (blocked: Blocked, deadline: number): (() => void) => {
  watchdog ??= startWatchdog()
  const id = nextId++
  const { worker } = watchdog
  worker.postMessage({ id, blocked, deadline })
  return () => worker.postMessage({ id })
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
