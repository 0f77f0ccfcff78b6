/**
 * Test support: runs the real `tasklane` CLI as a child process against a
 * data directory and collects its exit code, stdout and stderr.
 */
import { execFile } from "node:child_process"
import { join } from "node:path"
import { bin } from "./DaemonProcess.ts"

const root = join(import.meta.dirname, "..", "..")

/** What one CLI run printed and how it exited. */
export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `tasklane --data-dir <dataDir> ...args` (no TTY; NO_COLOR unset unless given in `env`). */
export const tasklane = (
  dataDir: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {},
): Promise<CliResult> => {
  const { NO_COLOR: _, ...inherited } = process.env
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args, "--data-dir", dataDir],
      { cwd: root, env: { ...inherited, ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** Runs the CLI and fails the test unless it exits 0; returns stdout. */
export const ok = async (dataDir: string, args: ReadonlyArray<string>): Promise<string> => {
  const result = await tasklane(dataDir, args)
  if (result.code !== 0) throw new Error(`tasklane ${args.join(" ")} exited ${result.code}:\n${result.stderr}${result.stdout}`)
  return result.stdout
}
