/**
 * Task definitions for the comparison benchmark (loaded by the daemon that
 * `pnpm bench` starts with `--config bench/tasklane.config.ts`):
 * - `noop`: answers done at once (workloads a and c);
 * - `steps20`: a 20-iteration task that answers continue 19 times, then done
 *   (workload b; BullMQ's counterpart is a step job, see src/BullWorker.ts).
 */
import { defineConfig, TaskDefinition } from "@tasklane/tasks"

class Noop implements TaskDefinition.Interface {
  readonly id = "noop"
  readonly title = "Answers done at once"
  run({ controller }: TaskDefinition.RunParams) {
    return controller.response.done()
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
  tasks: [TaskDefinition.createImplementation({ implementation: Noop }), TaskDefinition.createImplementation({ implementation: Steps20 })],
})
