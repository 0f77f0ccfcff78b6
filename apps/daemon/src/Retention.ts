/**
 * Retention in the daemon: the Prune RPC's work (export each task's history
 * first when asked, prune the store, report the size on disk before and
 * after) and, when the config has `retention`, a fiber that prunes when the
 * daemon starts and then every `every` (default 1 h). One prune runs at a
 * time (a semaphore): a `tasklane prune` during a periodic one waits for it.
 *
 * `info` is the store's retention figures for Info, which UIs poll: the
 * store stats every file for `sizeOnDisk` and reads for `oldestRetained`
 * (about 1 ms), so the figures are kept for {@link infoMaxAgeMs} and read
 * again after that, or right away once a prune through this service ends
 * (nothing else prunes a running daemon's store).
 *
 * Exported files use the history file format of `tasklane export`
 * (`HistoryFile` in @tasklane/core), one `<taskId>.json` per task, written
 * before the task's records are deleted; a failed write stops the prune
 * (what was exported and deleted so far stays so).
 */
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { Clock, Context, Duration, Effect, Layer, Semaphore } from "effect"
import { EventStore, HistoryFile, type Replay, StoreErrors, StoreRetention, TaskRpc } from "@tasklane/core"
import type { Config } from "@tasklane/tasks"
import * as TaskErrors from "./TaskErrors.ts"

const units: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** A duration like `30d`, `12h`, `90m`, `45s`, `500ms` or `2w`, in milliseconds; undefined when it is not one. */
export const parseDuration = (text: string): number | undefined => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(text)
  if (match === null) return undefined
  const ms = Number(match[1]) * units[match[2]!]!
  return Number.isFinite(ms) ? Math.round(ms) : undefined
}

const statuses: ReadonlyArray<string> = StoreRetention.PrunableStatus.literals

/** What is wrong with a config's `retention`, if anything (configs may be plain JavaScript: nothing is trusted). */
export const configProblem = (retention: unknown): string | undefined => {
  if (retention === undefined) return undefined
  if (typeof retention !== "object" || retention === null) return "`retention` must be an object like { olderThan: \"30d\" }"
  const r = retention as Record<string, unknown>
  if (typeof r["olderThan"] !== "string" || parseDuration(r["olderThan"]) === undefined) {
    return "`retention.olderThan` must be a duration like \"30d\", \"12h\" or \"90m\""
  }
  if (r["every"] !== undefined && (typeof r["every"] !== "string" || !(parseDuration(r["every"])! > 0))) {
    return "`retention.every` must be a positive duration like \"1h\""
  }
  if (r["statuses"] !== undefined && (!Array.isArray(r["statuses"]) || r["statuses"].some((s) => !statuses.includes(s)))) {
    return `\`retention.statuses\` must list some of ${statuses.join(", ")}`
  }
  return undefined
}

/** A Prune request (the RPC's payload). */
export interface PruneRequest {
  readonly olderThanMs: number
  readonly statuses?: ReadonlyArray<StoreRetention.PrunableStatus> | undefined
  readonly dryRun?: boolean | undefined
  readonly exportTo?: string | undefined
}

/** How long Info's retention figures are reused before the store is asked again. */
export const infoMaxAgeMs = 2_000

/** The retention service. */
export class Retention extends Context.Service<
  Retention,
  {
    /** Prunes now (waits for a prune already running). */
    readonly prune: (request: PruneRequest) => Effect.Effect<TaskRpc.PruneReport, TaskErrors.InvalidField | TaskErrors.StorageFailed>
    /** The store's retention figures, at most {@link infoMaxAgeMs} old and never from before the last prune. */
    readonly info: Effect.Effect<EventStore.RetentionInfo, StoreErrors.StoreError>
  }
>()("@tasklane/daemon/Retention") {}

/** Writes one task's history file into `dir`. */
const exportTo = (dir: string) => (task: Replay.TaskState, envelopesJson: string) =>
  Effect.tryPromise({
    try: () => {
      const doc: HistoryFile.HistoryFile = {
        format: HistoryFile.format,
        formatVersion: 1,
        taskId: task.context.taskId,
        definitionId: task.context.definitionId,
        exportedAt: new Date().toISOString(),
        events: JSON.parse(envelopesJson),
      }
      return Fs.writeFile(Path.join(dir, `${task.context.taskId}.json`), `${JSON.stringify(doc, null, 2)}\n`)
    },
    catch: (cause) => new StoreErrors.StoreError({ operation: "export", reason: cause instanceof Error ? cause.message : String(cause) }),
  })

/** The service, and with `config` the periodic prune for the layer's lifetime. */
export const layer = (config: Config.RetentionConfig | undefined) =>
  Layer.effect(
    Retention,
    Effect.gen(function*() {
      const store = yield* EventStore.EventStore
      const lock = yield* Semaphore.make(1)
      let cached: { readonly at: number; readonly info: EventStore.RetentionInfo } | undefined
      // Bumped when a prune ends: figures read while it ran are not kept.
      let generation = 0

      const info = Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (cached !== undefined && now - cached.at < infoMaxAgeMs) return Effect.succeed(cached.info)
        const started = generation
        return Effect.map(store.retention, (fresh) => {
          if (generation === started) cached = { at: now, info: fresh }
          return fresh
        })
      })

      const prepareDir = (dir: string | undefined) =>
        dir === undefined
          ? Effect.void
          : Path.isAbsolute(dir)
          ? Effect.tryPromise({
            try: () => Fs.mkdir(dir, { recursive: true }),
            catch: (cause) =>
              new TaskErrors.InvalidField({ field: "exportTo", reason: `cannot create ${dir} (${cause instanceof Error ? cause.message : String(cause)})` }),
          })
          : Effect.fail(new TaskErrors.InvalidField({ field: "exportTo", reason: `must be an absolute directory, got ${JSON.stringify(dir)}` }))

      const prune = (request: PruneRequest) =>
        Effect.gen(function*() {
          const dryRun = request.dryRun === true
          const dir = dryRun ? undefined : request.exportTo
          yield* prepareDir(dir)
          const before = (yield* Clock.currentTimeMillis) - request.olderThanMs
          const chosen = request.statuses ?? StoreRetention.PrunableStatus.literals
          const sizeBefore = (yield* store.retention).sizeOnDisk
          const result = yield* store.prune({
            before,
            statuses: chosen,
            dryRun,
            ...(dir === undefined ? {} : { exportTask: exportTo(dir) }),
          })
          const after = yield* store.retention
          return new TaskRpc.PruneReport({
            dryRun,
            before,
            statuses: chosen,
            tasks: result.tasks,
            events: result.events,
            bytes: result.bytes,
            kept: result.kept,
            taskIds: result.taskIds,
            ...(dir === undefined ? {} : { exportedTo: dir }),
            prunedThrough: after.prunedThrough,
            oldestRetained: after.oldestRetained,
            ...(sizeBefore === undefined ? {} : { sizeBefore }),
            ...(after.sizeOnDisk === undefined ? {} : { sizeAfter: after.sizeOnDisk }),
            millis: result.millis,
          })
        }).pipe(
          Effect.mapError((error) => (error._tag === "StoreError" ? TaskErrors.storageFailed(error) : error)),
          Effect.ensuring(Effect.sync(() => {
            generation++
            cached = undefined
          })),
          lock.withPermits(1),
        )

      if (config !== undefined) {
        const olderThanMs = parseDuration(config.olderThan)!
        const every = Duration.millis(config.every === undefined ? 3_600_000 : parseDuration(config.every)!)
        const once = prune({ olderThanMs, statuses: config.statuses }).pipe(
          Effect.tap((report) =>
            report.tasks === 0 ? Effect.void : Effect.logInfo(
              `retention: pruned ${report.tasks} finished task(s) older than ${config.olderThan} (${report.events} events) in ${report.millis} ms`,
            )
          ),
          Effect.catch((error) => Effect.logError("retention: the periodic prune failed", error)),
        )
        yield* Effect.forkScoped(Effect.forever(Effect.andThen(once, Effect.sleep(every))))
      }
      return { prune, info }
    }),
  )
