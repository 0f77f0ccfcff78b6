/**
 * The built-in examples as the daemon loads them: valid definitions with
 * unique ids, and input schemas whose fields all carry a title and a
 * description (clients generate their forms from them).
 */
import { Context, Effect } from "effect"
import { TaskDefinition } from "@tasklane/tasks/host"
import { describe, expect, it } from "vitest"
import { examples } from "../../src/examples/index.ts"

describe("examples", () => {
  it("load as valid definitions without any service", async () => {
    const definitions = await Effect.runPromise(TaskDefinition.loadDefinitions(examples, Context.empty() as Context.Context<any>))
    expect(definitions.map((definition) => [definition.id, definition.title])).toEqual([
      ["hashFiles", "Find duplicate files"],
      ["csvToJsonl", "Convert CSV to JSON Lines"],
      ["demo", "Demo: countdown"],
    ])
  })

  it("describe every input field with a title and a description", async () => {
    const definitions = await Effect.runPromise(TaskDefinition.loadDefinitions(examples, Context.empty() as Context.Context<any>))
    for (const definition of definitions) {
      const schema = TaskDefinition.inputJsonSchema(definition.task)?.schema as { properties: Record<string, object> }
      for (const [name, property] of Object.entries(schema.properties)) {
        expect(property, `${definition.id}.${name}`).toMatchObject({ title: expect.any(String), description: expect.any(String) })
      }
    }
  })
})
