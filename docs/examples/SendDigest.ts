/** Mails a digest of items, through the Mailer service injected into its constructor. */
import { type Context, Effect } from "effect"
import { TaskDefinition } from "@tasklane/tasks"
import { Mailer } from "./Mailer.ts"

interface Input {
  readonly to: string
  readonly items: ReadonlyArray<string>
}
interface Output {
  readonly sent: boolean
}

class SendDigest implements TaskDefinition.Interface<Input, Output> {
  readonly id = "sendDigest"
  readonly title = "Send a digest"

  // One parameter per dependency, in order, typed as the service's shape.
  constructor(private readonly mailer: Context.Service.Shape<typeof Mailer>) {}

  // run may return an Effect: the daemon interrupts it on a hard timeout or a forced abort.
  run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    const mailer = this.mailer
    return Effect.gen(function*() {
      if (input.items.length === 0) return controller.response.done({ sent: false })
      yield* mailer.send(input.to, `Digest: ${input.items.length} items`, input.items.join("\n"))
      return controller.response.done({ sent: true })
    })
  }
}

/** The `sendDigest` task; the daemon passes it the Mailer from the config's layer. */
export default TaskDefinition.createImplementation({ implementation: SendDigest, dependencies: [Mailer] })
