/**
 * The daemon's handlers for every RPC of `TaskRpc.TaskRpcs`: thin adapters
 * from requests to the task service, the event store, the registry and the
 * scheduler, the schedules, retention. Storage failures become `DaemonError`; nothing here throws.
 */
import { Effect, Stream } from "effect"
import { EventStore, TaskEvent, TaskRpc } from "@tasklane/core"
import type { Ids } from "@tasklane/core"
import { Registry } from "./Registry.ts"
import { Retention } from "./Retention.ts"
import { Scheduler } from "./Scheduler.ts"
import { Schedules } from "./Schedules.ts"
import { Tasks } from "./Tasks.ts"

/** What Info reports about this process. */
export interface DaemonIdentity {
  readonly version: string
  readonly dataDir: string
  readonly startedAt: number
  readonly concurrency: number
}

const toDaemonError = (error: { readonly message: string }) => new TaskRpc.DaemonError({ reason: error.message })
const toWire = (recorded: TaskEvent.RecordedEvent) => TaskEvent.toEnvelope(recorded) as TaskEvent.EventEnvelope

const toLogLine = (recorded: TaskEvent.RecordedEvent): TaskRpc.LogLine | undefined => {
  const event = recorded.event
  if (event._tag !== "TaskLogged") return undefined
  return new TaskRpc.LogLine({
    taskId: recorded.stream,
    version: recorded.version,
    at: recorded.at,
    level: event.level,
    message: event.message,
    ...(event.data === undefined ? {} : { data: event.data }),
  })
}

/** The object without its undefined fields (for exactOptionalPropertyTypes). */
const definedOnly = <A extends object>(fields: A): { [K in keyof A]: Exclude<A[K], undefined> } =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as never

/** The handlers layer. */
export const layer = (identity: DaemonIdentity) =>
  TaskRpc.TaskRpcs.toLayer(
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const tasks = yield* Tasks
      const registry = yield* Registry
      const scheduler = yield* Scheduler
      const schedules = yield* Schedules
      const retention = yield* Retention

      const logs = (taskId: Ids.TaskId, follow: boolean) =>
        Effect.gen(function*() {
          yield* tasks.get(taskId)
          const head = yield* store.head
          const past = (yield* store.readStream(taskId).pipe(Effect.mapError(toDaemonError))).filter((e) => e.position <= head)
          const lines = Stream.fromIterable(past.flatMap((e) => toLogLine(e) ?? []))
          // Finished as of `head`: decided from the events read, so a task ending meanwhile is seen live.
          if (!follow || past.some((e) => TaskEvent.finalTypes.has(e.event._tag))) return lines
          const live = store.subscribe(head + 1).pipe(
            Stream.mapError(toDaemonError),
            Stream.filter((recorded) => recorded.stream === taskId),
            Stream.takeUntil((recorded) => TaskEvent.finalTypes.has(recorded.event._tag)),
            Stream.map(toLogLine),
            Stream.filter((line): line is TaskRpc.LogLine => line !== undefined),
          )
          return Stream.concat(lines, live)
        })

      return {
        Definitions: ({ includePrivate }) =>
          Effect.succeed(registry.all.filter((entry) => includePrivate === true || !entry.info.isPrivate).map((entry) => entry.info)),
        Trigger: (request) => tasks.trigger(request),
        TriggerMany: ({ triggers }) => tasks.triggerMany(triggers),
        ValidateInput: ({ definitionId, input }) => tasks.validateInput(definitionId, input),
        Abort: ({ taskId, message }) => tasks.abort(taskId, message),
        GetTask: ({ taskId }) => tasks.get(taskId),
        ListTasks: ({ limit, cursor, status, definitionId, parentId, forkedFrom, search }) =>
          store.listTasks(definedOnly({ status, definitionId, parentId, forkedFrom, search }), definedOnly({ limit: limit ?? 100, cursor })).pipe(
            Effect.map((page) => new TaskRpc.TaskPage(page)),
            Effect.mapError(toDaemonError),
          ),
        History: ({ taskId, fromVersion, limit }) =>
          tasks.get(taskId).pipe(
            Effect.andThen(store.readStreamJson(taskId, fromVersion, limit)),
            Effect.mapError((error) => (error._tag === "StoreError" ? toDaemonError(error) : error)),
          ),
        Logs: ({ taskId, follow }) => Stream.unwrap(logs(taskId, follow === true)),
        Subscribe: ({ fromPosition, types }) => {
          // Absent: from the start of what is retained (0); 1 fails once anything was pruned.
          const all = store.subscribe(fromPosition ?? 0)
          const wanted = types === undefined ? undefined : new Set(types)
          const chosen = wanted === undefined ? all : all.pipe(Stream.filter((recorded) => wanted.has(recorded.event._tag)))
          return chosen.pipe(Stream.map(toWire), Stream.mapError((error) => (error._tag === "PositionPruned" ? error : toDaemonError(error))))
        },
        Prune: (request) => retention.prune(request),
        DeleteTask: ({ taskId }) =>
          tasks.execute(taskId, { _tag: "Delete" }).pipe(
            Effect.asVoid,
            Effect.catchTag("CommandRejected", (rejected) =>
              Effect.fail(new TaskRpc.NotAllowed({ taskId, status: rejected.status, reason: rejected.reason }))),
          ),
        Info: () =>
          Effect.gen(function*() {
            const head = yield* store.head
            const counts = yield* Effect.orElseSucceed(store.countByStatus, () => ({}))
            const kept = yield* Effect.option(retention.info)
            return new TaskRpc.DaemonInfo({
              ...identity,
              pid: process.pid,
              head,
              running: scheduler.runningCount(),
              queued: scheduler.queuedCount(),
              counts,
              store: yield* store.health,
              ...(kept._tag === "None" ? {} : {
                retention: {
                  prunedThrough: kept.value.prunedThrough,
                  oldestRetained: kept.value.oldestRetained,
                  ...(kept.value.sizeOnDisk === undefined ? {} : { sizeOnDisk: kept.value.sizeOnDisk }),
                },
              }),
            })
          }),
        ScheduleAdd: (request) => schedules.add(request),
        ScheduleList: () => schedules.list,
        SchedulePause: ({ scheduleId }) => schedules.pause(scheduleId),
        ScheduleResume: ({ scheduleId }) => schedules.resume(scheduleId),
        ScheduleRemove: ({ scheduleId }) => schedules.remove(scheduleId),
        ScheduleTriggerNow: ({ scheduleId }) => schedules.triggerNow(scheduleId),
        ScheduleHistory: ({ scheduleId }) => schedules.history(scheduleId),
      }
    }),
  )

