/**
 * Test support: runs the real daemon as a child process (`tasklane daemon`)
 * on a data directory, waits until it serves its socket, and stops it with
 * SIGTERM or SIGKILL. Output is kept for assertions and failure messages.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = join(import.meta.dirname, "..", "..")
/** The `tasklane` command of this repository. */
export const bin = join(root, "apps", "daemon", "bin", "tasklane.mjs")
/** The integration tests' daemon config. */
export const fixtureConfig = join(root, "test", "fixtures", "daemon", "tasklane.config.ts")

/** How long `stop` waits after its signal before it kills the daemon. */
const stopKillMs = 30_000

/** A fresh temporary data directory (short path: unix socket paths are limited). */
export const tempDataDir = (): string => mkdtempSync(join(tmpdir(), "tl-"))

/** Removes a data directory made by {@link tempDataDir}. */
export const removeDataDir = (dir: string): void => rmSync(dir, { recursive: true, force: true })

/** A running daemon process. */
export interface DaemonProcess {
  readonly dataDir: string
  readonly socketPath: string
  readonly child: ChildProcess
  /** Everything written to stdout and stderr so far. */
  readonly output: () => string
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>
  /** Sends a signal and waits for the exit. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<number | string>
}

/** Spawns `tasklane daemon` and, unless `waitReady` is false, waits until it serves. */
export const startDaemon = async (options: {
  readonly dataDir: string
  readonly args?: ReadonlyArray<string>
  readonly waitReady?: boolean
  readonly timeoutMs?: number
  /** Extra environment variables for the daemon process. */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** The daemon's working directory (default: the repository root). */
  readonly cwd?: string
}): Promise<DaemonProcess> => {
  const args = options.args ?? ["--config", fixtureConfig, "--no-examples", "--abort-grace", "1", "--shutdown-grace", "2"]
  const child = spawn(process.execPath, [bin, "daemon", "--data-dir", options.dataDir, ...args], {
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)))
  const daemon: DaemonProcess = {
    dataDir: options.dataDir,
    socketPath: join(options.dataDir, "daemon.sock"),
    child,
    output: () => output,
    exited,
    stop: (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      // A daemon that does not stop (hung on a database that is gone) is killed: none outlives its test.
      const kill = setTimeout(() => child.kill("SIGKILL"), stopKillMs)
      kill.unref()
      return exited.finally(() => clearTimeout(kill))
    },
  }
  if (options.waitReady === false) return daemon
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  while (!output.includes(" serving ")) {
    if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode} before serving:\n${output}`)
    if (Date.now() > deadline) {
      child.kill("SIGKILL")
      throw new Error(`daemon did not start in time:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return daemon
}
