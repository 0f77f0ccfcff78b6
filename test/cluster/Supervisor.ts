/**
 * The cluster crash suite's supervisor: N daemon slots, each with its own
 * data directory and node id, restarted whenever their process exits (with a
 * backoff that grows while starts keep failing, e.g. while the database is
 * down), as systemd would restart a daemon that exits 75. It records every
 * process it started (node id, pid, when it was spawned and seen to exit)
 * and every exit code, which is what the checks need to know which process
 * owned which attempt.
 *
 * Lifecycle: `start()` brings every slot up; `kill`/`pause` are the chaos;
 * `shutdown()` stops restarting, wakes paused processes, kills them all and
 * removes the data directories (safe to call twice, and after a failure).
 */
import type { Connection } from "@tasklane/daemon/client"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, sleep } from "../support/TaskPolling.ts"
import type { Incarnation } from "./ClusterChecks.ts"

/** One process of a slot, as the supervisor saw it. */
interface Running extends Incarnation {
  readonly slot: number
  readonly daemon: DaemonProcess
  exitedAt?: number
  serving: boolean
  paused: boolean
  connection?: Promise<Connection> | undefined
}

/** How a slot's processes are started. */
export interface SupervisorOptions {
  readonly slots: number
  /** The node id of slot `slot`'s `restart`-th process. */
  readonly nodeId: (slot: number, restart: number) => string
  /** The daemon's arguments after `--data-dir` (`--store`, `--config`, …) for that process. */
  readonly args: (slot: number, nodeId: string) => ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  /** How long one start may take before the supervisor kills it and tries again, ms. */
  readonly startTimeoutMs?: number
}

/** A started supervisor. */
export type Supervisor = ReturnType<typeof supervise>

/** Supervises `options.slots` daemons; nothing runs until `start()`. */
export const supervise = (options: SupervisorOptions) => {
  const dataDirs = Array.from({ length: options.slots }, () => tempDataDir())
  const current: Array<Running | undefined> = Array.from({ length: options.slots }, () => undefined)
  const restarts = Array.from({ length: options.slots }, () => 0)
  const failedStarts = Array.from({ length: options.slots }, () => 0)
  const processes: Array<Running> = []
  const exits: Array<{ readonly slot: number; readonly node: string; readonly code: number | string; readonly serving: boolean }> = []
  let stopping = false

  const launch = async (slot: number): Promise<void> => {
    if (stopping) return
    const node = options.nodeId(slot, restarts[slot]!)
    restarts[slot]!++
    const spawnedAt = Date.now()
    const daemon = await startDaemon({ dataDir: dataDirs[slot]!, args: options.args(slot, node), env: options.env, waitReady: false })
    const running: Running = { slot, node, pid: daemon.child.pid!, spawnedAt, daemon, serving: false, paused: false }
    processes.push(running)
    current[slot] = running
    const startTimeout = setTimeout(() => daemon.stop("SIGKILL"), options.startTimeoutMs ?? 30_000)
    const watch = setInterval(() => {
      if (!running.serving && daemon.output().includes(" serving ")) {
        running.serving = true
        failedStarts[slot] = 0
        clearTimeout(startTimeout)
      }
    }, 20)
    void daemon.exited.then(async (code) => {
      running.exitedAt = Date.now()
      clearInterval(watch)
      clearTimeout(startTimeout)
      exits.push({ slot, node, code, serving: running.serving })
      void running.connection?.then((c) => c.close()).catch(() => undefined)
      if (stopping) return
      if (!running.serving) failedStarts[slot]!++
      // Back off while starts keep failing (the database is down, say); a process that served restarts at once.
      await sleep(Math.min(2_000, failedStarts[slot] === 0 ? 0 : 100 * 2 ** failedStarts[slot]!))
      if (current[slot] === running) await launch(slot)
    })
  }

  /** Slots whose process serves and is not paused. */
  const live = (): Array<number> => current.flatMap((r, slot) => (r !== undefined && r.serving && r.paused === false && r.exitedAt === undefined ? [slot] : []))

  return {
    dataDirs,
    /** Every process started, in order (the checks' incarnations). */
    processes: processes as ReadonlyArray<Incarnation & { readonly slot: number }>,
    exits,
    live,
    /** Starts every slot and waits until all serve. */
    start: async (timeoutMs = 60_000) => {
      for (let slot = 0; slot < options.slots; slot++) await launch(slot)
      await waitUntil(() => live().length === options.slots, timeoutMs, () => `not every daemon serves: ${describe()}`)
    },
    /** Waits until some slot serves unpaused, and answers it. */
    someLive: async (pick: (slots: ReadonlyArray<number>) => number, timeoutMs = 60_000): Promise<number> => {
      await waitUntil(() => live().length > 0, timeoutMs, () => `no daemon serves: ${describe()}`)
      return pick(live())
    },
    /** Waits until every slot serves, unpaused. */
    allLive: (timeoutMs = 60_000) => waitUntil(() => live().length === options.slots, timeoutMs, () => `not every daemon serves: ${describe()}`),
    /**
     * Calls the slot's current process; rejects as soon as that process exits
     * (a call to a killed daemon would otherwise wait for its timeout) or after `timeoutMs`.
     */
    call: <A>(slot: number, use: (c: Connection) => Promise<A>, timeoutMs: number): Promise<A> => {
      const running = current[slot]
      if (running === undefined || !running.serving) return Promise.reject(new Error(`slot ${slot} does not serve`))
      running.connection ??= connectTo(running.daemon)
      // A failed connect is forgotten so that the next call tries again.
      running.connection.catch(() => running.connection = undefined)
      let timer: ReturnType<typeof setTimeout> | undefined
      return Promise.race([
        running.connection.then(use),
        running.daemon.exited.then((code) => Promise.reject(new Error(`${running.node} pid ${running.pid} exited (${code})`))),
        new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs)),
      ]).finally(() => clearTimeout(timer))
    },
    /** SIGKILLs the slot's process; answers its pid and the time of the kill. */
    kill: (slot: number) => {
      const running = current[slot]!
      const at = Date.now()
      running.daemon.child.kill("SIGKILL")
      return { at, pid: running.pid }
    },
    /** SIGSTOPs the slot's process for `ms`, then SIGCONT; the promise resolves after the SIGCONT. */
    pause: (slot: number, ms: number) => {
      const running = current[slot]!
      const at = Date.now()
      running.paused = true
      running.daemon.child.kill("SIGSTOP")
      const resumed = sleep(ms).then(() => {
        running.daemon.child.kill("SIGCONT")
        running.paused = false
      })
      return { at, pid: running.pid, paused: true, resumed }
    },
    /** Stops restarting, wakes and kills every process, removes the data directories. */
    shutdown: async () => {
      stopping = true
      for (const running of processes) {
        if (running.exitedAt !== undefined) continue
        // A stopped process takes SIGKILL too, but wake it first so that nothing is left stopped if the kill fails.
        running.daemon.child.kill("SIGCONT")
        await running.daemon.stop("SIGKILL")
      }
      for (const dir of dataDirs) removeDataDir(dir)
    },
    /** The output of the slot's processes (for failure messages). */
    output: (slot: number) => processes.filter((p) => p.slot === slot).map((p) => `--- ${p.node} pid ${p.pid}\n${p.daemon.output()}`).join("\n"),
  }

  function describe(): string {
    return current.map((r, slot) => `slot ${slot}: ${r === undefined ? "none" : `${r.node} pid ${r.pid} ${r.exitedAt !== undefined ? "exited" : r.serving ? (r.paused ? "paused" : "serving") : "starting"}`}`).join("; ")
  }
}

const waitUntil = async (condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`within ${timeoutMs} ms: ${what()}`)
    await sleep(20)
  }
}
