/**
 * Retention for the PostgreSQL store: the same rules as LevelPrune (which
 * tasks go, what of them goes, the watermark) in SQL. Effect side.
 *
 * Which tasks: a final status among the requested ones (deleted tasks too),
 * finished (`finishedAt`, else `updatedAt`) before the cutoff, no hook still
 * due, and no descendant (children, their children, ... to depth 32) that is
 * unfinished or has a hook due; a finished task kept for a hook or a
 * descendant counts as `kept`. Candidates are read in chunks of
 * {@link CHUNK}, newest created first (the listing order), outside the writer; each chunk is then
 * exported (if asked) and deleted in one transaction run alone by the writer
 * (`exclusive`), under the head lock: a task whose version moved since it was
 * chosen stays for the next prune. That transaction deletes the tasks'
 * events and summaries (the idempotency key goes with the summary) and
 * raises `pruned_through` in the head row to the highest position it
 * deleted, in the same commit, so no reader sees a hole above the watermark.
 * Positions are never reused: the head does not move back.
 */
import { Cause, Clock, Effect } from "effect"
import type * as SqlClient from "effect/sql/SqlClient"
import { pruneListLimit, type PruneRequest, type PruneResult } from "../EventStore.ts"
import type { StoreError } from "../StoreErrors.ts"
import type { TaskId } from "../Ids.ts"
import type * as Replay from "../Replay.ts"
import { finalStatuses, isFinal } from "../TaskMachine.ts"
import { parseState } from "./AppendGroup.ts"
import { toStoreError } from "./PgError.ts"
import { array } from "./PgSummary.ts"

/** Tasks deleted per transaction. */
export const CHUNK = 256
/** Deepest task tree searched for unfinished descendants. */
const MAX_DEPTH = 32

/** What prune needs from the store. */
export interface Context {
  /** The pool (reads). */
  readonly sql: SqlClient.SqlClient
  /** The writer's connection (the deleting transactions, run through `exclusive`). */
  readonly writerSql: SqlClient.SqlClient
  readonly exclusive: <A>(work: Effect.Effect<A, StoreError>) => Effect.Effect<A, StoreError>
  /** Called with the new watermark after a chunk committed. */
  readonly pruned: (prunedThrough: number) => void
  /** The watermark now. */
  readonly prunedThrough: () => number
}

const attempt = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, StoreError, R> =>
  Effect.catchCause(effect, (cause) => Effect.fail(toStoreError("prune")(Cause.squash(cause))))

/** Removes finished tasks as LevelPrune does (see the module header). */
export const make = ({ sql, writerSql, exclusive, pruned, prunedThrough }: Context) =>
  (request: PruneRequest): Effect.Effect<PruneResult, StoreError> =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const dryRun = request.dryRun === true
      const before = Math.floor(request.before)
      const wanted = (request.statuses ?? finalStatuses).filter(isFinal) as Array<string>
      const totals = { tasks: 0, events: 0, bytes: 0, kept: 0 }
      const taskIds: Array<TaskId> = []
      let after = ""
      for (;;) {
        if (wanted.length === 0) break
        const rows = yield* attempt(sql<{ state: string; created_key: string; busy: boolean; events: bigint; bytes: bigint }>`
          SELECT t.state, t.created_key,
            EXISTS (
              WITH RECURSIVE d(stream, depth) AS (
                SELECT c.stream, 1 FROM tasklane_tasks c WHERE c.parent_id = t.stream AND c.listed
                UNION ALL SELECT c.stream, d.depth + 1 FROM tasklane_tasks c JOIN d ON c.parent_id = d.stream WHERE c.listed AND d.depth < ${MAX_DEPTH}
              )
              SELECT 1 FROM d JOIN tasklane_tasks x ON x.stream = d.stream
              WHERE x.status <> ALL(${array(finalStatuses as Array<string>)}::text[]) OR x.pending_hook IS NOT NULL
            ) AS busy,
            (SELECT count(*) FROM tasklane_events e WHERE e.stream = t.stream) AS events,
            length(t.state) + (SELECT coalesce(sum(length(e.envelope)), 0) FROM tasklane_events e WHERE e.stream = t.stream) AS bytes
          FROM tasklane_tasks t
          WHERE t.status = ANY(${array(wanted)}::text[]) AND t.created_at < ${before} AND t.created_key > ${after}
          ORDER BY t.created_key LIMIT ${CHUNK}`)
        if (rows.length === 0) break
        after = rows.at(-1)!.created_key
        const chosen: Array<{ readonly state: Replay.TaskState; readonly events: number; readonly bytes: number }> = []
        for (const row of rows) {
          const state = parseState("prune", row.state)
          if ((state.context.finishedAt ?? state.context.updatedAt) >= before) continue
          if (state.context.pendingHook !== undefined || row.busy) {
            totals.kept += 1
            continue
          }
          chosen.push({ state, events: Number(row.events), bytes: Number(row.bytes) })
        }
        let removed = chosen
        if (!dryRun && chosen.length > 0) {
          if (request.exportTask !== undefined) {
            for (const { state } of chosen) {
              const envelopes = yield* attempt(sql<{ envelope: string }>`SELECT envelope FROM tasklane_events WHERE stream = ${state.context.taskId} ORDER BY version`)
              yield* request.exportTask(state, `[${envelopes.map((e) => e.envelope).join(",")}]`)
            }
          }
          const gone = yield* exclusive(attempt(writerSql.withTransaction(
            Effect.gen(function* () {
              yield* writerSql`SELECT position FROM tasklane_head FOR UPDATE`
              const streams = chosen.map(({ state }) => state.context.taskId as string)
              const versions = chosen.map(({ state }) => state.context.version)
              // Only tasks still at the version they were chosen at.
              const deleted = yield* writerSql<{ stream: string }>`DELETE FROM tasklane_tasks t USING unnest(${array(streams)}::text[], ${array(versions)}::int4[]) AS c(stream, version)
                WHERE t.stream = c.stream AND t.version = c.version RETURNING t.stream`
              const names = deleted.map((d) => d.stream)
              const [top] = yield* writerSql<{ top: bigint | null }>`WITH gone AS (
                  DELETE FROM tasklane_events WHERE stream = ANY(${array(names)}::text[]) RETURNING position
                ) SELECT max(position) AS top FROM gone`
              const [head] = yield* writerSql<{ pruned_through: bigint }>`UPDATE tasklane_head SET pruned_through = greatest(pruned_through, ${Number(top?.top ?? 0)})
                RETURNING pruned_through`
              return { names: new Set(names), prunedThrough: Number(head?.pruned_through ?? 0) }
            }),
          )))
          pruned(gone.prunedThrough)
          removed = chosen.filter(({ state }) => gone.names.has(state.context.taskId))
          totals.kept += chosen.length - removed.length
        }
        for (const { state, events, bytes } of removed) {
          totals.tasks += 1
          totals.events += events
          totals.bytes += bytes
          if (taskIds.length < pruneListLimit) taskIds.push(state.context.taskId)
        }
      }
      const finished = yield* Clock.currentTimeMillis
      return { dryRun, ...totals, taskIds, prunedThrough: prunedThrough(), millis: finished - started }
    })
