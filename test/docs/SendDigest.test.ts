/** Testing a task with the test kit: the guide's example (docs/writing-tasks.md, "Testing a task"). */
import * as Testing from "@tasklane/tasks/testing"
import { Effect, Layer } from "effect"
import { expect, it } from "vitest"
import { Mailer } from "../../docs/examples/Mailer.ts"
import SendDigest from "../../docs/examples/SendDigest.ts"

it("mails a digest through the Mailer it is given", async () => {
  const sent: Array<string> = []
  const report = await Testing.runPromise(SendDigest, {
    input: { to: "ada@example.com", items: ["a", "b"] },
    // A test double instead of the config's layer.
    layer: Layer.succeed(Mailer, { send: (to, subject) => Effect.sync(() => void sent.push(`${to}: ${subject}`)) }),
  })
  expect(report.status).toBe("done")
  expect(report.output).toEqual({ sent: true })
  expect(sent).toEqual(["ada@example.com: Digest: 2 items"])
})
