/**
 * The daemon settings a `tasklane.config.ts` may carry, read by the real
 * daemon: `abortGracePeriod` decides how long a running iteration that
 * ignores an abort is waited for (measured between the recorded
 * AbortRequested and the forced TaskAborted), and `--abort-grace` wins over
 * it. `dataDir` is refused with a message saying what to use instead.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { fixtureConfig, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, getTask, history, poll, waitFor } from "../support/TaskPolling.ts"

const dirs: Array<string> = []
afterAll(() => dirs.forEach(removeDataDir))

/** A data dir holding a config that is the fixture config plus `settings` (TypeScript object members). */
const withSettings = (settings: string) => {
  const dataDir = tempDataDir()
  dirs.push(dataDir)
  const config = join(dataDir, "tasklane.config.ts")
  writeFileSync(config, `import fixture from ${JSON.stringify(pathToFileURL(fixtureConfig).href)}\nexport default { ...fixture, ${settings} }\n`)
  return { dataDir, config }
}

/** Seconds between the abort request and the forced end of `stubborn`, which never answers an abort. */
const forcedAfter = async (settings: string, flags: ReadonlyArray<string>) => {
  const { dataDir, config } = withSettings(settings)
  const daemon = await startDaemon({ dataDir, args: ["--config", config, "--no-examples", "--shutdown-grace", "1", ...flags] })
  const c = await connectTo(daemon)
  try {
    const { context: { taskId } } = await c.call((client) => client.Trigger({ definitionId: "stubborn", input: {} }))
    // Its run has begun once it reports progress (an abort before that ends it without running it).
    await poll(async () => ((await getTask(c, taskId)).context.progress !== undefined ? true : undefined))
    await c.call((client) => client.Abort({ taskId }))
    await waitFor(c, taskId, "aborted", { timeoutMs: 15_000 })
    const events = await history(c, taskId)
    expect(events.at(-1)).toMatchObject({ type: "TaskAborted", data: { forced: true } })
    return (events.at(-1)!.at - events.find((event) => event.type === "AbortRequested")!.at) / 1000
  } finally {
    await c.close()
    await daemon.stop("SIGKILL")
  }
}

describe.concurrent("config settings", () => {
  it("abortGracePeriod from the config is the abort grace (the default would be 10 s)", async () => {
    const seconds = await forcedAfter("abortGracePeriod: 1.5", [])
    expect(seconds).toBeGreaterThanOrEqual(1.4)
    expect(seconds).toBeLessThan(5)
  })

  it("--abort-grace wins over the config's abortGracePeriod", async () => {
    const seconds = await forcedAfter("abortGracePeriod: 60", ["--abort-grace", "1"])
    expect(seconds).toBeGreaterThanOrEqual(0.9)
    expect(seconds).toBeLessThan(5)
  })

  it("a config with dataDir or a bad abortGracePeriod stops the daemon at start, saying why", async () => {
    for (const [settings, expected] of [
      [`dataDir: "/srv/tasklane"`, "`dataDir` is not a config setting"],
      [`abortGracePeriod: -1`, "`abortGracePeriod` must be a positive number of seconds"],
    ] as const) {
      const { dataDir, config } = withSettings(settings)
      const daemon = await startDaemon({ dataDir, waitReady: false, args: ["--config", config, "--no-examples"] })
      expect(await daemon.exited).toBe(1)
      expect(daemon.output()).toContain(expected)
      expect(daemon.output()).not.toContain(" serving ")
    }
  })
})
