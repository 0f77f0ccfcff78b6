/**
 * The key layout of the event store's records, and the projection records a
 * task state implies. Pure: no database access. The LevelDB store stores
 * these keys as they are; the PostgreSQL store maps them onto its tables and
 * uses the same `<created>` ordering and paging cursors, so both list tasks
 * alike.
 *
 * Keys are utf8 strings whose byte order is the order the store reads in.
 * Variable parts (task ids, definition ids, idempotency keys) are escaped so
 * they never contain the `!` separator (`%` -> `%25`, `!` -> `%21`); numbers
 * are fixed-width lowercase hex.
 *
 * ```
 * e!<position:12>                     envelope JSON (the log)
 * s!<stream>!<version:8>              `<position>:<count>`: one append's run of events, the
 *                                     first at (version, position), the rest consecutive in both
 * c!<seq:12>                          ScheduleEvent JSON (the schedule log, gapless from 1; not
 *                                     a projection: never pruned, rebuilt or checked as the task log)
 * m!head                              last committed position (decimal)
 * m!rebuild                           present while a projection rebuild runs
 * m!deleted-indexed                   present once the deleted index covers tasks deleted before it existed
 * m!pruned                            highest pruned position (decimal; absent: none); the log
 *                                     may have holes at or below it (LevelPrune)
 * p!task!<stream>                     TaskState JSON (the task summary)
 * p!time!<created>                    stream      all tasks, newest first
 * p!status!<status>!<created>         stream      by status, newest first
 * p!def!<definitionId>!<created>      stream      by definition, newest first
 * p!parent!<parentId>!<created>       stream      children, newest first
 * p!idem!<idempotencyKey>             stream      first task triggered with the key
 * p!hook!<stream>                     stream      tasks with a due, unrecorded hook
 * p!deleted!<created>                 stream      deleted tasks (where a prune finds them)
 * p!count!<status>                    count (decimal)
 * ```
 *
 * `<created>` is `<(2^48-1 - createdAt ms):12>!<stream>`, so a forward scan
 * lists newest first (ties by task id). Everything under `p!` is a
 * projection: a rebuild deletes and recomputes exactly that prefix.
 *
 * A deleted task (TaskDeleted) keeps its summary (getTask shows `deleted`),
 * its idempotency key and a due hook, and leaves the listings and counters;
 * only the `p!deleted!` index lists it, for a prune to find.
 */
import type { TaskState } from "../Replay.ts"
import type { TaskContext, TaskStatus } from "../TaskMachine.ts"

const MAX_TIME = 2 ** 48 - 1

/**
 * Fixed-width lowercase hex of a non-negative integer. Above 2^30 the number
 * is not a small integer to V8 and `toString(16)` takes its slow double path,
 * so the high and low 24 bits are written separately (the same digits).
 */
export const hex = (value: number, width: number): string => {
  if (value < 0x40000000) return value.toString(16).padStart(width, "0")
  const high = Math.floor(value / 0x1000000)
  return high.toString(16).padStart(width - 6, "0") + (value - high * 0x1000000).toString(16).padStart(6, "0")
}

/** Escapes a variable key part so it cannot contain `!`. */
export const escape = (part: string): string => (part.includes("%") || part.includes("!") ? part.replace(/%/g, "%25").replace(/!/g, "%21") : part)

/** The smallest key greater than every key starting with `prefix` (its last char incremented). */
export const prefixEnd = (prefix: string): string => prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)

/** The range of keys starting with `prefix`. */
export const prefixRange = (prefix: string) => ({ gte: prefix, lt: prefixEnd(prefix) })

/** Log key of a global position. */
export const log = (position: number): string => `e!${hex(position, 12)}`
/** Prefix of every log key. */
export const logPrefix = "e!"
/** The position a log key holds. */
export const positionOfLogKey = (key: string): number => parseInt(key.slice(2), 16)

/** Schedule log key of a sequence number. */
export const schedule = (seq: number): string => `c!${hex(seq, 12)}`
/** Prefix of every schedule log key. */
export const schedulePrefix = "c!"
/** The sequence number a schedule log key holds. */
export const seqOfScheduleKey = (key: string): number => parseInt(key.slice(2), 16)

/** Prefix of one stream's index keys. */
export const streamPrefix = (stream: string): string => `s!${escape(stream)}!`
/** Stream index key of the append whose first event has (stream, version). */
export const streamEvent = (stream: string, version: number): string => `${streamPrefix(stream)}${hex(version, 8)}`
/** The version a stream index key starts at. */
export const versionOfStreamKey = (key: string): number => parseInt(key.slice(key.lastIndexOf("!") + 1), 16)

/** Stream index value: an append's events sit at `position`, `position + 1`, ... (`count` of them). */
export const streamRun = (position: number, count: number): string => `${position}:${count}`
/** Parses a stream index value. */
export const parseStreamRun = (value: string): { readonly position: number; readonly count: number } => {
  const [position, count] = value.split(":")
  return { position: Number(position), count: Number(count) }
}

/** Meta key holding the last committed position. */
export const head = "m!head"
/** Meta key present while a rebuild is in progress (a crash mid-rebuild re-runs it on open). */
export const rebuilding = "m!rebuild"

/** Meta key holding the pruned watermark (the highest position a prune removed). */
export const prunedThrough = "m!pruned"

/** Meta key present once the deleted index was filled for tasks deleted before it existed. */
export const deletedIndexed = "m!deleted-indexed"

/** Prefix of every projection key. */
export const projectionPrefix = "p!"
/** Key of a task summary. */
export const task = (stream: string): string => `p!task!${escape(stream)}`
/** Key of a status counter. */
export const count = (status: string): string => `p!count!${status}`
/** Key of an idempotency key's owner. */
export const idempotency = (key: string): string => `p!idem!${escape(key)}`
/** Prefix of the pending-hook index. */
export const hookPrefix = "p!hook!"
/** Prefix of the deleted-task index (by `<created>`, like the listings). */
export const deletedPrefix = "p!deleted!"

/** The listing indexes: all tasks, by status, by definition, by parent. */
export const listPrefix = {
  all: () => "p!time!",
  status: (status: string) => `p!status!${status}!`,
  definition: (definitionId: string) => `p!def!${escape(definitionId)}!`,
  parent: (parentId: string) => `p!parent!${escape(parentId)}!`,
} as const

/** The `<created>` suffix that orders a task in the listing indexes, newest first. */
export const created = (context: TaskContext): string =>
  `${hex(MAX_TIME - Math.min(MAX_TIME, Math.max(0, Math.floor(context.createdAt))), 12)}!${escape(context.taskId)}`

const CREATED = /^[0-9a-f]{12}![^!]+$/

/** Encodes a listing cursor (the `<created>` suffix of the last listed task); opaque to clients. */
export const encodeCursor = (suffix: string): string => Buffer.from(suffix, "utf8").toString("base64url")

/** Decodes a cursor, or undefined when it is not one this store made. */
export const decodeCursor = (cursor: string): string | undefined => {
  const suffix = Buffer.from(cursor, "base64url").toString("utf8")
  return CREATED.test(suffix) ? suffix : undefined
}

/** The status a task counts under: none before its trigger or once deleted. */
export const countedStatus = ({ status, context }: TaskState): TaskStatus | undefined =>
  status === "untriggered" || context.deleted === true ? undefined : status

/** True when two states of one task have the same index records (the fields they depend on are equal). */
export const sameIndexRecords = (a: TaskState, b: TaskState): boolean =>
  a.status === b.status &&
  a.context.pendingHook === b.context.pendingHook &&
  a.context.deleted === b.context.deleted &&
  a.context.createdAt === b.context.createdAt &&
  a.context.definitionId === b.context.definitionId &&
  a.context.parentId === b.context.parentId

/**
 * The index keys of a task state (each record's value is the task id),
 * except the summary, the idempotency owner and the counters, which the
 * writer handles itself. A deleted task is listed nowhere but in the deleted
 * index, and a hook still due stays indexed (hooks run at least once).
 */
export const indexKeys = (state: TaskState): Array<string> => {
  if (state.status === "untriggered") return []
  const ctx = state.context
  const suffix = created(ctx)
  const keys = ctx.deleted === true ? [deletedPrefix + suffix] : [
    listPrefix.all() + suffix,
    listPrefix.status(state.status) + suffix,
    listPrefix.definition(ctx.definitionId) + suffix,
  ]
  if (ctx.deleted !== true && ctx.parentId !== undefined) keys.push(listPrefix.parent(ctx.parentId) + suffix)
  if (ctx.pendingHook !== undefined) keys.push(hookPrefix + escape(ctx.taskId))
  return keys
}
