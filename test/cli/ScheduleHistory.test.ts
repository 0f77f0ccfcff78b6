/**
 * Schedules are records in the event store, against a real daemon: a data
 * dir of an earlier version (`schedules.jsonl`) is imported at start and the
 * file renamed; `tasklane schedule history` prints every record of a schedule
 * (fired with its slot and task, paused, triggered by hand, removed), also
 * for a removed schedule and after kill -9 and a restart; an unknown id
 * exits 2 like the other schedule commands.
 */
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ok, tasklane } from "../support/CliProcess.ts"
import { poll, restartable } from "../support/TaskPolling.ts"

const home = restartable()

/** Records exactly as the earlier version wrote them: a paused schedule with one firing. */
const legacyLines = [
  '{"_tag":"ScheduleCreated","id":"s00000000aa","at":1700000000000,"definitionId":"quick","name":"legacy","cron":"0 3 * * *","input":{"a":1},"overlap":"skip","catchUp":"one"}',
  '{"_tag":"ScheduleFired","id":"s00000000aa","at":1700010800000,"slot":1700010800000,"taskId":"t-legacy"}',
  '{"_tag":"SchedulePaused","id":"s00000000aa","at":1700020000000}',
]

beforeAll(async () => {
  writeFileSync(join(home.dataDir, "schedules.jsonl"), `${legacyLines.join("\n")}\n`, { mode: 0o600 })
  await home.open()
})
afterAll(() => home.close())

const historyJson = async (id: string): Promise<Array<Record<string, unknown>>> => JSON.parse(await ok(home.dataDir, ["schedule", "history", id, "--json"]))

describe("schedules in the event store", () => {
  it("imports the schedules file of an earlier version at start and renames it", async () => {
    const dir = home.dataDir
    expect(existsSync(join(dir, "schedules.jsonl"))).toBe(false)
    expect(existsSync(join(dir, "schedules.jsonl.imported"))).toBe(true)
    const [listed] = JSON.parse(await ok(dir, ["schedule", "ls", "--json"]))
    expect(listed).toMatchObject({ id: "s00000000aa", name: "legacy", paused: true, lastFiredSlot: 1700010800000, lastTaskId: "t-legacy" })
    expect((await historyJson("s00000000aa")).map((r) => r._tag)).toEqual(["ScheduleCreated", "ScheduleFired", "SchedulePaused"])
  })

  it("prints a schedule's history, keeps a removed one's, and keeps it across kill -9 and a restart", async () => {
    const dir = home.dataDir
    const c = home.connections.at(-1)!
    const id = (await ok(dir, ["schedule", "add", "quick", "--cron", "* * * * * *", "--name", "told", "--overlap", "allow"])).trim()
    await poll(async () => ((await historyJson(id)).some((r) => r._tag === "ScheduleFired") ? true : undefined), { timeoutMs: 8000 })
    await ok(dir, ["schedule", "pause", id])
    const manual = (await ok(dir, ["schedule", "trigger-now", id])).trim()
    await ok(dir, ["schedule", "rm", id])

    const records = await historyJson(id)
    const kinds = records.map((r) => r._tag)
    expect(kinds[0]).toBe("ScheduleCreated")
    expect(kinds.slice(-3)).toEqual(["SchedulePaused", "ScheduleTriggered", "ScheduleRemoved"])
    const fired = records.find((r) => r._tag === "ScheduleFired")!
    expect(fired).toMatchObject({ id, slot: expect.any(Number), taskId: expect.any(String) })
    const task = await c.call((client) => client.GetTask({ taskId: fired.taskId as never }))
    expect(task.context.idempotencyKey).toBe(`schedule:${id}:${new Date(fired.slot as number).toISOString()}`)
    expect(records.find((r) => r._tag === "ScheduleTriggered")).toMatchObject({ taskId: manual })

    const human = await ok(dir, ["schedule", "history", id])
    const lines = human.trimEnd().split("\n")
    expect(lines[0]).toMatch(/^TIME\s+KIND\s+DETAILS/)
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z\s+created\s+quick "told"; cron \* \* \* \* \* \* \(UTC\); overlap allow/)
    expect(human).toMatch(new RegExp(`fired\\s+slot ${new Date(fired.slot as number).toISOString()}; task ${fired.taskId}`))
    expect(human).toContain(`by hand; task ${manual}`)
    expect(lines.at(-1)).toMatch(/\sremoved\s*$/)
    expect(lines).toHaveLength(records.length + 1)

    await home.daemons.at(-1)!.stop("SIGKILL")
    await home.open()
    expect(await historyJson(id)).toEqual(records)
    expect((await historyJson("s00000000aa")).map((r) => r._tag)).toEqual(["ScheduleCreated", "ScheduleFired", "SchedulePaused"])
    // Imported once: the renamed file is not read again.
    expect(JSON.parse(await ok(dir, ["schedule", "ls", "--json"])).map((s: { id: string }) => s.id)).toEqual(["s00000000aa"])
  })

  it("an unknown schedule id exits 2 naming it; --help describes the command", async () => {
    const missing = await tasklane(home.dataDir, ["schedule", "history", "s0000000000"])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('no schedule with id "s0000000000"')
    const help = await tasklane(home.dataDir, ["schedule", "history", "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("A removed schedule's history stays readable")
  })
})
