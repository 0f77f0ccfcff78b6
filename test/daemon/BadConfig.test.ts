/**
 * A config the daemon cannot run is a startup error the user can act on:
 * the process exits non-zero before it serves anything, and the message
 * names the task class and what is wrong with it.
 *
 * The configs are written to a temp folder with no package.json, as a user's
 * task folder often is, so these also check that the daemon loads TypeScript
 * from outside this repository (`effect` and `@tasklane/tasks` resolved to
 * its own copies): the errors must be about the task class, not the import.
 */
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"

const dirs: Array<string> = []
afterAll(() => dirs.forEach(removeDataDir))

/** Starts a daemon on a fresh data dir with `config` as its tasklane.config.ts; resolves when it exits. */
const runWithConfig = async (config: string) => {
  const dataDir = tempDataDir()
  dirs.push(dataDir)
  const configPath = join(dataDir, "tasklane.config.ts")
  writeFileSync(configPath, config)
  const daemon = await startDaemon({ dataDir, waitReady: false, args: ["--config", configPath, "--no-examples"] })
  const timer = setTimeout(() => daemon.stop("SIGKILL"), 25_000)
  const code = await daemon.exited
  clearTimeout(timer)
  return { code, output: daemon.output(), socketLeft: existsSync(daemon.socketPath) }
}

describe.concurrent("a bad config stops the daemon at start", () => {
  it("a task needing a service the config's layer does not provide: names the class and the service", async () => {
    const { code, output, socketLeft } = await runWithConfig(`
      import { Context, Layer } from "effect"
      import { defineConfig, TaskDefinition } from "@tasklane/tasks"

      class Mailer extends Context.Service<Mailer, { readonly send: (to: string) => void }>()("acme/Mailer") {}
      class Other extends Context.Service<Other, { readonly n: number }>()("acme/Other") {}

      class SendReport {
        readonly id = "sendReport"
        readonly title = "Sends the report"
        constructor(private readonly mailer: Context.Service.Shape<typeof Mailer>) {}
        run({ controller }: any) { return controller.response.done() }
      }

      export default defineConfig({
        tasks: [TaskDefinition.createImplementation({ implementation: SendReport, dependencies: [Mailer] })],
        layer: Layer.succeed(Other)({ n: 1 }),
      } as any)
    `)
    expect(code).toBe(1)
    expect(output).toContain("SendReport")
    expect(output).toContain(`"acme/Mailer"`)
    expect(output).toMatch(/does not provide/)
    expect(output).not.toContain(" serving ")
    expect(socketLeft).toBe(false)
  })

  it("a task whose id is not camelCase: names the class and the id", async () => {
    const { code, output, socketLeft } = await runWithConfig(`
      import { defineConfig, TaskDefinition } from "@tasklane/tasks"

      class ImportUsers {
        readonly id = "import-users"
        readonly title = "Imports users"
        run({ controller }: any) { return controller.response.done() }
      }

      export default defineConfig({ tasks: [TaskDefinition.createImplementation({ implementation: ImportUsers })] })
    `)
    expect(code).toBe(1)
    expect(output).toContain("ImportUsers")
    expect(output).toContain(`id "import-users" is not camelCase`)
    expect(output).not.toContain(" serving ")
    expect(socketLeft).toBe(false)
  })
})
