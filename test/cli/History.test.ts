/**
 * `tasklane history`, `replay` and `export` against a real daemon: the
 * timeline, the client-side fold equal to `Replay.scan`, and an exported
 * file that `replay --file` reads with no daemon at all.
 */
import { Replay, TaskEvent } from "@tasklane/core"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Connection } from "@tasklane/daemon/client"
import { ok, tasklane } from "../support/CliProcess.ts"
import { removeDataDir, tempDataDir } from "../support/DaemonProcess.ts"
import { daemonForFile } from "../support/FileDaemon.ts"
import { history, waitFor } from "../support/TaskPolling.ts"

let c: Connection
let dir: string
let offline: string
let taskId: string

daemonForFile((file) => ({ c, dir } = file))

beforeAll(async () => {
  offline = tempDataDir()
  taskId = (await ok(dir, ["trigger", "counter", "--input", '{"n":0,"target":2}'])).trim()
  await waitFor(c, taskId, "done")
})

afterAll(async () => {
  removeDataDir(offline)
})

const scanned = async () => {
  const envelopes = await history(c, taskId)
  const states = Replay.scan(envelopes.map((e) => TaskEvent.fromEnvelope(JSON.parse(JSON.stringify(e)))))
  if (states instanceof Replay.ReplayError) throw states
  return { envelopes, states }
}

describe("tasklane CLI: history, replay, export", () => {
  it("prints the timeline: time, event, iteration, iteration duration", async () => {
    const { envelopes } = await scanned()
    const text = await ok(dir, ["history", taskId])
    const rows = text.trim().split("\n")
    expect(rows[0]).toMatch(/^#\s+TIME\s+EVENT\s+ITERATION\s+DURATION\s+STATUS$/)
    expect(rows).toHaveLength(envelopes.length + 1)
    expect(rows.at(-1)).toMatch(/^\d+\s+\S+Z\s+TaskDone\s+3\s+\d+ ms\s+done$/)
    const json = JSON.parse(await ok(dir, ["history", taskId, "--json"]))
    expect(json.map((r: { event: string }) => r.event)).toEqual(envelopes.map((e) => e.type))
    expect(json.filter((r: { durationMs?: number }) => r.durationMs !== undefined)).toHaveLength(3)
  })

  it("replay --at N --json equals Replay.scan(events)[N-1]; without --at, the final state", async () => {
    const { states } = await scanned()
    for (const n of [1, 2, 5, states.length]) {
      expect(JSON.parse(await ok(dir, ["replay", taskId, "--at", String(n), "--json"]))).toEqual(states[n - 1])
    }
    expect(JSON.parse(await ok(dir, ["replay", taskId, "--json"]))).toEqual(states.at(-1))
    expect(await ok(dir, ["replay", taskId, "--at", "2"])).toMatch(/^after event 2 of \d+: running\n\{/)
    const outOfRange = await tasklane(dir, ["replay", taskId, "--at", String(states.length + 1)])
    expect(outOfRange.code).toBe(2)
    expect(outOfRange.stderr).toContain(`--at must be between 1 and ${states.length}`)
  })

  it("exports a self-contained history file that replay --file reads without a daemon", async () => {
    const { envelopes, states } = await scanned()
    const file = join(dir, "export.json")
    expect(await ok(dir, ["export", taskId, "-o", file])).toContain(`wrote ${envelopes.length} events`)
    const doc = JSON.parse(readFileSync(file, "utf8"))
    expect(doc).toMatchObject({ format: "tasklane-history", formatVersion: 1, taskId, definitionId: "counter" })
    expect(Date.parse(doc.exportedAt)).not.toBeNaN()
    expect(doc.events).toEqual(JSON.parse(JSON.stringify(envelopes)))
    expect(JSON.parse(await ok(dir, ["export", taskId])).events).toHaveLength(envelopes.length)

    expect(JSON.parse(await ok(offline, ["replay", "--file", file, "--json"]))).toEqual(states.at(-1))
    expect(JSON.parse(await ok(offline, ["replay", "--file", file, "--at", "3", "--json"]))).toEqual(states[2])
  })

  it("replay --file fails with a one-sentence error on a corrupted history", async () => {
    const corrupted = join(import.meta.dirname, "..", "fixtures", "histories", "corrupted-done-before-start.json")
    const run = await tasklane(offline, ["replay", "--file", corrupted])
    expect(run.code).toBe(1)
    expect(run.stderr.trim()).toMatch(/^tasklane: event TaskDone at position \d+ \(version \d+\) is not accepted in state \w+/)
  })
})
