/**
 * Task summaries in PostgreSQL (`tasklane_tasks`, see PgSchema): the columns
 * a TaskState implies, and the statements that write many of them at once
 * (one statement per kind per group commit, the rows passed as arrays and
 * `unnest`ed). Also `dump`, the summaries as the LevelDB store's projection
 * records (same keys, same values), so a rebuild can be compared byte for
 * byte and the two stores against each other.
 */
import { Effect } from "effect"
import type * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import type * as Statement from "effect/sql/Statement"
import type * as Replay from "../Replay.ts"
import { taskStatuses } from "../TaskMachine.ts"
import * as Keys from "./RecordKeys.ts"

/** A summary row to write; `idempotencyKey` only when this task claims the key. */
export interface Row {
  readonly state: Replay.TaskState
  readonly idempotencyKey: string | null
}

/**
 * An array parameter. The client infers an array's element type from its
 * values, so an empty array or one of nulls only is sent as the array literal
 * instead (text, cast to the column's array type in the statement).
 */
export const array = <A>(values: ReadonlyArray<A | null>): ReadonlyArray<A | null> | string =>
  values.some((v) => v !== null) ? values : `{${values.map(() => "NULL").join(",")}}`

/**
 * A summary's state text up to its position, which a statement writes after
 * it, followed by `}}`: the position is the context's last key
 * (`contextKeys`) and the context the state's last, so the text ends with
 * `"position":N}}`.
 */
const textBeforePosition = (state: Replay.TaskState): string => {
  const text = JSON.stringify(state)
  const end = `${state.context.position}}}`
  if (!text.endsWith(`"position":${end}`)) throw new Error(`a task summary does not end with its position: ${text.slice(-80)}`)
  return text.slice(0, text.length - end.length)
}

/**
 * Where a statement takes the positions its summaries are written at: `base`
 * is an SQL value (the writer's: the position its statement found in the
 * head row), and a summary whose state was folded at position p is written
 * at `base + p - folded`; rows are written only `when` holds. (The writer
 * folds on the head it expects and lets the statement take the real one; a
 * plain insert writes the positions as they are.)
 */
export interface Positions {
  readonly base: Statement.Fragment
  readonly folded: number
  readonly when: Statement.Fragment
}

/** The column arrays of summary rows, for `unnest`. */
const columns = (rows: ReadonlyArray<Row>, folded: number) => {
  const out = {
    stream: [] as Array<string>, version: [] as Array<number>, stateHead: [] as Array<string>, offset: [] as Array<number>,
    status: [] as Array<string>, listed: [] as Array<boolean>, definition: [] as Array<string>, parent: [] as Array<string | null>,
    createdAt: [] as Array<number>, createdKey: [] as Array<string>, wakeAt: [] as Array<number | null>, hook: [] as Array<string | null>,
    finishedAt: [] as Array<number | null>, idempotencyKey: [] as Array<string | null>, node: [] as Array<string | null>,
    crashes: [] as Array<number | null>,
  }
  for (const { state, idempotencyKey } of rows) {
    const ctx = state.context
    out.stream.push(ctx.taskId)
    out.version.push(ctx.version)
    out.stateHead.push(textBeforePosition(state))
    out.offset.push(ctx.position - folded)
    out.status.push(state.status)
    out.listed.push(ctx.deleted !== true)
    out.definition.push(ctx.definitionId)
    out.parent.push(ctx.parentId ?? null)
    out.createdAt.push(Math.floor(ctx.createdAt))
    out.createdKey.push(Keys.created(ctx))
    out.wakeAt.push(ctx.wakeAt === undefined ? null : Math.floor(ctx.wakeAt))
    out.hook.push(ctx.pendingHook ?? null)
    out.finishedAt.push(ctx.finishedAt === undefined ? null : Math.floor(ctx.finishedAt))
    out.idempotencyKey.push(idempotencyKey)
    out.node.push(ctx.node ?? null)
    out.crashes.push(ctx.crashes ?? null)
  }
  return {
    stream: array(out.stream), version: array(out.version), stateHead: array(out.stateHead), offset: array(out.offset), status: array(out.status),
    listed: array(out.listed), definition: array(out.definition), parent: array(out.parent), createdAt: array(out.createdAt),
    createdKey: array(out.createdKey), wakeAt: array(out.wakeAt), hook: array(out.hook), finishedAt: array(out.finishedAt),
    idempotencyKey: array(out.idempotencyKey), node: array(out.node), crashes: array(out.crashes),
  }
}

/** The `unnest(...)` of summary rows and the alias naming its columns (`from_version` only when `from` is given). */
const unnestRows = (sql: SqlClient.SqlClient, rows: ReadonlyArray<Row>, folded: number, from?: ReadonlyArray<number>) => {
  const c = columns(rows, folded)
  const fromColumn = from === undefined ? sql`` : sql`${array(from)}::int4[], `
  const fromName = from === undefined ? sql`` : sql`from_version, `
  return sql`unnest(${fromColumn}${c.stream}::text[], ${c.version}::int4[], ${c.stateHead}::text[], ${c.offset}::int8[], ${c.status}::text[],
      ${c.listed}::bool[], ${c.definition}::text[], ${c.parent}::text[], ${c.createdAt}::int8[], ${c.createdKey}::text[], ${c.wakeAt}::int8[],
      ${c.hook}::text[], ${c.finishedAt}::int8[], ${c.idempotencyKey}::text[], ${c.node}::text[], ${c.crashes}::int4[])
    AS u(${fromName}stream, version, state_head, state_offset, status, listed, definition_id, parent_id, created_at, created_key, wake_at,
      pending_hook, finished_at, idempotency_key, node, crashes)`
}

/** The state column of `u` written at its position. */
const positionedState = (sql: SqlClient.SqlClient, at: Positions) => sql`u.state_head || (${at.base} + u.state_offset)::text || '}}'`

/** The INSERT of new summaries (a new row has no claim). */
export const insertStatement = (sql: SqlClient.SqlClient, rows: ReadonlyArray<Row>, at: Positions) =>
  sql`INSERT INTO tasklane_tasks (stream, version, state, status, listed, definition_id, parent_id, created_at, created_key, wake_at,
      pending_hook, finished_at, idempotency_key, node, crashes)
    SELECT u.stream, u.version, ${positionedState(sql, at)}, u.status, u.listed, u.definition_id, u.parent_id, u.created_at, u.created_key,
      u.wake_at, u.pending_hook, u.finished_at, u.idempotency_key, u.node, u.crashes
    FROM ${unnestRows(sql, rows, at.folded)} WHERE ${at.when}`

/** Inserts summaries of new tasks at the positions their states carry. */
export const insert = (sql: SqlClient.SqlClient, rows: ReadonlyArray<Row>): Effect.Effect<void, SqlError> =>
  rows.length === 0 ? Effect.void : Effect.asVoid(insertStatement(sql, rows, { base: sql`0`, folded: 0, when: sql`true` }))

/**
 * The UPDATE of existing summaries, each only if it is still at the version
 * it was read at (`from`), returning one row per summary changed.
 */
export const updateStatement = (sql: SqlClient.SqlClient, rows: ReadonlyArray<Row>, from: ReadonlyArray<number>, at: Positions) =>
  sql`UPDATE tasklane_tasks t SET version = u.version, state = ${positionedState(sql, at)}, status = u.status, listed = u.listed,
      definition_id = u.definition_id, parent_id = u.parent_id, created_at = u.created_at, created_key = u.created_key,
      wake_at = u.wake_at, pending_hook = u.pending_hook, finished_at = u.finished_at, node = u.node, crashes = u.crashes
    FROM ${unnestRows(sql, rows, at.folded, from)}
    WHERE t.stream = u.stream AND t.version = u.from_version AND ${at.when}
    RETURNING 1`

/**
 * Every summary as the LevelDB store's projection records, in key order:
 * the summary, its index records, the idempotency owners and the non-zero
 * counters (RecordKeys). Derived from the same rows, so it shows what a
 * listing or a count would read.
 */
export const dump = (sql: SqlClient.SqlClient, parse: (json: string) => Replay.TaskState): Effect.Effect<Array<readonly [string, string]>, SqlError> =>
  Effect.map(sql<{ state: string; idempotency_key: string | null }>`SELECT state, idempotency_key FROM tasklane_tasks`, (rows) => {
    const records: Array<readonly [string, string]> = []
    const counts = new Map<string, number>()
    for (const row of rows) {
      const state = parse(row.state)
      const stream = state.context.taskId
      records.push([Keys.task(stream), row.state])
      for (const key of Keys.indexKeys(state)) records.push([key, stream])
      if (row.idempotency_key !== null) records.push([Keys.idempotency(row.idempotency_key), stream])
      const counted = Keys.countedStatus(state)
      if (counted !== undefined) counts.set(counted, (counts.get(counted) ?? 0) + 1)
    }
    for (const status of taskStatuses) {
      const n = counts.get(status)
      if (n !== undefined) records.push([Keys.count(status), String(n)])
    }
    return records.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  })
