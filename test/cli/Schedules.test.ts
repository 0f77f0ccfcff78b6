/**
 * `tasklane schedule` against a real daemon: a bad cron, zone or input is
 * refused at add (exit 2, nothing stored); a per-second schedule fires,
 * pauses, resumes, triggers by hand and is removed; and after kill -9 and a
 * restart every slot has exactly one task (no slot fired twice, and with
 * catch-up all the slots missed while the daemon was down fire too); with
 * overlap queue one slot is held while a task runs and fires when it ends,
 * also when the daemon was killed meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Replay } from "@tasklane/core"
import type { Connection } from "@tasklane/daemon/client"
import { ok, tasklane } from "../support/CliProcess.ts"
import { poll, restartable, sleep } from "../support/TaskPolling.ts"

const home = restartable()
beforeAll(() => home.open())
afterAll(() => home.close())

const scheduled = async (c: Connection, name: string): Promise<ReadonlyArray<Replay.TaskState>> => {
  const page = await c.call((client) => client.ListTasks({ search: name, limit: 1000 }))
  return page.tasks.filter((task) => task.context.name === name)
}

const slotOf = (task: Replay.TaskState) => Date.parse(task.context.idempotencyKey!.split(":").slice(2).join(":"))

describe("tasklane schedule", () => {
  it("refuses a bad cron, a bad time zone, invalid input and an unknown definition with exit 2, storing nothing", async () => {
    const dir = home.dataDir
    const cron = await tasklane(dir, ["schedule", "add", "quick", "--cron", "61 * * * *"])
    expect(cron.code).toBe(2)
    expect(cron.stderr).toMatch(/invalid cron: "61 \* \* \* \*" is not a cron expression/)
    const zone = await tasklane(dir, ["schedule", "add", "quick", "--cron", "* * * * *", "--tz", "Mars/Olympus"])
    expect(zone.code).toBe(2)
    expect(zone.stderr).toContain('invalid tz: "Mars/Olympus" is not a time zone')
    const input = await tasklane(dir, ["schedule", "add", "validated", "--cron", "* * * * *", "--input", '{"name":"","count":0,"tags":[]}'])
    expect(input.code).toBe(2)
    expect(input.stderr).toContain('invalid input for task definition "validated"')
    expect(input.stderr).toMatch(/count: /)
    const unknown = await tasklane(dir, ["schedule", "add", "nope", "--cron", "* * * * *"])
    expect(unknown.code).toBe(2)
    const missing = await tasklane(dir, ["schedule", "pause", "s0000000000"])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('no schedule with id "s0000000000"')
    expect(JSON.parse(await ok(dir, ["schedule", "ls", "--json"]))).toEqual([])
  })

  it("fires every second, pauses, resumes, triggers now and is removed", async () => {
    const dir = home.dataDir
    const c = home.connections.at(-1)!
    const id = (await ok(dir, ["schedule", "add", "quick", "--cron", "* * * * * *", "--name", "tick", "--overlap", "allow", "--input", '{"a":1}'])).trim()
    expect(id).toMatch(/^s[0-9a-f]{10}$/)
    const fired = await poll(async () => ((await scheduled(c, "tick")).length >= 2 ? await scheduled(c, "tick") : undefined), { timeoutMs: 8000 })
    for (const task of fired) {
      expect(task.context.definitionId).toBe("quick")
      expect(task.context.input).toEqual({ a: 1 })
      expect(task.context.idempotencyKey).toMatch(new RegExp(`^schedule:${id}:\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.000Z$`))
    }
    const [listed] = JSON.parse(await ok(dir, ["schedule", "ls", "--json"]))
    expect(listed).toMatchObject({ id, definitionId: "quick", cron: "* * * * * *", paused: false, overlap: "allow", catchUp: "one" })
    expect(listed.nextDue).toBeGreaterThan(Date.now() - 2000)

    expect(JSON.parse(await ok(dir, ["schedule", "pause", id, "--json"])).paused).toBe(true)
    await sleep(300)
    const atPause = (await scheduled(c, "tick")).length
    await sleep(2200)
    expect((await scheduled(c, "tick")).length).toBe(atPause)
    expect(await ok(dir, ["schedule", "ls"])).toContain("paused")

    const manual = (await ok(dir, ["schedule", "trigger-now", id])).trim()
    const manualTask = (await scheduled(c, "tick")).find((task) => task.context.taskId === manual)
    expect(manualTask?.context.idempotencyKey).toMatch(`schedule:${id}:now:`)

    await ok(dir, ["schedule", "resume", id])
    await poll(async () => ((await scheduled(c, "tick")).length >= atPause + 3 ? true : undefined), { timeoutMs: 8000 })

    expect(await ok(dir, ["schedule", "rm", id])).toContain(`removed ${id}`)
    expect(JSON.parse(await ok(dir, ["schedule", "ls", "--json"]))).toEqual([])
    await sleep(300)
    const atRemove = (await scheduled(c, "tick")).length
    await sleep(1500)
    expect((await scheduled(c, "tick")).length).toBe(atRemove)
  })

  it("skips a slot while the last firing's task runs (overlap skip)", async () => {
    const dir = home.dataDir
    const c = home.connections.at(-1)!
    const id = (await ok(dir, ["schedule", "add", "slow", "--cron", "* * * * * *", "--name", "overlap", "--input", '{"ms":5000}'])).trim()
    const first = await poll(async () => (await scheduled(c, "overlap"))[0], { timeoutMs: 5000 })
    await sleep(2000)
    // Every second is a slot, but the first task still sleeps: its slots are skipped, not started.
    expect(await scheduled(c, "overlap")).toHaveLength(1)
    const [listed] = JSON.parse(await ok(dir, ["schedule", "ls", "--json"]))
    expect(listed.lastFiredSlot).toBeGreaterThan(slotOf(first))
    expect(listed.lastTaskId).toBe(first.context.taskId)
    expect(await ok(dir, ["schedule", "ls"])).toMatch(new RegExp(`${first.context.taskId} (triggered|running)`))
    await ok(dir, ["schedule", "rm", id])
  })

  it("queues one slot while the last firing's task runs and fires it when that task finishes (overlap queue)", async () => {
    const dir = home.dataDir
    const c = home.connections.at(-1)!
    const id = (await ok(dir, ["schedule", "add", "slow", "--cron", "* * * * * *", "--name", "queued", "--overlap", "queue", "--input", '{"ms":5000}'])).trim()
    const first = await poll(async () => (await scheduled(c, "queued"))[0], { timeoutMs: 5000 })
    // While the first task sleeps, the next slot is held and shown.
    const held = await poll(async () => (await c.call((client) => client.ScheduleList())).find((s) => s.id === id && s.queuedSlot !== undefined), {
      timeoutMs: 4000,
    })
    expect(held.queuedSlot).toBe(slotOf(first) + 1000)
    expect(await ok(dir, ["schedule", "ls"])).toContain("+queued")
    // The first task finishes: the held slot fires right after, as the second task (its own slot's key).
    const second = await poll(async () => (await scheduled(c, "queued")).find((task) => task.context.taskId !== first.context.taskId), {
      timeoutMs: 10_000,
    })
    expect(slotOf(second)).toBe(slotOf(first) + 1000)
    const finished = await c.call((client) => client.GetTask({ taskId: first.context.taskId }))
    expect(finished.status).toBe("done")
    expect(second.context.createdAt).toBeGreaterThanOrEqual(finished.context.finishedAt!)
    expect(second.context.createdAt - finished.context.finishedAt!).toBeLessThan(1000)
    // The third is the slot held while the second ran: the slots that came while one was held were skipped, not queued.
    const third = await poll(async () => (await scheduled(c, "queued")).find((task) => slotOf(task) > slotOf(second)), { timeoutMs: 12_000 })
    expect(slotOf(third)).toBeGreaterThanOrEqual(second.context.createdAt - 1000)
    await ok(dir, ["schedule", "rm", id])
    // Never two at once: each task was created after the one before it finished.
    const tasks = await Promise.all((await scheduled(c, "queued")).map((task) => c.call((client) => client.GetTask({ taskId: task.context.taskId }))))
    const byCreation = [...tasks].sort((a, b) => a.context.createdAt - b.context.createdAt)
    for (let i = 1; i < byCreation.length; i++) {
      expect(byCreation[i]!.context.createdAt).toBeGreaterThanOrEqual(byCreation[i - 1]!.context.finishedAt ?? Number.POSITIVE_INFINITY)
    }
  })

  it("keeps a held slot across kill -9 and fires it once the re-run task finishes (overlap queue)", async () => {
    const dir = home.dataDir
    let c = home.connections.at(-1)!
    const id = (await ok(dir, ["schedule", "add", "slow", "--cron", "* * * * * *", "--name", "held", "--overlap", "queue", "--input", '{"ms":4000}'])).trim()
    const first = await poll(async () => (await scheduled(c, "held"))[0], { timeoutMs: 5000 })
    await poll(async () => (await c.call((client) => client.ScheduleList())).find((s) => s.id === id && s.queuedSlot !== undefined), { timeoutMs: 4000 })
    await home.daemons.at(-1)!.stop("SIGKILL")
    c = (await home.open()).c
    const [listed] = (await c.call((client) => client.ScheduleList())).filter((s) => s.id === id)
    expect(listed!.queuedSlot).toBe(slotOf(first) + 1000)
    // The interrupted iteration runs again; only when it is done does the held slot fire, once.
    const second = await poll(async () => (await scheduled(c, "held")).find((task) => task.context.taskId !== first.context.taskId), {
      timeoutMs: 15_000,
    })
    expect(slotOf(second)).toBe(slotOf(first) + 1000)
    const finished = await c.call((client) => client.GetTask({ taskId: first.context.taskId }))
    expect(finished.status).toBe("done")
    expect(second.context.createdAt).toBeGreaterThanOrEqual(finished.context.finishedAt!)
    await ok(dir, ["schedule", "rm", id])
  })

  it("fires each slot once across kill -9 and a restart, catching up the slots it missed", async () => {
    const dir = home.dataDir
    let c = home.connections.at(-1)!
    const id = (await ok(dir, ["schedule", "add", "quick", "--cron", "* * * * * *", "--name", "crash", "--catch-up", "all", "--overlap", "allow"])).trim()
    await poll(async () => ((await scheduled(c, "crash")).length >= 3 ? true : undefined), { timeoutMs: 8000 })
    await home.daemons.at(-1)!.stop("SIGKILL")
    const killedAt = Date.now()
    await sleep(2500)
    c = (await home.open()).c
    // Catch-up fills the gap; then it keeps firing live.
    await poll(async () => ((await scheduled(c, "crash")).some((task) => slotOf(task) > killedAt + 3000) ? true : undefined), { timeoutMs: 8000 })
    const tasks = await scheduled(c, "crash")
    const slots = tasks.map(slotOf).sort((a, b) => a - b)
    expect(new Set(slots).size).toBe(tasks.length)
    // Every second from the first slot to the last has exactly one task: none fired twice, none lost.
    expect(slots.at(-1)! - slots[0]!).toBe((slots.length - 1) * 1000)
    const [listed] = JSON.parse(await ok(dir, ["schedule", "ls", "--json"]))
    expect(listed.id).toBe(id)
  })
})
