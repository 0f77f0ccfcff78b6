/**
 * `tasklane init` as a newcomer uses it: a task project made in an empty
 * temp folder outside this repository type-checks there with no install
 * (`tsc --noEmit` against this installation through the generated
 * tsconfig.json), its example test passes under `tasklane test` (and a broken
 * one fails it), a real daemon started from the project folder as its README
 * says loads the config, and the example task runs from the CLI to done with
 * its service. A second init overwrites nothing.
 */
import { execFile } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "vitest"
import { ok, tasklane } from "../support/CliProcess.ts"
import { removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"

const root = join(import.meta.dirname, "..", "..")
const scratch = mkdtempSync(join(tmpdir(), "tasklane-init-"))
const dataDir = tempDataDir()
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
  removeDataDir(dataDir)
})

const written = ["README.md", "tasklane.config.ts", "tasks/Greet.test.ts", "tasks/Greet.ts", "tasks/Greeter.ts", "tsconfig.json"]

describe("tasklane init", () => {
  it("makes a project that type-checks with no install, and whose example a real daemon runs to done", async () => {
    const project = join(scratch, "my-tasks")
    const made = JSON.parse(await ok(dataDir, ["init", project, "--json"])) as { directory: string; files: Array<string> }
    expect(made).toEqual({ directory: project, files: written })
    expect(existsSync(join(project, "node_modules"))).toBe(false)
    expect(readFileSync(join(project, "README.md"), "utf8")).toContain(`alias tasklane='node ${root}/apps/daemon/bin/tasklane.mjs'`)

    // The README's type-check command, from the project folder.
    const tsc = await promisify(execFile)(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "--noEmit"], { cwd: project })
      .then(() => ({ code: 0, stdout: "" }), (error: { code: number; stdout: string }) => error)
    expect(tsc.stdout).toBe("")
    expect(tsc.code).toBe(0)

    // A type error in the project is caught there: the paths really resolve (nothing is `any`).
    writeFileSync(join(project, "tasks", "Broken.ts"), `import { TaskDefinition } from "@tasklane/tasks"\nexport const n: number = TaskDefinition.defaults.timeout.toFixed()\n`)
    const broken = await promisify(execFile)(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "--noEmit"], { cwd: project })
      .then(() => ({ code: 0, stdout: "" }), (error: { code: number; stdout: string }) => error)
    expect(broken.stdout).toContain("tasks/Broken.ts")
    expect(broken.stdout).toContain("Type 'string' is not assignable to type 'number'")
    rmSync(join(project, "tasks", "Broken.ts"))

    // From the project folder, as its README says: the tsconfig.json there must not change how tasks load.
    const daemon = await startDaemon({ dataDir, cwd: project, args: ["--config", "tasklane.config.ts", "--no-examples", "--shutdown-grace", "1"] })
    try {
      const definitions = JSON.parse(await ok(dataDir, ["definitions", "--json"])) as Array<{ id: string; inputSchema?: unknown }>
      expect(definitions.map((d) => d.id)).toEqual(["greet"])
      expect(definitions[0]!.inputSchema).toBeDefined()
      const run = await tasklane(dataDir, ["trigger", "greet", "--input", '{"name":"Ada","times":2}', "--wait"])
      expect(run.stderr).toBe("")
      expect(run.code).toBe(0)
      expect(run.stdout.trim().split("\n").at(-1)).toBe('output: {"greetings":["Hello, Ada!","Hello, Ada!"]}')
      const taskId = run.stdout.split(" ")[0]!
      expect(await ok(dataDir, ["logs", taskId])).toContain("Hello, Ada!")
      const invalid = await tasklane(dataDir, ["trigger", "greet", "--input", '{"name":"","times":11}'])
      expect(invalid.code).toBe(2)
      expect(invalid.stderr).toContain("name:")
      expect(invalid.stderr).toContain("times:")
    } finally {
      await daemon.stop("SIGKILL")
    }
  }, 90_000)

  it("runs the project's tests with `tasklane test`: green as made, red when a test fails, exit 2 with none", async () => {
    const project = join(scratch, "tested")
    await ok(dataDir, ["init", project])
    const test = (cwd: string, args: ReadonlyArray<string> = []) =>
      promisify(execFile)(process.execPath, [join(root, "apps", "daemon", "bin", "tasklane.mjs"), "test", ...args], { cwd })
        .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (error: { code: number; stdout: string; stderr: string }) => error)

    const green = await test(project)
    expect(green.stdout).toContain("# pass 2")
    expect(green.stdout).toContain("# fail 0")
    expect(green.code).toBe(0)

    const file = join(project, "tasks", "Greet.test.ts")
    writeFileSync(file, readFileSync(file, "utf8").replace('["Hello, Ada!", "Hello, Ada!"]', '["Hello, Ada!"]'))
    const red = await test(project, ["tasks/Greet.test.ts"])
    expect(red.stdout).toContain("# fail 1")
    expect(red.stderr).toContain("tasklane: tests failed")
    expect(red.code).toBe(1)

    const empty = join(scratch, "empty")
    mkdirSync(empty)
    const none = await test(empty)
    expect(none.stderr).toBe(`tasklane: no *.test.ts files under ${empty}\n`)
    expect(none.code).toBe(2)
  }, 60_000)

  it("overwrites nothing: with any of its files present it writes none and names them", async () => {
    const project = join(scratch, "existing")
    mkdirSync(project)
    writeFileSync(join(project, "tsconfig.json"), "{ \"mine\": true }\n")
    writeFileSync(join(project, "notes.txt"), "unrelated\n")
    const refused = await tasklane(dataDir, ["init", project])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe(`tasklane: cannot create a task project in ${project}: tsconfig.json already exists; nothing was written (init never overwrites)\n`)
    expect(readFileSync(join(project, "tsconfig.json"), "utf8")).toBe("{ \"mine\": true }\n")
    expect(existsSync(join(project, "tasklane.config.ts"))).toBe(false)

    // Unrelated files are no obstacle; the default folder is the current one.
    rmSync(join(project, "tsconfig.json"))
    const made = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [join(root, "apps", "daemon", "bin", "tasklane.mjs"), "init"], { cwd: project }, (error, stdout) =>
        error ? reject(error) : resolve(stdout))
    )
    expect(made).toContain(`created a task project in ${project}:`)
    for (const file of written) expect(existsSync(join(project, file)), file).toBe(true)
    expect(readFileSync(join(project, "notes.txt"), "utf8")).toBe("unrelated\n")
  })
})
