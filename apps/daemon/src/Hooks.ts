/**
 * Runs the lifecycle hook due after a task's final event (onDone, onError,
 * onAbort, onMaxIterations) through {@link Isolation} (inline or on a worker,
 * within the definition's timeout) and records HookCompleted or HookFailed. A
 * hook that throws, hangs or kills its worker never changes the outcome. Hooks run at least once: one whose
 * result is not recorded (the daemon died) is run again at the next start.
 */
import { Context, Effect, Layer } from "effect"
import type { Ids } from "@tasklane/core"
import { TaskDefinition } from "@tasklane/tasks/host"
import { Isolation } from "./Isolation.ts"
import { Registry } from "./Registry.ts"
import * as TaskErrors from "./TaskErrors.ts"
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
    const isolation = yield* Isolation

    const runDue = (taskId: Ids.TaskId) =>
      Effect.gen(function*() {
        const state = yield* tasks.get(taskId)
        const hook = state.context.pendingHook
        if (hook === undefined) return
        const entry = registry.get(state.context.definitionId)
        const error = entry === undefined
          ? undefined
          : yield* isolation.hook(entry.definition, hook, TaskDefinition.lifecycleHookParams(state, entry.definition))
        yield* tasks.execute(taskId, { _tag: "HookResult", hook, ...(error === undefined ? {} : { error }) })
      }).pipe(
        Effect.catch((error) => Effect.logWarning(`task ${taskId}: hook not recorded: ${error.message}`, ...TaskErrors.causeOf(error))),
      )

    return { runDue }
  }),
)
