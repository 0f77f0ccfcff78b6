/**
 * `tasklane init` as a newcomer uses it: a task project made in an empty
 * temp folder outside this repository type-checks there with no install
 * (`tsc --noEmit` against this installation through the generated
 * tsconfig.json), a real daemon loads its config, and the example task runs
 * from the CLI to done with its service. A second init overwrites nothing.
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

const written = ["README.md", "tasklane.config.ts", "tasks/Greet.ts", "tasks/Greeter.ts", "tsconfig.json"]

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

    const daemon = await startDaemon({ dataDir, args: ["--config", join(project, "tasklane.config.ts"), "--no-examples", "--shutdown-grace", "1"] })
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
