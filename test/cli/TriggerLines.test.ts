/**
 * `tasklane trigger <definitionId> --input-lines FILE` against a real daemon:
 * one task per JSON line (TriggerMany underneath), a summary naming each
 * refused line with its reason and exit 2 when any was refused, `--json`
 * records per line, stdin with `-`, and per-line idempotency keys that make
 * a second run of the same file trigger nothing new.
 */
import { spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { tasklane } from "../support/CliProcess.ts"
import { bin } from "../support/DaemonProcess.ts"
import { daemonForFile } from "../support/FileDaemon.ts"
import { waitFor } from "../support/TaskPolling.ts"

let c: Connection
let dir: string

daemonForFile((file) => ({ c, dir } = file))

const lines = [
  '{"name":"a","count":1,"tags":["x"]}',
  "",
  '{"name":"b","count":99,"tags":[]}',
  "{not json",
  '{"name":"c","count":3,"tags":["x","y"]}',
].join("\n") + "\n"

const totalTasks = async () => Object.values((await c.call((client) => client.Info())).counts).reduce((sum, n) => sum + n, 0)
const countOf = async (definitionId: string) => (await c.call((client) => client.ListTasks({ definitionId, limit: 1000 }))).tasks.length

describe("tasklane trigger --input-lines", () => {
  it("triggers the good lines, names each bad line with its reason, exits 2, and stores nothing for the bad ones", async () => {
    const file = join(dir, "inputs.jsonl")
    writeFileSync(file, lines)
    const run = await tasklane(dir, ["trigger", "validated", "--input-lines", file])
    expect(run.code).toBe(2)
    const out = run.stdout.trim().split("\n")
    expect(out[0]).toBe("2 of 4 line(s) triggered, 2 refused")
    expect(out[1]).toMatch(/^line 3: invalid input: count: /)
    expect(out[2]).toMatch(/^line 4: not valid JSON/)
    expect(run.stderr).toContain("2 of 4 line(s) refused")
    expect(await countOf("validated")).toBe(2)
  })

  it("--json prints one record per line, in line order; the triggered tasks run to done", async () => {
    const file = join(dir, "inputs-json.jsonl")
    writeFileSync(file, lines)
    const run = await tasklane(dir, ["trigger", "validated", "--input-lines", file, "--json"])
    expect(run.code).toBe(2)
    const records = run.stdout.trim().split("\n").map((l) => JSON.parse(l))
    expect(records.map((r) => r.line)).toEqual([1, 3, 4, 5])
    expect(records[1].refused).toMatchObject({ _tag: "InvalidInput", issues: [{ path: ["count"] }] })
    expect(records[2].refused._tag).toBe("UsageError")
    const done = await waitFor(c, records[3].taskId, "done")
    expect(done.context.output).toEqual({ total: 6 })
  })

  it("reads stdin with -, and a second run with the same --idempotency-key triggers nothing new", async () => {
    const good = Array.from({ length: 2_500 }, (_, i) => JSON.stringify({ n: i })).join("\n")
    const run = (args: ReadonlyArray<string>) =>
      spawnSync(process.execPath, [bin, "trigger", "quick", "--input-lines", "-", ...args, "--data-dir", dir], { input: good, encoding: "utf8" })
    const before = await totalTasks()
    const first = run(["--idempotency-key", "import-1", "--json"])
    expect(first.status).toBe(0)
    const records = first.stdout.trim().split("\n").map((l) => JSON.parse(l))
    expect(records).toHaveLength(2_500)
    expect(records.every((r) => r.existing === false)).toBe(true)
    const second = run(["--idempotency-key", "import-1"])
    expect(second.status).toBe(0)
    expect(second.stdout.trim()).toBe("2500 of 2500 line(s) triggered (2500 already existed by idempotency key), 0 refused")
    const last = await waitFor(c, records[2_499].taskId, "done")
    expect(last.context.output).toEqual({ echoed: { n: 2_499 } })
    expect(await totalTasks()).toBe(before + 2_500)
  })

  it("refuses --input-lines with --input or --wait (exit 2)", async () => {
    const withInput = await tasklane(dir, ["trigger", "quick", "--input-lines", "-", "--input", "{}"])
    expect(withInput.code).toBe(2)
    expect(withInput.stderr).toContain("--input-lines")
    const withWait = await tasklane(dir, ["trigger", "quick", "--input-lines", "-", "--wait"])
    expect(withWait.code).toBe(2)
  })

  it("refuses a file with no input lines (exit 2), rather than reporting 0 of 0 triggered for any definition id", async () => {
    const empty = join(dir, "blank.jsonl")
    writeFileSync(empty, "\n\n")
    const result = await tasklane(dir, ["trigger", "noSuchDefinition", "--input-lines", empty])
    expect(result.stderr).toBe(`tasklane: --input-lines ${empty} has no input lines\n`)
    expect(result.code).toBe(2)
  })
})
