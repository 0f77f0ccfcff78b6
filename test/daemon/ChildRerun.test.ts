/**
 * A child task triggered from `run()` is triggered once per call site, even
 * when the iteration runs again: each child trigger carries a key derived
 * from the parent, its iteration and the order of the call, so the re-run
 * after a kill -9 (between the children's triggers and the parent's outcome)
 * gets the existing children back instead of new ones.
 */
import { afterAll, describe, expect, it } from "vitest"
import { getTask, poll, restartable, waitFor } from "../support/TaskPolling.ts"

const { daemons, open, close } = restartable()
afterAll(close)

describe("children of an iteration that runs again", () => {
  it("are the same tasks after a kill -9 and the re-run", async () => {
    let { c } = await open()
    const parent = (await c.call((client) => client.Trigger({ definitionId: "parent", input: { children: 2 } }))).context.taskId
    const children = () => c.call((client) => client.ListTasks({ parentId: parent })).then((page) => page.tasks.map((t) => t.context.taskId).sort())
    const first = await poll(async () => {
      const ids = await children()
      return ids.length === 2 ? ids : undefined
    })
    expect(await daemons.at(-1)!.stop("SIGKILL")).toBe("SIGKILL")
    ;({ c } = await open())
    // The parent's iteration 1 runs again (attempt 2) and triggers its two children again.
    await poll(async () => ((await getTask(c, parent)).context.attempt === 2 ? true : undefined))
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(await children()).toEqual(first)
    for (const child of first) expect((await getTask(c, child)).context.idempotencyKey).toMatch(new RegExp(`^child:${parent}:1:[12]$`))
    await c.call((client) => client.Abort({ taskId: parent }))
    await waitFor(c, parent, "aborted", { timeoutMs: 10_000 })
    for (const child of first) await waitFor(c, child, "aborted", { timeoutMs: 10_000 })
  }, 60_000)
})
