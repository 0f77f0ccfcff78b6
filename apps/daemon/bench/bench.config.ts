/** Task definitions the daemon benchmark runs: a no-op and a long-running continuation. */
import { defineConfig, TaskDefinition } from "@tasklane/tasks"

class Noop implements TaskDefinition.Interface {
  readonly id = "noop"
  readonly title = "Answers done at once"
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
  }
}

class Iterate implements TaskDefinition.Interface<{ left: number }> {
  readonly id = "iterate"
  readonly title = "Continues until left reaches 0"
  readonly maxIterations = 100_000
  run({ input, controller }: TaskDefinition.RunParams<{ left: number }>) {
    return input.left <= 1 ? controller.response.done() : controller.response.continue({ left: input.left - 1 })
  }
}

export default defineConfig({
  tasks: [TaskDefinition.createImplementation({ implementation: Noop }), TaskDefinition.createImplementation({ implementation: Iterate })],
})
