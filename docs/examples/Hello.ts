/** The smallest task: it greets someone and finishes in one iteration. */
import { TaskDefinition } from "@tasklane/tasks"

type Input = { readonly name: string }
type Output = { readonly greeting: string }

class Hello implements TaskDefinition.Interface<Input, Output> {
  readonly id = "hello"
  readonly title = "Say hello"

  run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    controller.logger.info(`Greeting ${input.name}`)
    return controller.response.done({ greeting: `Hello, ${input.name}!` })
  }
}

/** The `hello` task, as the daemon loads it. */
export default TaskDefinition.createImplementation({ implementation: Hello })
