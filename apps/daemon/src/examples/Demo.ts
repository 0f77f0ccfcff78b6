/**
 * Built-in example task `demo`, "Demo: countdown": shows what a long-running
 * task looks like without touching any file. Each iteration counts one step:
 * it reports progress, logs, and continues after `delaySeconds` until `steps`
 * steps are done. `failAt` makes that step fail with `response.error(...)`; an
 * abort request is answered with `response.aborted()`. The lifecycle hooks
 * print the outcome on the daemon's stderr (hooks get a task snapshot, not a
 * controller, so they cannot write task logs).
 */
import { Effect, Schema } from "effect"
import { TaskDefinition } from "@tasklane/tasks"

/** The input of `demo`. */
export const Input = Schema.Struct({
  steps: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100 }))
    .annotate({ title: "Steps", description: "How many steps to count down", default: 5 })
    .pipe(Schema.withDecodingDefaultKey(Effect.succeed(5))),
  delaySeconds: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 60 }))
    .annotate({ title: "Seconds between steps", description: "How long to wait before the next step", default: 1 })
    .pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))),
  failAt: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
      .annotate({ title: "Fail at step", description: "Make this step fail, to see how a failed task looks" }),
  ),
  done: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
      .annotate({ title: "Steps done", description: "Written by the task between iterations; leave it empty" }),
  ),
}).check(
  Schema.makeFilter((input) =>
    input.failAt === undefined || input.failAt <= input.steps || { path: ["failAt"], issue: `must be at most steps (${input.steps})` }
  ),
)

/** The decoded input of `demo`. */
export type Input = typeof Input.Type

/** The output of `demo`. */
export interface Output {
  readonly steps: number
}

/** Counts down one step per iteration; see the module comment. */
export class Demo implements TaskDefinition.Interface<Input, Output> {
  readonly id = "demo"
  readonly title = "Demo: countdown"
  readonly description = "Counts down one step per iteration, with progress, logs, a delay between steps and an optional failure"
  readonly maxIterations = 100

  createInputValidation() {
    return Input
  }

  run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    const { runtime, response, state, logger } = controller
    const done = input.done ?? 0
    if (runtime.isAborted()) {
      logger.warn(`Aborted with ${input.steps - done} steps to go`)
      return response.aborted()
    }
    // Nothing was done yet in this iteration: checkpointing here loses nothing.
    if (runtime.isCloseToTimeout()) return response.continue(input)
    const step = done + 1
    if (input.failAt === step) {
      logger.error(`Step ${step} fails, as failAt asks`)
      return response.error({ message: `Step ${step} of ${input.steps} failed (failAt)`, code: "DemoFailure", data: { step } })
    }
    const left = input.steps - step
    state.setProgress({ completed: step, total: input.steps, message: left === 0 ? "Lift-off" : `${left} to go` })
    logger.info(`Step ${step} of ${input.steps}`, { remainingSeconds: runtime.getRemainingSeconds() })
    if (left === 0) return response.done("Lift-off", { steps: input.steps })
    return response.continue({ ...input, done: step }, { seconds: input.delaySeconds })
  }

  onDone({ task }: TaskDefinition.LifecycleHookParams<Input, Output>) {
    console.error(`[demo] task ${task.id} counted down ${task.output?.steps ?? "?"} steps`)
  }

  onError({ task }: TaskDefinition.LifecycleHookParams<Input, Output>) {
    console.error(`[demo] task ${task.id} failed: ${task.error?.message ?? "unknown error"}`)
  }

  onAbort({ task }: TaskDefinition.LifecycleHookParams<Input, Output>) {
    console.error(`[demo] task ${task.id} was aborted after ${task.input.done ?? 0} of ${task.input.steps} steps`)
  }
}

/** The `demo` example task. */
export default TaskDefinition.createImplementation({ implementation: Demo })
