/**
 * The CLI on a real terminal: `trigger --wait` run inside a pseudo-terminal
 * (util-linux `script`, which every Debian has) redraws one live progress
 * line with a bar and colours the final status, `NO_COLOR` keeps the
 * live line but drops every colour, and `trigger --input-lines` shows its
 * progress per request on one live line. Piped output (the other CLI tests) has
 * neither.
 */
import { execFile, execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bin, type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"

const scriptPath = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v script"], { encoding: "utf8" }).trim()
  } catch {
    return ""
  }
})()
if (scriptPath === "") console.warn("Terminal tests skipped: util-linux `script` is not installed, so no pseudo-terminal can be made")

let daemon: DaemonProcess
let dir: string

beforeAll(async () => {
  dir = tempDataDir()
  // The built-in examples: `demo` counts down with progress.
  daemon = await startDaemon({ dataDir: dir, args: ["--shutdown-grace", "2"] })
})

afterAll(async () => {
  await daemon?.stop()
  removeDataDir(dir)
})

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`

/** Runs `tasklane …` with stdout on a pseudo-terminal; resolves with everything the terminal received. */
const onTerminal = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) => {
  const { NO_COLOR: _, ...inherited } = process.env
  const command = [process.execPath, bin, ...args, "--data-dir", dir].map(quote).join(" ")
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(scriptPath, ["-qfec", command, "/dev/null"], { env: { ...inherited, ...env }, timeout: 20_000 }, (error, stdout) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, output: stdout })
    })
  })
}

const ansiColour = /\u001b\[3\dm/

describe.skipIf(scriptPath === "")("tasklane on a terminal", () => {
  it("trigger --wait redraws one live line with a progress bar and colours the final status", async () => {
    const { code, output } = await onTerminal(["trigger", "demo", "--input", '{"steps":3,"delaySeconds":0.2}', "--wait"])
    expect(code).toBe(0)
    expect(output).toContain("\r\u001b[2K")
    expect(output).toMatch(/progress \d\/3 \[#*\.*\]/)
    expect(output).toContain("\u001b[32mdone\u001b[0m")
  })

  it("NO_COLOR keeps the live line and drops every colour; a failed task still exits 1", async () => {
    const { code, output } = await onTerminal(["trigger", "demo", "--input", '{"steps":2,"delaySeconds":0,"failAt":2}', "--wait"], { NO_COLOR: "1" })
    expect(code).toBe(1)
    expect(output).toContain("\r\u001b[2K")
    expect(output).toMatch(/error/)
    expect(output).not.toMatch(ansiColour)
  })

  it("trigger --input-lines shows a live progress line per request, then the summary", async () => {
    const file = `${dir}/many.jsonl`
    writeFileSync(file, Array.from({ length: 2_500 }, () => '{"steps":1,"delaySeconds":0}').join("\n"))
    // Delayed an hour: they are stored and wait, nothing runs.
    const { code, output } = await onTerminal(["trigger", "demo", "--input-lines", file, "--delay", "3600"])
    expect(code).toBe(0)
    expect(output).toContain("\r\u001b[2Ksent 1000/2500 lines")
    expect(output).toContain("\r\u001b[2Ksent 2500/2500 lines")
    expect(output).toContain("2500 of 2500 line(s) triggered, 0 refused")
  })
})
