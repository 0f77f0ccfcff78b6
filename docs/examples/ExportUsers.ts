/** Writes users to a JSON file; its input schema rejects bad input field by field. */
import { writeFile } from "node:fs/promises"
import { Effect, Schema } from "effect"
import { TaskDefinition } from "@tasklane/tasks"

const User = Schema.Struct({
  name: Schema.NonEmptyString.annotate({ title: "Name" }),
  email: Schema.String.annotate({ title: "Email" })
    .check(Schema.isPattern(/^[^@\s]+@[^@\s]+$/, { message: "must be an email address" })),
})

const Input = Schema.Struct({
  users: Schema.Array(User).annotate({ title: "Users", description: "Who to export" }),
  target: Schema.NonEmptyString.annotate({ title: "Target file", description: "Where to write the JSON" }),
  indent: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 8 }))
    .annotate({ title: "Indent", description: "Spaces per level", default: 2 })
    .pipe(Schema.withDecodingDefaultKey(Effect.succeed(2))),
})
type Input = typeof Input.Type
interface Output {
  readonly count: number
}

class ExportUsers implements TaskDefinition.Interface<Input, Output> {
  readonly id = "exportUsers"
  readonly title = "Export users"

  createInputValidation() {
    return Input
  }

  async run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    await writeFile(input.target, JSON.stringify(input.users, null, input.indent))
    return controller.response.done({ count: input.users.length })
  }
}

/** The `exportUsers` task. */
export default TaskDefinition.createImplementation({ implementation: ExportUsers })
