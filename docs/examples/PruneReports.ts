/** A task that schedules itself: nightly in Berlin, plus an hourly dry run. */
import { Schema } from "effect"
import { TaskDefinition } from "@tasklane/tasks"

const Input = Schema.Struct({
  olderThanDays: Schema.Number,
  dryRun: Schema.optional(Schema.Boolean),
})
type Input = typeof Input.Type
type Output = { readonly olderThanDays: number; readonly dryRun: boolean }

class PruneReports implements TaskDefinition.Interface<Input, Output> {
  readonly id = "pruneReports"
  readonly title = "Prune old reports"
  // Upserted by the daemon at every start as the schedules "pruneReports.nightly" and "pruneReports.hourly-preview".
  readonly schedules: ReadonlyArray<TaskDefinition.ScheduleDeclaration<Input>> = [
    { name: "nightly", cron: "15 3 * * *", tz: "Europe/Berlin", input: { olderThanDays: 30 } },
    { name: "hourly-preview", cron: "0 * * * *", input: { olderThanDays: 30, dryRun: true }, catchUp: "none" },
  ]

  createInputValidation() {
    return Input
  }

  run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    const dryRun = input.dryRun ?? false
    controller.logger.info(`${dryRun ? "Would prune" : "Pruning"} reports older than ${input.olderThanDays} days`)
    return controller.response.done({ olderThanDays: input.olderThanDays, dryRun })
  }
}

/** The `pruneReports` task, as the daemon loads it. */
export default TaskDefinition.createImplementation({ implementation: PruneReports })
