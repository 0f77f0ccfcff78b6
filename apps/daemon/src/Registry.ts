/**
 * The loaded task definitions. Built once at start: the config's layer is
 * built in the daemon's scope, each implementation is constructed with the
 * services it declares, and every definition is validated (camelCase unique
 * ids, limits). A missing service or an invalid class is a startup error
 * naming the class and what is wrong.
 */
import { Context, Effect, Layer } from "effect"
import type { Lifecycle, TaskEvent } from "@tasklane/core"
import { TaskRpc } from "@tasklane/core"
import { TaskDefinition } from "@tasklane/tasks/host"

/** A definition plus what the daemon derives from it once. */
export interface Entry {
  readonly definition: TaskDefinition.Definition
  /** The hooks the class implements (for `Lifecycle.decide`). */
  readonly decideOptions: Lifecycle.DecideOptions
  /** What clients see (with the input's JSON Schema). */
  readonly info: TaskRpc.DefinitionInfo
}

const hookNames: ReadonlyArray<TaskEvent.HookName> = ["onDone", "onError", "onAbort", "onMaxIterations"]

const toEntry = (definition: TaskDefinition.Definition): Entry => {
  const task = definition.task as unknown as Record<string, unknown>
  const inputSchema = TaskDefinition.inputJsonSchema(definition.task)
  return {
    definition,
    decideOptions: {
      hooks: new Set(hookNames.filter((hook) => typeof task[hook] === "function")),
      maxCrashRetries: definition.maxCrashRetries,
    },
    info: new TaskRpc.DefinitionInfo({
      id: definition.id,
      title: definition.title,
      ...(definition.description === undefined ? {} : { description: definition.description }),
      maxIterations: definition.maxIterations,
      databaseLogs: definition.databaseLogs,
      isPrivate: definition.isPrivate,
      timeoutSeconds: definition.timeout,
      closeToTimeoutSeconds: definition.closeToTimeout,
      ...(inputSchema === undefined ? {} : { inputSchema }),
    }),
  }
}

/** The registry service: definitions by id. */
export class Registry extends Context.Service<
  Registry,
  {
    /** The definition with this id, if loaded. */
    readonly get: (id: string) => Entry | undefined
    /** Every definition, in load order. */
    readonly all: ReadonlyArray<Entry>
  }
>()("@tasklane/daemon/Registry") {}

/** Builds the config's layer and loads every implementation with its services. */
export const layer = (
  implementations: ReadonlyArray<TaskDefinition.Implementation.Any>,
  services: Layer.Layer<any, any, never> | undefined,
) =>
  Layer.effect(
    Registry,
    Effect.gen(function*() {
      const context = yield* Layer.build(services ?? Layer.empty)
      const definitions = yield* TaskDefinition.loadDefinitions(implementations, context as Context.Context<any>)
      const entries = definitions.map(toEntry)
      const byId = new Map(entries.map((entry) => [entry.definition.id, entry]))
      return { get: (id: string) => byId.get(id), all: entries }
    }),
  )
