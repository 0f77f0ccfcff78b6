/**
 * The limits of a Trigger request, from the `tasklane` CLI against a real
 * daemon: input larger than the daemon reads, input nested too deep, a task
 * name too long. Each is refused with exit 2 and one message that names the
 * limit (never a socket error or a stack overflow), and the daemon keeps
 * serving.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { TaskRpc } from "@tasklane/core"
import { afterAll, describe, expect, it } from "vitest"
import { type Connection } from "@tasklane/daemon/client"
import { ok, tasklane } from "../support/CliProcess.ts"
import { daemonForFile } from "../support/FileDaemon.ts"
import { rejection, waitFor } from "../support/TaskPolling.ts"

let c: Connection
let dir: string
const files = mkdtempSync(join(tmpdir(), "tl-limits-"))

daemonForFile((file) => ({ c, dir } = file))

afterAll(async () => {
  rmSync(files, { recursive: true, force: true })
})

const stillServes = async () => {
  const id = (await ok(dir, ["trigger", "quick", "--input", '{"after":true}'])).trim()
  await waitFor(c, id, "done")
}

describe("tasklane trigger: request limits", () => {
  it("input larger than the daemon reads: exit 2, the size and the limit said, nothing sent", async () => {
    const big = join(files, "big.json")
    writeFileSync(big, JSON.stringify({ blob: "x".repeat(TaskRpc.maxRequestBytes) }))
    const result = await tasklane(dir, ["trigger", "quick", "--input-file", big])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      `tasklane: the input is ${TaskRpc.maxRequestBytes + 11} bytes of JSON; it may be at most ${TaskRpc.maxRequestBytes - 65_536} bytes ` +
        "(the daemon reads requests of up to 16 MiB): pass large data by reference (a file path or URL) instead\n",
    )
    await stillServes()
  })

  it("input nested deeper than the daemon accepts: exit 2 with the daemon's own InvalidInput, no stack overflow", async () => {
    const deep = join(files, "deep.json")
    writeFileSync(deep, "[".repeat(100_000) + "]".repeat(100_000))
    const result = await tasklane(dir, ["trigger", "quick", "--input-file", deep])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(`tasklane: invalid input for task definition "quick":\n  input: the input is nested deeper than ${TaskRpc.maxInputDepth} levels\n`)
    // Just within the limit, it is sent and runs.
    const within = join(files, "within.json")
    writeFileSync(within, "[".repeat(TaskRpc.maxInputDepth) + "]".repeat(TaskRpc.maxInputDepth))
    const id = (await ok(dir, ["trigger", "quick", "--input-file", within])).trim()
    await waitFor(c, id, "done")
  })

  it(`a task name over ${TaskRpc.maxNameLength} characters: a typed InvalidRequest, exit 2; ${TaskRpc.maxNameLength} is fine`, async () => {
    const result = await tasklane(dir, ["trigger", "quick", "--name", "n".repeat(TaskRpc.maxNameLength + 1)])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(`tasklane: invalid name: the task name is 201 characters long; at most ${TaskRpc.maxNameLength} are allowed\n`)
    const refused = await rejection(c.call((client) => client.Trigger({ definitionId: "quick", input: {}, name: "n".repeat(10_000) })))
    expect(refused).toBeInstanceOf(TaskRpc.InvalidRequest)
    expect(refused).toMatchObject({ field: "name" })
    const id = (await ok(dir, ["trigger", "quick", "--name", "n".repeat(TaskRpc.maxNameLength)])).trim()
    expect((await waitFor(c, id, "done")).context.name).toBe("n".repeat(TaskRpc.maxNameLength))
  })
})
