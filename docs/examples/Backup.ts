/** A backup task whose hooks refuse bad triggers and report how each task ended. */
import { TaskDefinition } from "@tasklane/tasks"

interface Input {
  readonly database: string
}
interface Output {
  readonly file: string
}
type Hook = TaskDefinition.LifecycleHookParams<Input, Output>

class Backup implements TaskDefinition.Interface<Input, Output> {
  readonly id = "backup"
  readonly title = "Back up a database"

  run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    return controller.response.done({ file: `${input.database}.bak` })
  }

  // Before the task is stored: throw (or fail) to refuse the trigger.
  onBeforeTrigger({ input }: TaskDefinition.BeforeTriggerParams<Input>) {
    if (input.database === "production") throw new Error("production is backed up by the ops team")
  }

  // After the task ended: they get a snapshot of it, not a controller.
  onDone({ task }: Hook) {
    console.log(`backup ${task.id} wrote ${task.output?.file}`)
  }

  onError({ task }: Hook) {
    console.log(`backup ${task.id} failed: ${task.error?.message}`)
  }

  onAbort({ task }: Hook) {
    console.log(`backup ${task.id} was aborted in iteration ${task.iteration}`)
  }

  onMaxIterations({ task }: Hook) {
    console.log(`backup ${task.id} gave up after ${task.iteration} iterations`)
  }
}

/** The `backup` task. */
export default TaskDefinition.createImplementation({ implementation: Backup })
