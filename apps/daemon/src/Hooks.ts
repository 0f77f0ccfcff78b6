/**
 * Runs the lifecycle hook due after a task's final event (onDone, onError,
 * onAbort, onMaxIterations) and records HookCompleted or HookFailed. A hook
 * that throws never changes the outcome. Hooks run at least once: one whose
 * result is not recorded (the daemon died) is run again at the next start.
 */
import { Context, Duration, Effect, Layer } from "effect"
import type { Ids } from "@tasklane/core"
import { TaskDefinition } from "@tasklane/tasks"
import { Registry } from "./Registry.ts"
import { Tasks } from "./Tasks.ts"

/** The hook runner. */
export class Hooks extends Context.Service<
  Hooks,
  {
    /** Runs the task's due hook, if any, and records its result. */
    readonly runDue: (taskId: Ids.TaskId) => Effect.Effect<void>
  }
>()("@tasklane/daemon/Hooks") {}

/** The live hook runner. */
export const layer = Layer.effect(
  Hooks,
  Effect.gen(function*() {
    const tasks = yield* Tasks
    const registry = yield* Registry

    const runDue = (taskId: Ids.TaskId) =>
      Effect.gen(function*() {
        const state = yield* tasks.get(taskId)
        const hook = state.context.pendingHook
        if (hook === undefined) return
        const entry = registry.get(state.context.definitionId)
        const fn = entry?.definition.task[hook]
        const outcome = fn === undefined
          ? Effect.void
          : TaskDefinition.toEffect(() => fn.call(entry!.definition.task, TaskDefinition.lifecycleHookParams(state, entry!.definition))).pipe(
            Effect.timeoutOrElse({
              duration: Duration.seconds(entry!.definition.timeout),
              orElse: () => Effect.fail(new Error(`${hook} ran past ${entry!.definition.timeout} s`)),
            }),
          )
        const error = yield* outcome.pipe(
          Effect.as(undefined),
          Effect.catch((cause) => Effect.succeed(TaskDefinition.toErrorInfo(cause))),
        )
        yield* tasks.execute(taskId, { _tag: "HookResult", hook, ...(error === undefined ? {} : { error }) })
      }).pipe(Effect.catch((error) => Effect.logWarning(`task ${taskId}: hook not recorded: ${error.message}`)))

    return { runDue }
  }),
)
