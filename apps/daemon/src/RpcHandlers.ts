/**
 * The daemon's handlers for every RPC of `TaskRpc.TaskRpcs`: thin adapters
 * from requests to the task service, the event store, the registry and the
 * scheduler, the schedules, retention. This is the RPC edge: the services'
 * errors become the contract's wire errors here (`WireErrors.atEdge`, which
 * logs a storage failure's cause; the client gets `DaemonError`), and a store
 * failure met here directly becomes one the same way. Nothing here throws.
 */
import { Clock, Effect, Stream } from "effect"
import { EventStore, TaskEvent, TaskRpc } from "@tasklane/core"
import type { Ids } from "@tasklane/core"
import { Cluster } from "./Cluster.ts"
import { defined } from "./internal/Defined.ts"
import { Registry } from "./Registry.ts"
import { Retention } from "./Retention.ts"
import { Scheduler } from "./Scheduler.ts"
import { Schedules } from "./Schedules.ts"
import * as TaskErrors from "./TaskErrors.ts"
import { type ItemRefused, Tasks, type TriggerOutcome } from "./Tasks.ts"
import { atEdge, logCause, streamAtEdge, toWire } from "./WireErrors.ts"

/** What Info reports about this process. */
export interface DaemonIdentity {
  readonly version: string
  readonly dataDir: string
  readonly startedAt: number
  readonly concurrency: number
  /** Which event store this daemon runs on, and where (a URL without its password): Info says so. */
  readonly storeKind?: TaskRpc.StoreKind
  readonly storeLocation?: string
}

/**
 * The cluster as Info reports it; undefined when the daemon runs alone.
 * Heartbeat ages are reckoned here, by this daemon's clock, so every client
 * shows the same age whatever its own clock says. Info must answer even when
 * the nodes cannot be read (UIs poll it): the node list is then empty, and
 * why is logged.
 */
export const clusterInfo = (cluster: Cluster["Service"]): Effect.Effect<TaskRpc.ClusterInfo | undefined> => {
  const nodeId = cluster.nodeId
  if (nodeId === undefined) return Effect.succeed(undefined)
  return Effect.gen(function*() {
    const nodes = yield* cluster.nodes.pipe(
      Effect.catch((error) => Effect.as(Effect.logDebug("Info: cluster nodes left out", error), [])),
    )
    const now = yield* Clock.currentTimeMillis
    return {
      nodeId,
      nodes: nodes.map((node) =>
        new TaskRpc.ClusterNode({
          id: node.id,
          host: node.host,
          pid: node.pid,
          epoch: node.epoch,
          startedAt: node.startedAt,
          heartbeatAt: node.heartbeatAt,
          // The database's clock stamped the heartbeat; a daemon clock behind it would give a negative age.
          heartbeatAgeMs: Math.max(0, now - node.heartbeatAt),
          running: node.running,
          live: node.live,
        })
      ),
    }
  })
}

const storageFailed = (error: { readonly message: string }) => TaskErrors.storageFailed(error)
const toEnvelope = (recorded: TaskEvent.RecordedEvent) => TaskEvent.toEnvelope(recorded) as TaskEvent.EventEnvelope

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

/**
 * TriggerMany's outcomes as the wire has them. Items refused by a storage
 * failure are logged like a request's, once per batch (one store fault
 * usually refuses every item of it): the first one's cause and their count.
 */
const outcomesToWire = (outcomes: ReadonlyArray<TriggerOutcome>): Effect.Effect<ReadonlyArray<TaskRpc.TriggerOutcome>> => {
  const wire = outcomes.map((o) => (o._tag === "Triggered" ? o : new TaskRpc.TriggerItemRefused({ error: toWire(o.error) })))
  const failed = outcomes.filter((o) => o._tag === "TriggerItemRefused" && o.error._tag === "StorageFailed")
  return failed.length === 0 ? Effect.succeed(wire) : Effect.as(logCause(`TriggerMany (${failed.length} item(s) refused)`)((failed[0] as ItemRefused).error), wire)
}

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
      const cluster = yield* Cluster

      const logs = (taskId: Ids.TaskId, follow: boolean) =>
        Effect.gen(function*() {
          yield* tasks.get(taskId)
          const head = yield* store.head
          const past = (yield* store.readStream(taskId).pipe(Effect.mapError(storageFailed))).filter((e) => e.position <= head)
          const lines = Stream.fromIterable(past.flatMap((e) => toLogLine(e) ?? []))
          // Finished as of `head`: decided from the events read, so a task ending meanwhile is seen live.
          if (!follow || past.some((e) => TaskEvent.isFinal(e.event))) return lines
          const live = store.subscribe(head + 1).pipe(
            Stream.mapError(storageFailed),
            Stream.filter((recorded) => recorded.stream === taskId),
            Stream.takeUntil((recorded) => TaskEvent.isFinal(recorded.event)),
            Stream.map(toLogLine),
            Stream.filter((line): line is TaskRpc.LogLine => line !== undefined),
          )
          return Stream.concat(lines, live)
        })

      return {
        Definitions: ({ includePrivate }) =>
          Effect.succeed(registry.all.filter((entry) => includePrivate === true || !entry.info.isPrivate).map((entry) => entry.info)),
        Trigger: (request) => atEdge("Trigger")(tasks.trigger(request)),
        TriggerMany: ({ triggers }) =>
          tasks.triggerMany(triggers).pipe(Effect.flatMap(outcomesToWire), atEdge("TriggerMany")),
        ValidateInput: ({ definitionId, input }) => atEdge("ValidateInput")(tasks.validateInput(definitionId, input)),
        Abort: ({ taskId, message }) => atEdge("Abort")(tasks.abort(taskId, message)),
        GetTask: ({ taskId }) => atEdge("GetTask")(tasks.get(taskId)),
        ListTasks: ({ limit, cursor, status, definitionId, parentId, forkedFrom, search }) =>
          store.listTasks(defined({ status, definitionId, parentId, forkedFrom, search }), defined({ limit: limit ?? 100, cursor })).pipe(
            Effect.map((page) => new TaskRpc.TaskPage(page)),
            Effect.mapError(storageFailed),
            atEdge("ListTasks"),
          ),
        History: ({ taskId, fromVersion, limit }) =>
          tasks.get(taskId).pipe(
            Effect.andThen(store.readStreamJson(taskId, fromVersion, limit).pipe(Effect.mapError(storageFailed))),
            atEdge("History"),
          ),
        Logs: ({ taskId, follow }) => streamAtEdge("Logs")(Stream.unwrap(logs(taskId, follow === true))),
        Subscribe: ({ fromPosition, types }) => {
          // Absent: from the start of what is retained (0); 1 fails once anything was pruned.
          const all = store.subscribe(fromPosition ?? 0)
          const wanted = types === undefined ? undefined : new Set(types)
          const chosen = wanted === undefined ? all : all.pipe(Stream.filter((recorded) => wanted.has(recorded.event._tag)))
          return chosen.pipe(
            Stream.map(toEnvelope),
            Stream.mapError((error) => (error._tag === "PositionPruned" ? error : storageFailed(error))),
            streamAtEdge("Subscribe"),
          )
        },
        Prune: (request) => atEdge("Prune")(retention.prune(request)),
        DeleteTask: ({ taskId }) =>
          tasks.execute(taskId, { _tag: "Delete" }).pipe(
            Effect.asVoid,
            Effect.catchTag("CommandRejected", (rejected) =>
              Effect.fail(new TaskErrors.ActionNotAllowed({ taskId, status: rejected.status, reason: rejected.reason }))),
            atEdge("DeleteTask"),
          ),
        Info: () =>
          Effect.gen(function*() {
            const head = yield* store.head
            // Info answers even when the store cannot count or size itself (UIs poll it): those figures are left out, and why is logged.
            const counts = yield* store.countByStatus.pipe(
              Effect.catch((error) => Effect.as(Effect.logDebug("Info: task counts left out", error), {})),
            )
            const kept = yield* Effect.option(retention.info.pipe(Effect.tapError((error) => Effect.logDebug("Info: retention figures left out", error))))
            const nodes = yield* clusterInfo(cluster)
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
              ...(nodes === undefined ? {} : { cluster: nodes }),
            })
          }),
        ScheduleAdd: (request) => atEdge("ScheduleAdd")(schedules.add(request)),
        ScheduleList: () => schedules.list,
        SchedulePause: ({ scheduleId }) => atEdge("SchedulePause")(schedules.pause(scheduleId)),
        ScheduleResume: ({ scheduleId }) => atEdge("ScheduleResume")(schedules.resume(scheduleId)),
        ScheduleRemove: ({ scheduleId }) => atEdge("ScheduleRemove")(schedules.remove(scheduleId)),
        ScheduleTriggerNow: ({ scheduleId }) => atEdge("ScheduleTriggerNow")(schedules.triggerNow(scheduleId)),
        ScheduleHistory: ({ scheduleId }) => atEdge("ScheduleHistory")(schedules.history(scheduleId)),
      }
    }),
  )

