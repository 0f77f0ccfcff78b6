/**
 * The guide's test-kit example (docs/writing-tasks.md, "Testing a task"),
 * run against the task `tasklane init` scaffolds: the kit drives it through
 * its iterations with the daemon's decisions on a virtual clock.
 */
import * as Testing from "@tasklane/tasks/testing"
import { expect, it } from "vitest"
import Greet from "../../apps/daemon/templates/init/tasks/Greet.ts"
import { layerEnglish } from "../../apps/daemon/templates/init/tasks/Greeter.ts"

it("greets twice, one iteration a second apart", async () => {
  const report = await Testing.runPromise(Greet, { input: { name: "Ada", times: 2 }, layer: layerEnglish })
  expect(report.status).toBe("done")
  expect(report.output).toEqual({ greetings: ["Hello, Ada!", "Hello, Ada!"] })
  expect(report.iterations[1]!.startedAt - report.iterations[0]!.startedAt).toBe(1000)
  expect(report.iterations.map((i) => i.logs.map((l) => l.message))).toEqual([["Hello, Ada!"], ["Hello, Ada!"]])
})
