/**
 * docs/writing-tasks.md stays true: every TypeScript block in the guide (and
 * in the README) is byte for byte one of docs/examples/*.ts (and every
 * example is shown in the guide), and each example task does what the guide
 * says, run through the real controller (`TaskDefinition.makeController`)
 * with an injected clock; the child-task example runs on the real daemon
 * (test/docs/ChildTasks.test.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Layer } from "effect"
import { TaskDefinition } from "@tasklane/tasks/host"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import backup from "../../docs/examples/Backup.ts"
import countLines from "../../docs/examples/CountLines.ts"
import drainInbox from "../../docs/examples/DrainInbox.ts"
import exportUsers from "../../docs/examples/ExportUsers.ts"
import hello from "../../docs/examples/Hello.ts"
import importRates from "../../docs/examples/ImportRates.ts"
import pruneReports from "../../docs/examples/PruneReports.ts"
import { layerOutbox } from "../../docs/examples/Mailer.ts"
import sendDigest from "../../docs/examples/SendDigest.ts"
import config from "../../docs/examples/tasklane.config.ts"
import { typeErrors } from "./TypeCheck.ts"
// The in-process task runner shared with the built-in examples' tests.
import { load, makeClock, runIteration, runToEnd } from "../../apps/daemon/test/examples/TaskHarness.ts"

const root = join(import.meta.dirname, "..", "..")
const guide = readFileSync(join(root, "docs", "writing-tasks.md"), "utf8")

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tasklane-docs-"))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
  vi.restoreAllMocks()
})

describe("the guide's code", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8")
  const blocksOf = (text: string) => Array.from(text.matchAll(/(?:<!-- file: (\S+) -->\n)?```ts\n([\s\S]*?)```/g), (m) => ({ file: m[1], code: m[2]! }))
  const blocks = blocksOf(guide)

  it("marks every TypeScript block with the file it comes from", () => {
    expect(blocks.length).toBeGreaterThan(0)
    expect(blocks.filter((block) => block.file === undefined).map((block) => block.code.slice(0, 80))).toEqual([])
  })

  it("is byte for byte the files in docs/examples, and so is the README's", () => {
    expect(blocksOf(readme).map((block) => block.file)).toEqual(["docs/examples/Hello.ts"])
    for (const block of [...blocks, ...blocksOf(readme)]) {
      expect(block.code, block.file).toBe(readFileSync(join(root, block.file!), "utf8"))
    }
  })

  it("shows every example file", () => {
    const shown = new Set(blocks.map((block) => block.file))
    const files = readdirSync(join(root, "docs", "examples")).filter((name) => name.endsWith(".ts"))
    expect(files.filter((name) => !shown.has(`docs/examples/${name}`))).toEqual([])
  })

  it("tells how to run its config with the daemon from the checkout's root, and how to trigger and watch a task", () => {
    expect(guide).toContain("tasklane daemon --config docs/examples/tasklane.config.ts --http 127.0.0.1:4817")
    expect(existsSync(join(root, "docs", "examples", "tasklane.config.ts"))).toBe(true)
    for (const command of [`tasklane trigger hello --input '{"name":"Ada"}' --wait`, "tasklane show ", "tasklane logs "]) {
      expect(guide).toContain(command)
    }
  })
})

describe("1. hello", () => {
  it("greets in one iteration", async () => {
    const [iteration] = await runToEnd(await load(hello), { name: "Ada" })
    expect(iteration!.result).toEqual({ _tag: "Done", output: { greeting: "Hello, Ada!" } })
    expect(iteration!.logs).toEqual([{ level: "info", message: "Greeting Ada" }])
  })
})

describe("2. countLines", () => {
  it("applies its metadata and counts lines with progress", async () => {
    const definition = await load(countLines)
    expect(definition).toMatchObject({ id: "countLines", maxIterations: 1, timeout: 300, closeToTimeout: 30, isPrivate: false })
    const path = join(dir, "notes.txt")
    writeFileSync(path, "one\ntwo\nthree\n")
    const [iteration] = await runToEnd(definition, { path })
    expect(iteration!.result).toEqual({ _tag: "Done", message: "3 lines", output: { lines: 3, bytes: 14 } })
    expect(iteration!.progress.at(-1)).toEqual({ completed: 14, total: 14, message: "3 lines so far" })
  })
})

describe("3. exportUsers", () => {
  it("refuses invalid input with every problem by field path, as the guide shows", async () => {
    const definition = await load(exportUsers)
    const input = { users: [{ name: "Ada", email: "ada@example.com" }, { name: "", email: "grace" }], target: "users.json", indent: 10 }
    const invalid = await Effect.runPromise(Effect.flip(TaskDefinition.decodeInput(definition.task, input)))
    expect(invalid.issues.map((issue) => issue.path)).toEqual([["users", 1, "name"], ["users", 1, "email"], ["indent"]])
    expect(invalid.issues[0]).toEqual({ path: ["users", 1, "name"], message: "Expected a value with a length of at least 1" })
    expect(guide).toContain(`\`\`\`text\n${invalid.message}\n\`\`\``)
  })

  it("writes the users with the default indent", async () => {
    const target = join(dir, "users.json")
    const users = [{ name: "Ada", email: "ada@example.com" }]
    const [iteration] = await runToEnd(await load(exportUsers), { users, target })
    expect(iteration!.result).toEqual({ _tag: "Done", output: { count: 1 } })
    expect(readFileSync(target, "utf8")).toBe(JSON.stringify(users, null, 2))
  })
})

describe("4. backup", () => {
  it("refuses to back up production, and reports each ending from its hooks", async () => {
    const definition = await load(backup)
    const { task } = definition
    const before = (database: string) => task.onBeforeTrigger!(TaskDefinition.beforeTriggerParams({ definition, input: { database } }))
    expect(() => before("production")).toThrow("production is backed up by the ops team")
    expect(before("staging")).toBeUndefined()
    const printed = vi.spyOn(console, "log").mockImplementation(() => {})
    const context = { taskId: "t1", definitionId: "backup", input: { database: "staging" }, iteration: 1, createdAt: 0, updatedAt: 0 }
    const ended = (status: string, more: object = {}) => TaskDefinition.lifecycleHookParams({ status, context: { ...context, ...more } }, definition)
    await task.onDone!(ended("done", { output: { file: "staging.bak" } }))
    await task.onError!(ended("error", { error: { message: "disk full" } }))
    await task.onAbort!(ended("aborted"))
    await task.onMaxIterations!(ended("maxIterations", { iteration: 50 }))
    expect(printed.mock.calls.map(([line]) => line)).toEqual([
      "backup t1 wrote staging.bak",
      "backup t1 failed: disk full",
      "backup t1 was aborted in iteration 1",
      "backup t1 gave up after 50 iterations",
    ])
  })
})

describe("5. drainInbox", () => {
  const inbox = () => {
    const folders = { inbox: join(dir, "inbox"), archive: join(dir, "archive") }
    mkdirSync(folders.inbox)
    mkdirSync(folders.archive)
    for (const name of ["a", "b", "c"]) writeFileSync(join(folders.inbox, name), name)
    return folders
  }

  it("checkpoints close to the timeout and keeps its output across iterations", async () => {
    const folders = inbox()
    // Every clock read costs 300 s of the 900 s timeout: the third check is within 180 s of it.
    const iterations = await runToEnd(await load(drainInbox), { ...folders, watch: false }, { clock: makeClock(300_000) })
    expect(iterations.map(({ result }) => result)).toEqual([
      { _tag: "Continue", input: { ...folders, watch: false } },
      { _tag: "Done", output: { moved: 3 } },
    ])
    expect(iterations[0]!.output).toEqual({ moved: 2 })
    expect(readdirSync(folders.archive)).toEqual(["a", "b", "c"])
  })

  it("looks again 30 s later while watching, and stops when aborted", async () => {
    const folders = inbox()
    const definition = await load(drainInbox)
    const clock = makeClock()
    const first = await runIteration(definition, { ...folders, watch: true }, { clock })
    expect(first.result).toEqual({ _tag: "Continue", input: { ...folders, watch: true }, wakeAt: clock.now + 30_000 })
    writeFileSync(join(folders.inbox, "d"), "d")
    const abort = new AbortController()
    abort.abort()
    const second = await runIteration(definition, { ...folders, watch: true }, { clock, signal: abort.signal, output: first.output })
    expect(second.result).toEqual({ _tag: "Aborted" })
    expect(existsSync(join(folders.inbox, "d"))).toBe(true)
  })
})

describe("6. importRates", () => {
  it("throws on a missing file, answers error() on bad data, and finishes on good data", async () => {
    const definition = await load(importRates)
    const file = join(dir, "rates.json")
    const thrown = await runIteration(definition, { file }).catch((error: unknown) => error)
    expect(TaskDefinition.toErrorInfo(thrown)).toMatchObject({ code: "ENOENT" })
    writeFileSync(file, JSON.stringify({ EUR: 1, XYZ: -2, ABC: "1.5" }))
    expect((await runIteration(definition, { file })).result).toEqual({
      _tag: "Error",
      error: { message: "2 rates are not positive numbers", code: "InvalidRates", data: { currencies: ["XYZ", "ABC"] } },
    })
    writeFileSync(file, JSON.stringify({ EUR: 1, USD: 1.08 }))
    expect((await runIteration(definition, { file })).result).toEqual({ _tag: "Done", output: { currencies: 2 } })
  })

  it("retries a failed iteration 10 s, then 20 s later, then gives up", async () => {
    const { retry } = await load(importRates)
    expect([1, 2, 3].map((attempt) => TaskDefinition.retryDelaySeconds(retry, attempt))).toEqual([10, 20, undefined])
  })
})

describe("7. sendDigest and the config", () => {
  it("gets its Mailer from the layer and mails through it", async () => {
    const outbox = join(dir, "outbox.jsonl")
    const context = await Effect.runPromise(Effect.scoped(Layer.build(layerOutbox(outbox))))
    const [definition] = await Effect.runPromise(TaskDefinition.loadDefinitions([sendDigest], context))
    const sent = await runToEnd(definition!, { to: "ops@example.com", items: ["disk 91% full", "backup done"] })
    expect(sent[0]!.result).toEqual({ _tag: "Done", output: { sent: true } })
    expect(JSON.parse(readFileSync(outbox, "utf8"))).toEqual({
      to: "ops@example.com",
      subject: "Digest: 2 items",
      body: "disk 91% full\nbackup done",
    })
    expect((await runToEnd(definition!, { to: "ops@example.com", items: [] }))[0]!.result).toEqual({ _tag: "Done", output: { sent: false } })
  })

  it("is refused by the loader without the service", async () => {
    const error = await Effect.runPromise(Effect.flip(TaskDefinition.loadDefinitions([sendDigest], Context.empty() as Context.Context<any>)))
    expect(error.message).toBe('Task definition SendDigest is invalid: the config\'s layer does not provide its dependency "docs/Mailer"')
  })

  it("loads every task of the guide with the config's layer", async () => {
    const context = await Effect.runPromise(Effect.scoped(Layer.build(config.layer!)))
    const definitions = await Effect.runPromise(TaskDefinition.loadDefinitions(config.tasks, context))
    expect(definitions.map((definition) => definition.id)).toEqual([
      "hello", "countLines", "exportUsers", "backup", "drainInbox", "importRates", "sendDigest", "backupAll",
    ])
    expect(config.concurrency).toBe(4)
  })

  it("type-checks, and does not without its layer", () => {
    const path = join(root, "docs", "examples", "tasklane.config.ts")
    const source = readFileSync(path, "utf8")
    const withoutLayer = source.replace('  layer: layerOutbox("outbox.jsonl"),\n', "").replace('import { layerOutbox } from "./Mailer.ts"\n', "")
    expect(withoutLayer).not.toBe(source)
    const errors = typeErrors({ [path]: source, [join(root, "docs", "examples", "WithoutLayer.ts")]: withoutLayer })
    expect(errors[path]).toEqual([])
    expect(errors[join(root, "docs", "examples", "WithoutLayer.ts")]?.join("\n")).toContain("MissingServices<Mailer>")
  }, 60_000)
})

describe("10. pruneReports", () => {
  it("declares its two schedules (checked at load) and runs each one's input", async () => {
    const definition = await load(pruneReports)
    expect(definition.schedules.map((s) => [s.name, s.cron, s.tz ?? "UTC", s.catchUp ?? "one"])).toEqual([
      ["nightly", "15 3 * * *", "Europe/Berlin", "one"],
      ["hourly-preview", "0 * * * *", "UTC", "none"],
    ])
    const [nightly] = await runToEnd(definition, definition.schedules[0]!.input)
    expect(nightly!.result).toEqual({ _tag: "Done", output: { olderThanDays: 30, dryRun: false } })
    const [preview] = await runToEnd(definition, definition.schedules[1]!.input)
    expect(preview!.logs).toEqual([{ level: "info", message: "Would prune reports older than 30 days" }])
  })
})
