/**
 * Existing: runs the earlier issues' benchmarks unchanged, as child
 * processes, and parses their printed tables so one command gives the whole
 * picture: packages/core/bench/store.bench.ts (store appends and the replay
 * fold) and apps/daemon/bench/daemon.bench.ts (the daemon's own throughput,
 * latency, per-iteration overhead and RSS after 100,000 tasks).
 *
 * Each runs in its own process group with a time limit: the daemon bench
 * waits without a timeout for tasks to finish, so a daemon that strands
 * tasks would hang the whole run; on timeout the group (bench and its
 * daemon) gets SIGINT, then SIGKILL, and the result says it timed out.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import * as Cleanup from "./Cleanup.ts"

const root = join(import.meta.dirname, "..", "..")

export interface ExistingResult {
  readonly command: string
  readonly seconds: number
  readonly rows: ReadonlyArray<{ readonly measure: string; readonly value: string; readonly note: string }>
  readonly footer: string
  /** Set when the bench did not finish in time (its figures are then missing or partial). */
  readonly timedOut?: string
}

const run = (cwd: string, script: string, args: ReadonlyArray<string>, limitSeconds: number) =>
  new Promise<{ stdout: string; seconds: number; timedOut?: string }>((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), script, ...args], { cwd, stdio: ["ignore", "pipe", "inherit"], detached: true })
    let stdout = ""
    let timedOut: string | undefined
    child.stdout!.on("data", (chunk) => (stdout += chunk))
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal)
      } catch {
        // already gone
      }
    }
    const unregister = Cleanup.register(script, () => killGroup("SIGINT"))
    const timer = setTimeout(() => {
      timedOut = `did not finish within ${limitSeconds} s (stopped; a stalled daemon?)`
      console.error(`${script} ${timedOut}`)
      killGroup("SIGINT")
      setTimeout(() => killGroup("SIGKILL"), 10_000).unref()
    }, limitSeconds * 1000)
    child.once("exit", (code) => {
      clearTimeout(timer)
      void unregister
      const seconds = (performance.now() - started) / 1000
      if (code === 0) resolve({ stdout, seconds })
      else if (timedOut !== undefined) resolve({ stdout, seconds, timedOut })
      else reject(new Error(`${script} exited with ${code}:\n${stdout}`))
    })
  })

const unquote = (s: string) => s.trim().replace(/^'(.*)'$/, "$1")

/** A store bench's figures (medians, events/s) from its console.table, and its footer line (the one starting with `footerPrefix`). */
const tableBench = async (script: string, footerPrefix: string): Promise<ExistingResult> => {
  const cwd = join(root, "packages", "core")
  const { stdout, seconds, timedOut } = await run(cwd, script, [], 300)
  const rows = stdout.split("\n").filter((l) => l.startsWith("│")).map((l) => l.split("│").slice(2, -1).map(unquote))
    .filter((cells) => cells.length >= 2 && cells[0] !== "measure")
    .map(([measure, value, note]) => ({ measure: measure!, value: `${value} /s`, note: note ?? "" }))
  const footer = stdout.split("\n").find((l) => l.startsWith(footerPrefix)) ?? ""
  return { command: `tsx packages/core/${script}`, seconds, rows, footer, ...(timedOut === undefined ? {} : { timedOut }) }
}

/** Store append and replay fold figures on LevelDB. */
export const storeBench = (): Promise<ExistingResult> => tableBench("bench/store.bench.ts", "targets:")

/** Store append figures on PostgreSQL (a private cluster the bench starts; it fails where PostgreSQL's server binaries are missing). */
export const pgStoreBench = (): Promise<ExistingResult> => tableBench("bench/pg.bench.ts", "target:")

/** The daemon bench's figures (it builds nothing: run.ts built the bundle). */
export const daemonBench = async (quick: boolean): Promise<ExistingResult> => {
  const cwd = join(root, "apps", "daemon")
  const args = quick ? ["--quick"] : []
  const { stdout, seconds, timedOut } = await run(cwd, "bench/daemon.bench.ts", args, quick ? 180 : 420)
  const rows = stdout.split("\n").map((l) => /^(.*?\S)\s{2,}([\d.,]+ \S+)(?:\s{2,}(.*))?$/.exec(l)).filter((m) => m !== null)
    .map((m) => ({ measure: m[1]!, value: m[2]!, note: m[3] ?? "" }))
  return { command: `tsx apps/daemon/bench/daemon.bench.ts ${args.join(" ")}`.trim(), seconds, rows, footer: "", ...(timedOut === undefined ? {} : { timedOut }) }
}
