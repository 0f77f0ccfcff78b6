/** Backs up several databases: one child `backup` task per database, a minute apart, watched until all have ended. */
import { TaskDefinition } from "@tasklane/tasks"

interface Input {
  readonly databases: ReadonlyArray<string>
  /** Set once the children are triggered: later iterations only watch them. */
  readonly triggered?: boolean
}
interface Output {
  readonly backedUp: ReadonlyArray<string>
  readonly failed: ReadonlyArray<string>
}

const unfinished = new Set<TaskDefinition.TaskStatus>(["triggered", "running", "continue"])
const database = (child: TaskDefinition.TaskSnapshot) => (child.input as { database: string }).database

class BackupAll implements TaskDefinition.Interface<Input, Output> {
  readonly id = "backupAll"
  readonly title = "Back up several databases"
  readonly maxIterations = 1_000

  async run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    if (input.triggered !== true) {
      for (const [index, name] of input.databases.entries()) {
        // A child is a task of its own (listed, shown, aborted like any other) whose parentId is this task.
        await controller.task.trigger({ definition: "backup", input: { database: name }, name: `backup ${name}`, delay: index * 60 })
      }
      return controller.response.continue({ ...input, triggered: true }, { seconds: 5 })
    }
    const children = await controller.task.listChildren("backup")
    const waiting = children.filter((child) => unfinished.has(child.status))
    controller.state.setProgress({ completed: children.length - waiting.length, total: children.length })
    if (waiting.length > 0) return controller.response.continue(input, { seconds: 5 }) // look again in 5 s
    return controller.response.done({
      backedUp: children.filter((child) => child.status === "done").map(database),
      failed: children.filter((child) => child.status !== "done").map(database),
    })
  }
}

/** The `backupAll` task. */
export default TaskDefinition.createImplementation({ implementation: BackupAll })
