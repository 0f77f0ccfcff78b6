/**
 * The `tasklane` CLI against a real daemon: definitions, trigger (with
 * --wait), ls, show, abort, rm and logs, their --json output, and the exit codes
 * 0, 1 (waited task ended badly) and 2 (bad usage, invalid input).
 */
import { describe, expect, it } from "vitest"
import { ok, tasklane } from "../support/CliProcess.ts"
import { daemonForFile } from "../support/FileDaemon.ts"
import { type Connection } from "@tasklane/daemon/client"
import { waitFor } from "../support/TaskPolling.ts"

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/

let c: Connection
let dir: string

daemonForFile((file) => ({ c, dir } = file))

describe("tasklane CLI: tasks", () => {
  it("prints generated help listing every command, and exits 2 on an unknown flag", async () => {
    const help = await tasklane(dir, ["--help"])
    expect(help.code).toBe(0)
    for (const command of ["daemon", "definitions", "trigger", "ls", "show", "abort", "rm", "logs", "history", "replay", "export", "init"]) {
      expect(help.stdout).toContain(command)
    }
    const bad = await tasklane(dir, ["ls", "--bogus"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("--bogus")
  })

  it("lists definitions as a table and as JSON, private ones only when asked", async () => {
    const text = await ok(dir, ["definitions"])
    expect(text).toMatch(/^ID\s+TITLE/)
    expect(text).toContain("Counts to a target")
    expect(text).not.toContain("\u001b[")
    const defs = JSON.parse(await ok(dir, ["definitions", "--json"])) as Array<{ id: string; maxIterations: number; inputSchema?: unknown }>
    expect(defs.find((d) => d.id === "counter")?.maxIterations).toBe(100)
    expect(defs.find((d) => d.id === "validated")?.inputSchema).toBeDefined()
    expect(defs.map((d) => d.id)).not.toContain("secret")
    const all = JSON.parse(await ok(dir, ["definitions", "--json", "--include-private"])) as Array<{ id: string }>
    expect(all.map((d) => d.id)).toContain("secret")
  })

  it("takes a Date field as its ISO string; run() gets a Date in every iteration; the input is stored as JSON", async () => {
    const id = (await ok(dir, ["trigger", "dated", "--input", '{"from":"2026-11-29T00:00:00.000Z","days":2}'])).trim()
    const done = await waitFor(c, id, "done")
    expect(done.context.output).toEqual({ last: "2026-12-01T00:00:00.000Z", weekday: 2 })
    expect(done.context.input).toEqual({ from: "2026-12-01T00:00:00.000Z", days: 0 })
    expect(done.context.iteration).toBe(3)
    const bad = await tasklane(dir, ["trigger", "dated", "--input", '{"from":"the day after tomorrow","days":2}'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("from: Expected a valid Date")
  })

  it("triggers a task and prints its id; --json prints its state; name and idempotency key are passed on", async () => {
    const id = (await ok(dir, ["trigger", "quick", "--input", '{"a":1}', "--name", "first"])).trim()
    expect(id).toMatch(uuid)
    const done = await waitFor(c, id, "done")
    expect(done.context.output).toEqual({ echoed: { a: 1 } })
    expect(done.context.name).toBe("first")
    const once = JSON.parse(await ok(dir, ["trigger", "quick", "--idempotency-key", "k1", "--json"]))
    const again = JSON.parse(await ok(dir, ["trigger", "quick", "--idempotency-key", "k1", "--json"]))
    expect(once.context.taskId).toMatch(uuid)
    expect(again.context.taskId).toBe(once.context.taskId)
  })

  it("reads input from a file and delays the start", async () => {
    const file = `${dir}/input.json`
    await import("node:fs").then((fs) => fs.writeFileSync(file, '{"n":0,"target":1}'))
    const state = JSON.parse(await ok(dir, ["trigger", "counter", "--input-file", file, "--delay", "60", "--json"]))
    expect(state.status).toBe("triggered")
    expect(state.context.input).toEqual({ n: 0, target: 1 })
    expect(state.context.wakeAt - state.context.createdAt).toBeGreaterThanOrEqual(59_000)
  })

  it("exit 0: --wait follows a task to done with plain progress lines", async () => {
    const run = await tasklane(dir, ["trigger", "counter", "--input", '{"n":0,"target":3}', "--wait"])
    expect(run.code).toBe(0)
    const lines = run.stdout.trim().split("\n")
    expect(lines.at(-2)).toMatch(/ done {2}iteration 4\/100 {2}progress 3\/3$/)
    expect(lines.at(-1)).toBe('output: {"counted":3}')
    expect(run.stdout).not.toContain("\r")
  })

  it("--wait --json prints JSON Lines of states, the last one final", async () => {
    const run = await tasklane(dir, ["trigger", "counter", "--input", '{"n":0,"target":2}', "--wait", "--json"])
    expect(run.code).toBe(0)
    const states = run.stdout.trim().split("\n").map((l) => JSON.parse(l))
    expect(states[0].context.definitionId).toBe("counter")
    expect(states.at(-1).status).toBe("done")
  })

  it("exit 1: the waited task ended in error, said in one sentence", async () => {
    const run = await tasklane(dir, ["trigger", "thrower", "--wait"])
    expect(run.code).toBe(1)
    expect(run.stderr.trim()).toMatch(/^tasklane: task \S+ ended error: kaboom$/)
  })

  it("exit 2: invalid input lists every field path and message, without a stack trace", async () => {
    const run = await tasklane(dir, ["trigger", "validated", "--input", '{"name":"","count":99,"tags":[1]}'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('invalid input for task definition "validated"')
    expect(run.stderr).toMatch(/^ {2}name: .+$/m)
    expect(run.stderr).toMatch(/^ {2}count: .+$/m)
    expect(run.stderr).toMatch(/^ {2}tags\[0\]: .+$/m)
    expect(run.stderr).not.toMatch(/^\s+at /m)
    expect(run.stdout).toBe("")
  })

  it("exit 2: unparsable JSON input, an unknown definition, an unknown task", async () => {
    const json = await tasklane(dir, ["trigger", "quick", "--input", "{bad"])
    expect(json.code).toBe(2)
    expect(json.stderr).toMatch(/^tasklane: --input is not valid JSON/)
    const definition = await tasklane(dir, ["trigger", "nope"])
    expect(definition.code).toBe(2)
    expect(definition.stderr).toContain('no task definition with id "nope"')
    const task = await tasklane(dir, ["show", "00000000-0000-7000-8000-000000000000"])
    expect(task.code).toBe(2)
  })

  it("shows a task, lists with filters, aborts with a message", async () => {
    const parent = (await ok(dir, ["trigger", "parent", "--input", '{"children":1}'])).trim()
    const child = await waitFor(c, parent, "running").then(async () => {
      for (let i = 0; i < 200; i++) {
        const page = JSON.parse(await ok(dir, ["ls", "--parent", parent, "--json"]))
        if (page.tasks.length > 0) return page.tasks[0]
        await new Promise((r) => setTimeout(r, 50))
      }
      throw new Error("no child listed")
    })
    expect(child.context.definitionId).toBe("aborter")
    expect(child.context.parentId).toBe(parent)

    const shown = await ok(dir, ["show", parent])
    expect(shown).toMatch(/^id\s+\S+/)
    expect(shown).toMatch(/^status\s+running$/m)
    expect(JSON.parse(await ok(dir, ["show", parent, "--json"])).context.taskId).toBe(parent)

    const table = await ok(dir, ["ls", "--definition", "parent"])
    expect(table).toMatch(/^ID\s+DEFINITION\s+STATUS/)
    expect(table).toContain(parent)
    const running = JSON.parse(await ok(dir, ["ls", "--status", "running", "--json"]))
    expect(running.tasks.every((t: { status: string }) => t.status === "running")).toBe(true)
    expect(JSON.parse(await ok(dir, ["ls", "--limit", "1", "--json"])).tasks).toHaveLength(1)
    expect((await tasklane(dir, ["ls", "--status", "sleeping"])).code).toBe(2)

    const aborted = JSON.parse(await ok(dir, ["abort", parent, "--message", "operator said so", "--json"]))
    expect(aborted.context.abortRequested).toBe(true)
    expect((await waitFor(c, parent, "aborted")).context.abortMessage).toBe("operator said so")
    await waitFor(c, child.context.taskId, "aborted")
    const again = await tasklane(dir, ["abort", parent])
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/^tasklane: task \S+ is aborted: /)
  })

  it("rm deletes a finished task from every listing; an unfinished one is refused with exit 2 and the daemon's reason", async () => {
    const running = (await ok(dir, ["trigger", "slow", "--input", '{"ms":30000}'])).trim()
    await waitFor(c, running, "running")
    const refused = await tasklane(dir, ["rm", running])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe(`tasklane: task ${running} is running: only a finished task can be deleted; abort it first\n`)
    await ok(dir, ["abort", running])
    await waitFor(c, running, "aborted", { timeoutMs: 10_000 })
    expect(await ok(dir, ["rm", running])).toBe(`deleted ${running}\n`)
    expect(await ok(dir, ["ls", "--json"])).not.toContain(running)
    expect((await tasklane(dir, ["show", running])).code).toBe(2)
    const done = (await ok(dir, ["trigger", "quick", "--wait"])).trim().split("\n")[0]!.split(" ")[0]!
    expect(JSON.parse(await ok(dir, ["rm", done, "--json"]))).toEqual({ taskId: done, deleted: true })
    const again = await tasklane(dir, ["rm", done])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain(done)
  })

  it("pages through tasks with the cursor of the previous page", async () => {
    const ids = new Set<string>()
    for (let i = 0; i < 3; i++) ids.add((await ok(dir, ["trigger", "quick", "--name", `page-${i}`])).trim())
    const first = JSON.parse(await ok(dir, ["ls", "--definition", "quick", "--limit", "2", "--json"]))
    expect(first.tasks).toHaveLength(2)
    expect(await ok(dir, ["ls", "--definition", "quick", "--limit", "2"])).toContain(`more: tasklane ls --cursor ${first.cursor}`)
    const second = JSON.parse(await ok(dir, ["ls", "--definition", "quick", "--limit", "2", "--cursor", first.cursor, "--json"]))
    const seen = [...first.tasks, ...second.tasks].map((t: { context: { taskId: string } }) => t.context.taskId)
    expect(new Set(seen).size).toBe(seen.length)
    for (const id of ids) expect(seen.slice(0, 3)).toContain(id)
  })

  it("prints logs, as JSON, and follows them until the task ends", async () => {
    const id = (await ok(dir, ["trigger", "counter", "--input", '{"n":0,"target":2}'])).trim()
    await waitFor(c, id, "done")
    const text = await ok(dir, ["logs", id])
    expect(text.trim().split("\n").map((l) => l.split(/\s+/).slice(1).join(" "))).toEqual(["info at 0", "info at 1", "info at 2"])
    const lines = JSON.parse(await ok(dir, ["logs", id, "--json"]))
    expect(lines.map((l: { message: string }) => l.message)).toEqual(["at 0", "at 1", "at 2"])

    const slow = (await ok(dir, ["trigger", "counter", "--input", '{"n":0,"target":2,"delaySeconds":0.3}'])).trim()
    const followed = await tasklane(dir, ["logs", slow, "--follow", "--json"])
    expect(followed.code).toBe(0)
    expect(followed.stdout.trim().split("\n").map((l) => JSON.parse(l).message)).toEqual(["at 0", "at 1", "at 2"])
  })
})
