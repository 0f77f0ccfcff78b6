/** Greets someone a few times, one greeting per iteration: an input schema, a service, continue and progress. */
import { type Context, Effect, Schema } from "effect"
import { TaskDefinition } from "@tasklane/tasks"
import { Greeter } from "./Greeter.ts"

const Input = Schema.Struct({
  name: Schema.NonEmptyString.annotate({ title: "Name", description: "Who to greet" }),
  times: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10 }))
    .annotate({ title: "Times", description: "How many greetings, one per iteration", default: 3 })
    .pipe(Schema.withDecodingDefaultKey(Effect.succeed(3))),
})
type Input = typeof Input.Type
interface Output {
  readonly greetings: ReadonlyArray<string>
}

class Greet implements TaskDefinition.Interface<Input, Output> {
  readonly id = "greet"
  readonly title = "Greet someone"
  readonly description = "Greets someone a few times, one greeting per iteration"

  // The Greeter from the config's layer (see `dependencies` below).
  constructor(private readonly greeter: Context.Service.Shape<typeof Greeter>) {}

  // Every trigger's input is decoded with this schema; bad input is refused field by field.
  createInputValidation() {
    return Input
  }

  run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    const greeter = this.greeter
    return Effect.gen(function*() {
      const greeting = yield* greeter.greet(input.name)
      const greetings = [...(controller.state.getOutput()?.greetings ?? []), greeting]
      controller.logger.info(greeting)
      controller.state.setProgress({ completed: greetings.length, total: input.times })
      if (greetings.length >= input.times) return controller.response.done({ greetings })
      // The output is kept for the next iteration, which runs in a second.
      controller.state.updateOutput({ greetings })
      return controller.response.continue(input, { seconds: 1 })
    })
  }
}

/** The `greet` task, as the daemon loads it. */
export default TaskDefinition.createImplementation({ implementation: Greet, dependencies: [Greeter] })
