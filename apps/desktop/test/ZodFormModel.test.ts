/**
 * The form model generated from a zod input schema, converted exactly as the
 * daemon does (`TaskDefinition.inputJsonSchema`: zod's own `z.toJSONSchema`),
 * for a task written as Webiny writes it (`createInputValidation({ validator
 * })` returning an object of zod fields): the fields, labels, help text,
 * constraints, defaults and options a user sees, and a record or a loose
 * object handled like their Effect Schema counterparts.
 */
import { TaskDefinition } from "@tasklane/tasks/host"
import { describe, expect, it } from "vitest"
import { type FormNode, fromJsonSchema, hints, initialValue } from "../src/renderer/form/FormModel.ts"

const formOf = (createInputValidation: NonNullable<TaskDefinition.Interface["createInputValidation"]>): FormNode =>
  fromJsonSchema(TaskDefinition.inputJsonSchema({
    id: "zodForm",
    title: "zod form",
    createInputValidation,
    run: ({ controller }) => controller.response.done(),
  }))

const fieldsOf = (node: FormNode) => (node.kind === "object" ? Object.fromEntries(node.fields.map((f) => [f.key, f])) : {})

describe("the form of a zod input schema", () => {
  it("has a field per zod field: labels, help text, constraints, the enum as a select, defaults", () => {
    const form = formOf(({ validator }) => ({
      webhookId: validator.string().min(1).describe("Which webhook to call"),
      eventName: validator.enum(["entry.created", "entry.deleted"]),
      attempts: validator.number().int().min(1).max(5).default(3),
      dryRun: validator.boolean().optional(),
      tags: validator.array(validator.string()).max(3),
    }))
    const fields = fieldsOf(form)
    expect(fields["webhookId"]).toMatchObject({ required: true, node: { kind: "string", label: "Webhook id", description: "Which webhook to call", minLength: 1 } })
    expect(fields["eventName"]?.node).toMatchObject({ kind: "select", options: [{ value: "entry.created" }, { value: "entry.deleted" }] })
    expect(fields["attempts"]).toMatchObject({ required: false, node: { kind: "number", integer: true, minimum: 1, maximum: 5, defaultValue: 3 } })
    expect(hints(fields["attempts"]!.node)).toContain("1 to 5")
    expect(fields["dryRun"]).toMatchObject({ required: false, node: { kind: "boolean" } })
    expect(fields["tags"]?.node).toMatchObject({ kind: "array", maxItems: 3, item: { kind: "string" } })
    // Empty required fields are left out (the schema then says "Required"); the default is filled in.
    expect(initialValue(form)).toEqual({ attempts: 3, tags: [] })
  })

  it("edits a record (Webiny's one-argument record too) as JSON, and a loose object as its fields", () => {
    const form = formOf(({ validator }) =>
      validator.object({
        data: validator.record(validator.unknown()),
        headers: validator.record(validator.string(), validator.string()),
        options: validator.looseObject({ retries: validator.number() }),
      })
    )
    const fields = fieldsOf(form)
    expect(fields["data"]?.node).toMatchObject({ kind: "json", reason: "record" })
    expect(fields["headers"]?.node).toMatchObject({ kind: "json", reason: "record" })
    expect(fields["options"]?.node).toMatchObject({ kind: "object", fields: [{ key: "retries", node: { kind: "number" } }] })
  })
})
