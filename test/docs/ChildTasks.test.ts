/**
 * The guide's child-task example (docs/examples/BackupAll.ts, section 8) on
 * the real daemon with the guide's own config, as the guide describes it:
 * children are tasks of their own under the parent, the parent watches them
 * to its end, a refused child fails the parent's iteration, and aborting the
 * parent aborts the children that have not finished while a finished one
 * keeps its outcome.
 */
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, poll, waitFor } from "../support/TaskPolling.ts"

const config = join(import.meta.dirname, "..", "..", "docs", "examples", "tasklane.config.ts")
let dataDir: string
let daemon: DaemonProcess
let c: Connection

beforeAll(async () => {
  dataDir = tempDataDir()
  daemon = await startDaemon({ dataDir, args: ["--config", config, "--no-examples", "--abort-grace", "1", "--shutdown-grace", "1"] })
  c = await connectTo(daemon)
})

afterAll(async () => {
  await c?.close()
  await daemon?.stop("SIGKILL")
  removeDataDir(dataDir)
})

const backupAll = async (databases: ReadonlyArray<string>) =>
  (await c.call((client) => client.Trigger({ definitionId: "backupAll", input: { databases } }))).context.taskId

const children = (parentId: string) =>
  c.call((client) => client.ListTasks({ parentId: parentId as never, limit: 100 })).then((page) =>
    page.tasks.map((task) => ({ name: task.context.name, status: task.status, abortMessage: task.context.abortMessage }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)))
  )

/**
 * The first iterations start cold worker threads (the parent's, and one for
 * the child's onBeforeTrigger), each loading the guide's config: seconds on
 * a busy machine, and the three tests start theirs at once.
 */
const coldStart = 30_000

describe.concurrent("8. child tasks (backupAll) on the daemon", () => {
  it("starts one backup child per database and ends done once they all have", async () => {
    const parentId = await backupAll(["crm"])
    const done = await waitFor(c, parentId, "done", { timeoutMs: coldStart + 10_000 })
    expect(done.context.output).toEqual({ backedUp: ["crm"], failed: [] })
    expect(await children(parentId)).toEqual([{ name: "backup crm", status: "done", abortMessage: undefined }])
  }, 2 * coldStart)

  it("fails its iteration when a child is refused (backup's onBeforeTrigger refuses production)", async () => {
    const parentId = await backupAll(["production"])
    const failed = await waitFor(c, parentId, "error", { timeoutMs: coldStart })
    expect(failed.context.error?.message).toContain("production is backed up by the ops team")
    expect(await children(parentId)).toEqual([])
  }, 2 * coldStart)

  it("aborting the parent aborts the children that have not finished; a finished one stays done", async () => {
    const parentId = await backupAll(["crm", "shop", "wiki"])
    // crm starts at once; shop and wiki wait 60 and 120 s for their first iteration.
    await poll(async () => {
      const now = await children(parentId)
      return now.length === 3 && now[0]!.status === "done" ? now : undefined
    }, { timeoutMs: coldStart })
    await c.call((client) => client.Abort({ taskId: parentId, message: "maintenance window over" }))
    await waitFor(c, parentId, "aborted")
    const expected = `parent ${parentId} was aborted`
    expect(await poll(async () => {
      const now = await children(parentId)
      return now.every((child) => child.status !== "triggered") ? now : undefined
    })).toEqual([
      { name: "backup crm", status: "done", abortMessage: undefined },
      { name: "backup shop", status: "aborted", abortMessage: expected },
      { name: "backup wiki", status: "aborted", abortMessage: expected },
    ])
  }, 2 * coldStart)
})
