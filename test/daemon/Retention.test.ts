/**
 * `retention` in the config: the daemon prunes finished tasks by itself
 * (at start, then every `every`), keeping a waiting task; a malformed
 * `retention` stops the daemon at start with a message naming the setting.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { removeDataDir, startDaemon, tempDataDir, type DaemonProcess } from "../support/DaemonProcess.ts"
import { connectTo, poll, waitFor } from "../support/TaskPolling.ts"

const dirs: Array<string> = []
const daemons: Array<DaemonProcess> = []
afterAll(async () => {
  for (const daemon of daemons) await daemon.stop("SIGKILL")
  dirs.forEach(removeDataDir)
})

const config = (retention: string) => `
  import { defineConfig, TaskDefinition } from "@tasklane/tasks"

  class Quick {
    readonly id = "quick"
    readonly title = "Done at once"
    run({ controller }: any) { return controller.response.done() }
  }
  class Waits {
    readonly id = "waits"
    readonly title = "Continues in ten minutes"
    run({ input, controller }: any) { return controller.response.continue(input, { seconds: 600 }) }
  }

  export default defineConfig({
    tasks: [TaskDefinition.createImplementation({ implementation: Quick }), TaskDefinition.createImplementation({ implementation: Waits })],
    retention: ${retention},
  } as any)
`

const start = async (retention: string, waitReady = true) => {
  const dataDir = tempDataDir()
  dirs.push(dataDir)
  const configPath = join(dataDir, "tasklane.config.ts")
  writeFileSync(configPath, config(retention))
  const daemon = await startDaemon({ dataDir, waitReady, args: ["--config", configPath, "--no-examples", "--shutdown-grace", "1"] })
  daemons.push(daemon)
  return daemon
}

describe("retention in the config", () => {
  it("prunes finished tasks periodically and keeps a waiting one", async () => {
    const daemon = await start(`{ olderThan: "1s", every: "1s" }`)
    const c = await connectTo(daemon)
    try {
      const waiting = await c.call((client) => client.Trigger({ definitionId: "waits", input: {} }))
      await waitFor(c, waiting.context.taskId, "continue")
      // Not waited for one by one: a finished one may be pruned before a poll sees it done.
      for (let i = 0; i < 3; i++) await c.call((client) => client.Trigger({ definitionId: "quick", input: { i } }))
      const left = await poll(async () => {
        const page = await c.call((client) => client.ListTasks({ limit: 100 }))
        return page.tasks.length === 1 ? page.tasks : undefined
      }, { timeoutMs: 10_000 })
      expect(left.map((t) => t.context.taskId)).toEqual([waiting.context.taskId])
      const info = await c.call((client) => client.Info())
      expect(info.retention?.prunedThrough).toBeGreaterThan(0)
      expect(info.counts["done"] ?? 0).toBe(0)
      // Logged once the prune (and its compaction) returned.
      await poll(async () => (/retention: pruned \d+ finished task\(s\) older than 1s/.test(daemon.output()) ? true : undefined), { timeoutMs: 10_000 })
    } finally {
      await c.close()
    }
  })

  it("a malformed retention stops the daemon at start, naming the setting", async () => {
    const daemon = await start(`{ olderThan: "a month" }`, false)
    const timer = setTimeout(() => daemon.stop("SIGKILL"), 25_000)
    const code = await daemon.exited
    clearTimeout(timer)
    expect(code).toBe(1)
    expect(daemon.output()).toContain("`retention.olderThan` must be a duration")
    expect(daemon.output()).not.toContain(" serving ")
  })
})
