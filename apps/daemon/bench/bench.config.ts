/**
 * Task definitions the benchmarks run (the daemon bench here and the
 * comparison with BullMQ in bench/):
 * - `noop`: answers done at once;
 * - `iterate`: continues until `left` reaches 0 (per-iteration overhead);
 * - `steps20`: continues 19 times, then done (the comparison's workload b;
 *   BullMQ's counterpart is a step job, see bench/src/BullWorker.ts).
 */
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

class Steps20 implements TaskDefinition.Interface<{ step: number }> {
  readonly id = "steps20"
  readonly title = "Continues 19 times, then done"
  readonly maxIterations = 100
  run({ input, controller }: TaskDefinition.RunParams<{ step: number }>) {
    return input.step >= 20 ? controller.response.done() : controller.response.continue({ step: input.step + 1 })
  }
}

export default defineConfig({
  tasks: [
    TaskDefinition.createImplementation({ implementation: Noop }),
    TaskDefinition.createImplementation({ implementation: Iterate }),
    TaskDefinition.createImplementation({ implementation: Steps20 }),
  ],
})
