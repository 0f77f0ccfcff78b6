/**
 * A `continue()` answer the daemon cannot store is recorded as an
 * `invalidResult` failure that says what is wrong and where, on the real
 * daemon: a value the input schema lets through (`Schema.Unknown`) that JSON
 * cannot hold, a mismatch with the schema, and an output (kept with
 * `updateOutput`) that is not JSON.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, waitFor } from "../support/TaskPolling.ts"

const config = `
import { Schema } from "effect"
import { defineConfig, TaskDefinition } from "@tasklane/tasks"

const Input = Schema.Struct({ mode: Schema.String, page: Schema.Number, extra: Schema.optional(Schema.Unknown) })
type Input = typeof Input.Type

class Paging implements TaskDefinition.Interface<Input> {
  readonly id = "paging"
  readonly title = "Continues with what it is told to"
  createInputValidation() {
    return Input
  }
  run({ input, controller }: TaskDefinition.RunParams<Input>) {
    if (input.mode === "function") return controller.response.continue({ ...input, extra: { rows: [{ id: 1, format: () => "x" }] } })
    if (input.mode === "mismatch") return controller.response.continue({ ...input, page: "two" as never })
    controller.state.updateOutput({ total: 10n })
    return controller.response.continue(input)
  }
}

export default defineConfig({ tasks: [TaskDefinition.createImplementation({ implementation: Paging })] })
`

let dataDir: string
let daemon: DaemonProcess
let c: Connection

beforeAll(async () => {
  dataDir = tempDataDir()
  writeFileSync(join(dataDir, "tasklane.config.ts"), config)
  daemon = await startDaemon({ dataDir, args: ["--config", join(dataDir, "tasklane.config.ts"), "--no-examples", "--shutdown-grace", "1"] })
  c = await connectTo(daemon)
})

afterAll(async () => {
  await c?.close()
  await daemon?.stop("SIGKILL")
  removeDataDir(dataDir)
})

const failure = async (mode: string) => {
  const { context: { taskId } } = await c.call((client) => client.Trigger({ definitionId: "paging", input: { mode, page: 1 } }))
  const failed = await waitFor(c, taskId, "error")
  expect(failed.context.failureReason).toBe("invalidResult")
  return failed.context.error?.message
}

describe.concurrent("an unstorable continue()", () => {
  it("names the path of a value JSON cannot hold", async () => {
    expect(await failure("function")).toBe("the input given to continue() is not JSON-serializable: input.extra.rows[0].format is a function")
  })

  it("lists the schema's complaints when the input does not match it", async () => {
    expect(await failure("mismatch")).toBe("the input given to continue() does not match the task's input schema: input.page: Expected number")
  })

  it("blames the output when that is what cannot be stored", async () => {
    expect(await failure("output")).toBe("the output kept for the next iteration (updateOutput) is not JSON-serializable: output.total is a bigint (10n)")
  })
})
