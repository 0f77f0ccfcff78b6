/**
 * `sleep100`: an I/O-bound task for the cluster figures (bench/src/Cluster.ts):
 * it waits 100 ms, as a task waiting on a remote call would, and answers
 * done. Loaded with `--tasks bench/src/tasks` beside apps/daemon/bench/bench.config.ts.
 * With concurrency 8 one daemon tops out near 80 tasks/s whatever its CPU,
 * so more daemons can only help by running more tasks at once: the honest
 * measure of scale-out on a 2-core machine.
 */
import { TaskDefinition } from "@tasklane/tasks"

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

class Sleep100 implements TaskDefinition.Interface {
  readonly id = "sleep100"
  readonly title = "Sleeps 100 ms, then done"
  async run({ controller }: TaskDefinition.RunParams) {
    await sleep(100)
    return controller.response.done()
  }
}

export default TaskDefinition.createImplementation({ implementation: Sleep100 })
