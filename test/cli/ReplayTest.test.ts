/**
 * `tasklane replay-test`: a history recorded by a real daemon (the `countTo`
 * fixture, exported to a file) replayed against the same code (every
 * iteration matches, exit 0), against a changed definition (exit 1, the diff
 * names the changed field), against code that hangs (a timeout, not a hang),
 * and from the live daemon by task id; plus usage errors (exit 2) and the
 * `--json` document. The JSON diff it prints is unit-tested first.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { ok, tasklane } from "../support/CliProcess.ts"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, waitFor } from "../support/TaskPolling.ts"

const fixtures = join(import.meta.dirname, "..", "fixtures", "replay-test")
const recordedConfig = join(fixtures, "tasklane.config.ts")
const changedConfig = join(fixtures, "changed.config.ts")
const hangingConfig = join(fixtures, "hanging.config.ts")

describe("tasklane replay-test", () => {
  let daemon: DaemonProcess
  let c: Connection
  let dir: string
  let offline: string
  let files: string
  let file: string
  let taskId: string

  beforeAll(async () => {
    dir = tempDataDir()
    offline = tempDataDir()
    files = mkdtempSync(join(tmpdir(), "tl-replay-"))
    file = join(files, "countTo.history.json")
    daemon = await startDaemon({ dataDir: dir, args: ["--config", recordedConfig, "--no-examples", "--shutdown-grace", "2"] })
    c = await connectTo(daemon)
    taskId = (await ok(dir, ["trigger", "countTo", "--input", '{"n":0}'])).trim()
    await waitFor(c, taskId, "done")
    await ok(dir, ["export", taskId, "--output", file])
  })

  afterAll(async () => {
    await c?.close()
    await daemon?.stop()
    removeDataDir(dir)
    removeDataDir(offline)
    rmSync(files, { recursive: true, force: true })
  })

  it("replays a file against the code that recorded it: every iteration matches, exit 0 (no daemon needed)", async () => {
    const result = await tasklane(offline, ["replay-test", file, "--config", recordedConfig])
    expect(result.stderr).toBe("")
    expect(result.code).toBe(0)
    const rows = result.stdout.split("\n").filter((line) => /^\d+ .*[✓✗]$/.test(line))
    expect(rows.map((row) => row.split(/\s+/))).toEqual([
      ["1", "continue", "continue", "✓"],
      ["2", "continue", "continue", "✓"],
      ["3", "continue", "continue", "✓"],
      ["4", "done", "done", "✓"],
    ])
    expect(result.stdout).toContain("4 of 4 replayed iterations match")
    expect(result.stdout).not.toContain("at 2") // run()'s log lines are captured, not printed
  })

  it("prints run()'s log lines with --verbose", async () => {
    const result = await tasklane(offline, ["replay-test", file, "--config", recordedConfig, "--verbose"])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("iteration 3 logs:")
    expect(result.stdout).toContain("info at 2")
  })

  it("finds a changed definition: exit 1, ✗ on the diverging iteration and a diff naming the changed field", async () => {
    const result = await tasklane(offline, ["replay-test", file, "--config", changedConfig])
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^4\s+done\s+done\s+✗$/m)
    expect(result.stdout).toMatch(/^3\s+continue\s+continue\s+✓$/m)
    expect(result.stdout).toContain("iteration 4: - recorded, + replayed\n  total\n  - 3\n  + 4\n")
    expect(result.stderr).toBe(`tasklane: 1 of 4 replayed iterations of ${taskId} diverged from the recording\n`)
  })

  it("reports a run() that hangs as a timeout divergence instead of hanging", async () => {
    const started = Date.now()
    const result = await tasklane(offline, ["replay-test", file, "--config", hangingConfig, "--timeout", "0.3", "--json"])
    expect(result.code).toBe(1)
    expect(Date.now() - started).toBeLessThan(15_000)
    const doc = JSON.parse(result.stdout)
    expect(doc.iterations[0].replayed).toEqual({ kind: "timeout", value: "iteration 1 ran past its 0.3 s timeout" })
    expect(doc.iterations[3].match).toBe(true) // n = 3 answers done before asking the hanging service
    expect(doc.divergences.map((d: { iteration: number }) => d.iteration)).toEqual([1, 2, 3])
  })

  it("replays a task of the live daemon by id", async () => {
    const result = await tasklane(dir, ["replay-test", taskId, "--config", recordedConfig, "--no-examples"])
    expect(result.stderr).toBe("")
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("4 of 4 replayed iterations match")
  })

  it("prints one stable --json document", async () => {
    const doc = JSON.parse(await ok(offline, ["replay-test", file, "--config", recordedConfig, "--json"]))
    expect(doc).toEqual({
      taskId,
      definitionId: "countTo",
      iterations: [
        ...[1, 2, 3].map((i) => ({
          iteration: i,
          attempt: 1,
          recorded: { kind: "continue", value: { input: { n: i }, delayed: false } },
          replayed: { kind: "continue", value: { input: { n: i }, delayed: false } },
          match: true,
        })),
        { iteration: 4, attempt: 1, recorded: { kind: "done", value: { total: 3 } }, replayed: { kind: "done", value: { total: 3 } }, match: true },
      ],
      divergences: [],
    })
    const diverged = await tasklane(offline, ["replay-test", file, "--config", changedConfig, "--json"])
    expect(diverged.code).toBe(1)
    expect(JSON.parse(diverged.stdout).divergences).toEqual([{ iteration: 4, attempt: 1, diff: ["total", "- 3", "+ 4"] }])
  })

  it("exits 2 with one sentence for an unknown definition, a bad file or a missing file", async () => {
    const unknown = await tasklane(offline, ["replay-test", file, "--no-examples"])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toBe('tasklane: no task definition "countTo" is loaded (no --config, no ./tasklane.config.ts, and --no-examples)\n')
    const bad = join(files, "bad.json")
    writeFileSync(bad, '{"format":"something else"}')
    const notHistory = await tasklane(offline, ["replay-test", bad, "--config", recordedConfig])
    expect(notHistory.code).toBe(2)
    expect(notHistory.stderr).toBe(`tasklane: ${bad} is not a Tasklane history file (no "events" array)\n`)
    const missing = await tasklane(offline, ["replay-test", join(files, "missing.json"), "--config", recordedConfig])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^tasklane: cannot read history file .*missing\.json/)
  })

  it("exits 3 when a task id is given and no daemon answers", async () => {
    const result = await tasklane(offline, ["replay-test", taskId, "--config", recordedConfig])
    expect(result.code).toBe(3)
  })
})
