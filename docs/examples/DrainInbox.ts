/** Moves every file of an inbox folder to an archive folder: abort, checkpoints and polling. */
import { readdir, rename } from "node:fs/promises"
import { join } from "node:path"
import { TaskDefinition } from "@tasklane/tasks"

interface Input {
  readonly inbox: string
  readonly archive: string
  /** Keep watching the inbox once it is empty. */
  readonly watch: boolean
}
interface Output {
  readonly moved: number
}

class DrainInbox implements TaskDefinition.Interface<Input, Output> {
  readonly id = "drainInbox"
  readonly title = "Drain an inbox folder"
  readonly maxIterations = 10_000

  async run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    const { runtime, response, state } = controller
    let moved = state.getOutput()?.moved ?? 0 // the output is kept across iterations
    for (const name of (await readdir(input.inbox)).sort()) {
      if (runtime.isAborted()) return response.aborted()
      // The inbox itself is the cursor: the next iteration starts where this one stopped.
      if (runtime.isCloseToTimeout()) return response.continue(input)
      await rename(join(input.inbox, name), join(input.archive, name))
      state.updateOutput({ moved: ++moved })
    }
    if (input.watch) return response.continue(input, { seconds: 30 }) // look again in 30 s
    return response.done({ moved })
  }
}

/** The `drainInbox` task. */
export default TaskDefinition.createImplementation({ implementation: DrainInbox })
