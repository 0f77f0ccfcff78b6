/**
 * A Webiny task validating its input with `createInputValidation({ validator
 * })` (zod), triggered from the `tasklane` CLI against the real daemon
 * (test/fixtures/webiny/tasklane.config.ts): invalid input exits 2 naming each
 * field and stores nothing; valid input runs, with zod's defaults applied and
 * undeclared keys kept (Webiny's loose objects); the generated JSON Schema is
 * zod's own; `error(message, caught)` keeps the error's code for `show` and
 * `--json`.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { ok, tasklane } from "../support/CliProcess.ts"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, waitFor } from "../support/TaskPolling.ts"

const config = join(import.meta.dirname, "..", "fixtures", "webiny", "tasklane.config.ts")
const logDir = mkdtempSync(join(tmpdir(), "tl-webiny-"))

let daemon: DaemonProcess
let c: Connection
let dir: string

beforeAll(async () => {
  dir = tempDataDir()
  daemon = await startDaemon({
    dataDir: dir,
    args: ["--config", config, "--no-examples", "--abort-grace", "1", "--shutdown-grace", "2"],
    env: { TASKLANE_WEBINY_LOG: join(logDir, "hooks.jsonl") },
  })
  c = await connectTo(daemon)
})

afterAll(async () => {
  await c?.close()
  await daemon?.stop()
  removeDataDir(dir)
  rmSync(logDir, { recursive: true, force: true })
})

const taskCount = async () => (await c.call((client) => client.ListTasks({ limit: 1000 }))).tasks.length

describe("a zod-validated Webiny task from the CLI", () => {
  it("refuses invalid input with exit 2, naming each field, and stores nothing", async () => {
    const before = await taskCount()
    const input = JSON.stringify({ webhookId: "", eventName: "entry.updated", attempts: 9, data: [1] })
    const result = await tasklane(dir, ["trigger", "sendWebhook", "--input", input])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('invalid input for task definition "sendWebhook"')
    for (const field of ["webhookId", "eventName", "attempts", "data"]) expect(result.stderr).toMatch(new RegExp(`^\\s+${field}: `, "m"))
    expect(result.stderr).toMatch(/eventName: .*"entry\.created"/)
    expect(await taskCount()).toBe(before)

    const missing = await tasklane(dir, ["trigger", "sendWebhook", "--input", "{}"])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^\s+webhookId: /m)
    expect(missing.stderr).toMatch(/^\s+eventName: /m)
    expect(await taskCount()).toBe(before)
  })

  it("runs valid input: zod's defaults applied, keys it does not declare kept", async () => {
    const input = JSON.stringify({ webhookId: "wh1", eventName: "entry.created", data: { id: 7 }, traceId: "t-1" })
    const lines = (await ok(dir, ["trigger", "sendWebhook", "--input", input, "--wait", "--json"])).trim().split("\n")
    const printed = JSON.parse(lines.at(-1)!)
    expect(printed.status).toBe("done")
    expect(printed.context.message).toBe("Delivered entry.created")
    expect(printed.context.output).toEqual({
      delivered: { webhookId: "wh1", eventName: "entry.created", attempts: 3, data: { id: 7 }, traceId: "t-1" },
    })
  })

  it("lists zod's own JSON Schema for the definition", async () => {
    const definitions = JSON.parse(await ok(dir, ["definitions", "--json"])) as Array<{ id: string; inputSchema?: any }>
    const schema = definitions.find((d) => d.id === "sendWebhook")?.inputSchema
    expect(schema.schema).toMatchObject({
      type: "object",
      required: ["webhookId", "eventName"],
      properties: {
        webhookId: { type: "string", minLength: 1, description: "Which webhook to call" },
        eventName: { type: "string", enum: ["entry.created", "entry.deleted"] },
        attempts: { type: "integer", minimum: 1, maximum: 5, default: 3 },
        data: { type: "object" },
      },
    })
  })

  it("error(message, caught) keeps the caught error's code: show prints it, --json has it", async () => {
    const input = JSON.stringify({ webhookId: "unreachable", eventName: "entry.deleted" })
    const failed = await tasklane(dir, ["trigger", "sendWebhook", "--input", input, "--wait"])
    expect(failed.code).toBe(1)
    const id = failed.stdout.trim().split(/\s+/)[0]!
    const state = await waitFor(c, id, "error")
    expect(state.context.error).toMatchObject({ message: "Webhook delivery failed: connect ECONNREFUSED", code: "ECONNREFUSED" })
    expect(state.context.error?.stack).toContain("connect ECONNREFUSED")
    const shown = await ok(dir, ["show", id])
    expect(shown).toMatch(/^error\s+Webhook delivery failed: connect ECONNREFUSED \(ECONNREFUSED\)$/m)
    const json = JSON.parse(await ok(dir, ["show", id, "--json"]))
    expect(json.context.error).toMatchObject({ message: "Webhook delivery failed: connect ECONNREFUSED", code: "ECONNREFUSED" })
  })
})
