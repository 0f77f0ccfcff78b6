/** The greet task, run in-process by the test kit on a virtual clock: `tasklane test` runs this file. */
import assert from "node:assert/strict"
import { test } from "node:test"
import * as Testing from "@tasklane/tasks/testing"
import Greet from "./Greet.ts"
import { layerEnglish } from "./Greeter.ts"

test("greets twice, one iteration a second apart", async () => {
  const report = await Testing.runPromise(Greet, { input: { name: "Ada", times: 2 }, layer: layerEnglish })
  assert.equal(report.status, "done")
  assert.deepEqual(report.output, { greetings: ["Hello, Ada!", "Hello, Ada!"] })
  // The second iteration starts a (virtual) second after the first: nothing really waited.
  assert.equal(report.iterations[1]!.startedAt - report.iterations[0]!.startedAt, 1000)
})

test("refuses an empty name before any iteration runs", async () => {
  await assert.rejects(Testing.runPromise(Greet, { input: { name: "" }, layer: layerEnglish }), /name/)
})
