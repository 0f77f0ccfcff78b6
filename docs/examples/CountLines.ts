/** Counts the lines of a text file, streaming it: the Interface's metadata, progress and logs. */
import { createReadStream } from "node:fs"
import { stat } from "node:fs/promises"
import { TaskDefinition } from "@tasklane/tasks"

interface Input {
  readonly path: string
}
interface Output {
  readonly lines: number
  readonly bytes: number
}

class CountLines implements TaskDefinition.Interface<Input, Output> {
  readonly id = "countLines" // unique, camelCase; stored with every task
  readonly title = "Count lines" // what clients show
  readonly description = "Counts the lines of a text file"
  readonly maxIterations = 1 // default 50
  readonly timeout = 300 // seconds one iteration may run; default 900
  readonly closeToTimeout = 30 // isCloseToTimeout() threshold in seconds; default 180
  readonly databaseLogs = true // store controller.logger lines; default true
  readonly isPrivate = false // private: not in definition listings, triggered only by other tasks; default false

  async run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    const { size } = await stat(input.path)
    let lines = 0
    let bytes = 0
    for await (const chunk of createReadStream(input.path) as AsyncIterable<Buffer>) {
      for (const byte of chunk) if (byte === 0x0a) lines++
      bytes += chunk.length
      controller.state.setProgress({ completed: bytes, total: size, message: `${lines} lines so far` })
    }
    controller.logger.info(`${input.path} has ${lines} lines`)
    return controller.response.done(`${lines} lines`, { lines, bytes })
  }
}

/** The `countLines` task. */
export default TaskDefinition.createImplementation({ implementation: CountLines })
