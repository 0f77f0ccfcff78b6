/**
 * `tasklane prune` against a real daemon and real LevelDB: a dry run counts
 * and changes nothing; a prune removes the finished tasks (not the waiting
 * one, not the parent of a waiting child) and writes their history files
 * first, which `replay --file` reads; the pruned tasks are gone from `ls`
 * and `show`; `daemon status` shows the size on disk and the oldest retained
 * position; Subscribe from a pruned position fails with PositionPruned while
 * from 0 it sends what is retained; a restart finds no damage; bad flags
 * exit 2.
 */
import { Stream } from "effect"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { HistoryFile } from "@tasklane/core"
import { ok, tasklane } from "../support/CliProcess.ts"
import { rejection, restartable, waitFor } from "../support/TaskPolling.ts"

const home = restartable()
const archive = mkdtempSync(join(tmpdir(), "tl-archive-"))
beforeAll(() => home.open())
afterAll(async () => {
  await home.close()
  rmSync(archive, { recursive: true, force: true })
})

const listed = async (dir: string): Promise<Array<string>> =>
  JSON.parse(await ok(dir, ["ls", "--limit", "1000", "--json"])).tasks.map((t: { context: { taskId: string } }) => t.context.taskId)

describe("tasklane prune", () => {
  it("refuses a bad duration or status with exit 2", async () => {
    const duration = await tasklane(home.dataDir, ["prune", "--older-than", "soon"])
    expect(duration.code).toBe(2)
    expect(duration.stderr).toContain("--older-than must be a duration")
    const status = await tasklane(home.dataDir, ["prune", "--status", "done,running"])
    expect(status.code).toBe(2)
    expect(status.stderr).toContain("--status takes a comma-separated list")
  })

  it("dry-runs, prunes with --export-to, and leaves waiting tasks and parents of waiting children", async () => {
    const dir = home.dataDir
    const c = home.connections.at(-1)!
    const finished: Array<string> = []
    for (let i = 0; i < 5; i++) {
      const task = await c.call((client) => client.Trigger({ definitionId: "quick", input: { i }, idempotencyKey: `q${i}` }))
      finished.push((await waitFor(c, task.context.taskId, "done", { settled: true })).context.taskId)
    }
    const waiting = await c.call((client) => client.Trigger({ definitionId: "counter", input: { n: 0, target: 3, delaySeconds: 600 } }))
    await waitFor(c, waiting.context.taskId, "continue")
    const parent = await c.call((client) => client.Trigger({ definitionId: "quick", input: {} }))
    await waitFor(c, parent.context.taskId, "done", { settled: true })
    const child = await c.call((client) =>
      client.Trigger({ definitionId: "counter", input: { n: 0, target: 3, delaySeconds: 600 }, parentId: parent.context.taskId })
    )
    await waitFor(c, child.context.taskId, "continue")
    const everything = await listed(dir)
    const infoBefore = await c.call((client) => client.Info())

    const dry = JSON.parse(await ok(dir, ["prune", "--older-than", "0s", "--dry-run", "--json"]))
    expect(dry).toMatchObject({ dryRun: true, tasks: 5, kept: 1, prunedThrough: 0 })
    expect([...dry.taskIds].sort()).toEqual([...finished].sort())
    expect((await listed(dir)).sort()).toEqual([...everything].sort())

    const human = await ok(dir, ["prune", "--older-than", "0s", "--export-to", archive])
    expect(human).toMatch(/^removed 5 finished task\(s\) \(done, error, aborted, maxIterations\) that finished before .*: \d+ events/m)
    expect(human).toContain("kept 1 with an unfinished child or a hook due")
    expect(human).toContain(`exported their histories to ${archive}`)
    expect(human).toMatch(/store size {3}[\d.]+ [KM]?B -> [\d.]+ [KM]?B/)
    expect(human).toMatch(/oldest retained position \d+ \(pruned through \d+\)/)

    // The history files come first, in the export format, and replay without a daemon.
    expect(readdirSync(archive).sort()).toEqual(finished.map((id) => `${id}.json`).sort())
    for (const id of finished) {
      const file = join(archive, `${id}.json`)
      const doc = JSON.parse(readFileSync(file, "utf8"))
      expect(doc).toMatchObject({ format: HistoryFile.format, formatVersion: 1, taskId: id, definitionId: "quick" })
      expect(HistoryFile.envelopesOf(doc)!.map((e: any) => e.type)).toContain("TaskDone")
      const replayed = JSON.parse(await ok(dir, ["replay", "--file", file, "--json"]))
      expect(replayed.status).toBe("done")
    }

    // Gone from the listings and from show; the others stay.
    const after = await listed(dir)
    expect(after.sort()).toEqual(everything.filter((id) => !finished.includes(id)).sort())
    expect(after).toEqual(expect.arrayContaining([waiting.context.taskId, parent.context.taskId, child.context.taskId]))
    expect((await tasklane(dir, ["show", finished[0]!])).code).toBe(2)
    // Its idempotency key is free again.
    const again = await c.call((client) => client.Trigger({ definitionId: "quick", input: {}, idempotencyKey: "q0" }))
    expect(finished).not.toContain(again.context.taskId)

    // daemon status: size on disk and the retained range.
    const status = await ok(dir, ["daemon", "status"])
    expect(status).toMatch(/store size {3}[\d.]+ [KM]?B; oldest retained position \d+ \(pruned through \d+\)/)
    const info = JSON.parse(await ok(dir, ["daemon", "status", "--json"]))
    expect(info.retention.prunedThrough).toBeGreaterThan(0)
    expect(info.retention.prunedThrough).toBeLessThanOrEqual(infoBefore.head)
    expect(info.retention.sizeOnDisk).toBeGreaterThan(0)
    expect(info.head).toBeGreaterThan(infoBefore.head)

    // Subscribe: from a pruned position a typed error; from 0 everything retained.
    const pruned = await rejection(c.call((client) => Stream.runCollect(client.Subscribe({ fromPosition: 1 }))))
    expect(pruned).toMatchObject({ _tag: "PositionPruned", requested: 1, prunedThrough: info.retention.prunedThrough })
    const retained = await c.call((client) =>
      client.Subscribe({ fromPosition: 0 }).pipe(Stream.takeUntil((e) => e.position >= info.head), Stream.runCollect)
    )
    const streams = new Set<string>(Array.from(retained, (e) => e.stream))
    for (const id of finished) expect(streams.has(id)).toBe(false)
    expect(streams.has(waiting.context.taskId)).toBe(true)
  })

  it("a restart after a prune opens the store without damage and keeps the watermark", async () => {
    const dir = home.dataDir
    const before = JSON.parse(await ok(dir, ["daemon", "status", "--json"]))
    await home.daemons.at(-1)!.stop("SIGTERM")
    await home.open()
    const after = JSON.parse(await ok(dir, ["daemon", "status", "--json"]))
    expect(after.store.damage).toEqual([])
    expect(after.retention.prunedThrough).toBe(before.retention.prunedThrough)
    expect(after.head).toBeGreaterThanOrEqual(before.head)
  })
})
