/**
 * The daemon as the daemon benches start it: the built bundle
 * (`node apps/daemon/build.mjs` first) on a given data dir with
 * bench.config.ts, no examples, inline isolation; resolves once it serves.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"

const bin = join(import.meta.dirname, "..", "bin", "tasklane.mjs")
const config = join(import.meta.dirname, "bench.config.ts")

/** Starts the daemon with `concurrency`, extra flags and environment; the child once it prints that it serves. */
export const start = async (
  dataDir: string,
  options: { readonly concurrency: number; readonly args?: ReadonlyArray<string>; readonly env?: NodeJS.ProcessEnv },
): Promise<ChildProcess> => {
  const args = [bin, "daemon", "--data-dir", dataDir, "--config", config, "--no-examples", "--concurrency", String(options.concurrency), "--isolation", "inline"]
  const child = spawn(process.execPath, [...args, ...(options.args ?? [])], {
    stdio: ["ignore", "pipe", "inherit"],
    ...(options.env === undefined ? {} : { env: options.env }),
  })
  await new Promise<void>((resolve, reject) => {
    let out = ""
    child.stdout!.on("data", (chunk) => {
      out += chunk
      if (out.includes(" serving ")) resolve()
    })
    child.on("exit", (code) => reject(new Error(`daemon exited with ${code}`)))
  })
  return child
}
