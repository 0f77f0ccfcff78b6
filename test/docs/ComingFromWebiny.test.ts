/**
 * docs/coming-from-webiny.md stays true: its Webiny task "before" and
 * "after" differ in nothing but the import line, and the "after" compiles
 * against `@tasklane/tasks` with the repository's strict compiler settings (a
 * type-level test of a Webiny-style class); a variant that breaks Webiny's
 * contract does not compile.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { typeErrors } from "./TypeCheck.ts"

const root = join(import.meta.dirname, "..", "..")
const guide = readFileSync(join(root, "docs", "coming-from-webiny.md"), "utf8")
const block = (name: string): string => {
  const match = new RegExp(`<!-- webiny: ${name} -->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(guide)
  if (match === null) throw new Error(`no "${name}" block in the guide`)
  return match[1]!
}

describe("coming from Webiny", () => {
  const before = block("before")
  const after = block("after")

  it("the Tasklane version of the Webiny task differs only in its import line", () => {
    const webinyImport = 'import { TaskDefinition } from "@webiny/api-core/features/task/TaskDefinition/index.js";'
    expect(before.startsWith(webinyImport)).toBe(true)
    expect(after).toBe(before.replace(webinyImport, 'import { TaskDefinition } from "@tasklane/tasks";'))
  })

  it("compiles with strict settings; breaking Webiny's contract does not", () => {
    const file = join(root, "test", "docs", "SendWebhook.virtual.ts")
    const broken = join(root, "test", "docs", "SendWebhookBroken.virtual.ts")
    const errors = typeErrors({
      [file]: after,
      // Webiny's validator has no `nope`, and error() needs a message first when given details.
      [broken]: after.replace("validator.string(),\n", "validator.nope(),\n").replace('error("Webhook delivery failed", error)', "error(1, error)"),
    })
    expect(errors[file]).toEqual([])
    expect(errors[broken]!.join("\n")).toMatch(/nope/)
    expect(errors[broken]!.length).toBe(2)
  }, 60_000)
})
