/**
 * The PostgreSQL event store's tables, as `effect/sql` Migrator migrations
 * (recorded in `tasklane_migrations`; the Migrator locks that table, so
 * daemons starting together migrate once).
 *
 * ```
 * tasklane_head       one row: the last committed position, the schedule log's head, the pruned
 *                     watermark. Every group commit moves it and takes its positions from it
 *                     (PgWriter): commits serialize on its row lock, so positions are handed out
 *                     gapless in commit order across every instance.
 * tasklane_events     the log: global position (PK), (stream, version) unique, the envelope text
 *                     exactly as TaskEvent.encodeEnvelope wrote it (text, not jsonb: jsonb would
 *                     reorder keys and History must send the stored bytes verbatim)
 * tasklane_tasks      one summary per task: the replayed TaskState (JSON text) and the columns the
 *                     listings, counters and lookups use. `listed` is false once the task is
 *                     deleted (it then leaves the listings and counters, as in the LevelDB store).
 *                     `created_key` is RecordKeys' `<created>` suffix (C collation): ascending is
 *                     newest first, and it is the listing cursor. `idempotency_key` is set only on
 *                     the first task triggered with the key, and unique across the cluster.
 * tasklane_schedules  the schedule log: sequence number (gapless from 1), ScheduleEvent JSON
 * tasklane_nodes      cluster mode (2_cluster): one row per daemon id, its epoch, host, pid, heartbeat
 *                     and whether another node fenced it (PgNodes)
 * ```
 *
 * `2_cluster` also gives each summary the node running its iteration (`node`, from the
 * state) and a claim (`claim_node`, `claim_version`: the node that reserved the task's next
 * start or its due hook, valid while the summary is still at that version and the node is
 * live), and `tasklane_now_ms()`, the database's clock in ms: every due time and heartbeat
 * in cluster mode is read from it, so daemons' clocks need not agree. `3_reruns` adds
 * `crashes` (from the state: how often a dead node cut the current iteration short), which
 * claims take first. `4_claim_expiry` adds `claimed_at`: a start claim also lapses a few
 * seconds after it was taken. `5_partial_idempotency` keeps only the tasks that own a key in
 * its unique index.
 */
import { Effect } from "effect"
import * as Migrator from "effect/sql/Migrator"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * The channel one NOTIFY per committed batch goes to. Payload: the new head,
 * then, when they fit in `payloadBytes`, the batch's envelopes in position
 * order, each after a newline.
 */
export const channel = "tasklane_events"

/** The most a NOTIFY payload carries (PostgreSQL refuses 8,000 bytes and more). */
export const payloadBytes = 7_900

/** A NOTIFY payload read: the head it announces and the envelopes it carries (none when they did not fit); undefined if it is not one. */
export const parsePayload = (payload: string): { readonly head: number; readonly envelopes: ReadonlyArray<string> } | undefined => {
  const [first, ...envelopes] = payload.split("\n")
  const head = Number(first)
  return Number.isSafeInteger(head) ? { head, envelopes } : undefined
}

const initial = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE tasklane_head (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    position bigint NOT NULL,
    schedule_head bigint NOT NULL,
    pruned_through bigint NOT NULL
  )`
  yield* sql`INSERT INTO tasklane_head (id, position, schedule_head, pruned_through) VALUES (true, 0, 0, 0)`
  yield* sql`CREATE TABLE tasklane_events (
    position bigint PRIMARY KEY,
    stream text NOT NULL,
    version integer NOT NULL,
    envelope text NOT NULL,
    UNIQUE (stream, version)
  )`
  yield* sql`CREATE TABLE tasklane_tasks (
    stream text COLLATE "C" PRIMARY KEY,
    version integer NOT NULL,
    state text NOT NULL,
    status text NOT NULL,
    listed boolean NOT NULL,
    definition_id text NOT NULL,
    parent_id text,
    created_at bigint NOT NULL,
    created_key text COLLATE "C" NOT NULL,
    wake_at bigint,
    pending_hook text,
    finished_at bigint,
    idempotency_key text UNIQUE
  )`
  yield* sql`CREATE INDEX tasklane_tasks_created ON tasklane_tasks (created_key) WHERE listed`
  yield* sql`CREATE INDEX tasklane_tasks_status ON tasklane_tasks (status, created_key) WHERE listed`
  yield* sql`CREATE INDEX tasklane_tasks_definition ON tasklane_tasks (definition_id, created_key) WHERE listed`
  yield* sql`CREATE INDEX tasklane_tasks_parent ON tasklane_tasks (parent_id, created_key) WHERE listed AND parent_id IS NOT NULL`
  yield* sql`CREATE INDEX tasklane_tasks_wake ON tasklane_tasks (wake_at) WHERE wake_at IS NOT NULL`
  yield* sql`CREATE INDEX tasklane_tasks_hook ON tasklane_tasks (stream) WHERE pending_hook IS NOT NULL`
  yield* sql`CREATE INDEX tasklane_tasks_finished ON tasklane_tasks (finished_at) WHERE finished_at IS NOT NULL`
  yield* sql`CREATE TABLE tasklane_schedules (seq bigint PRIMARY KEY, record text NOT NULL)`
  // Raised inside the writer's one-statement write to abort all of it (a plain SELECT cannot raise).
  yield* sql`CREATE FUNCTION tasklane_fail(reason text) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '%', reason; END $$`
})

const cluster = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE FUNCTION tasklane_now_ms() RETURNS bigint LANGUAGE sql VOLATILE AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$`
  yield* sql`ALTER TABLE tasklane_tasks ADD COLUMN node text, ADD COLUMN claim_node text, ADD COLUMN claim_version integer`
  yield* sql`CREATE INDEX tasklane_tasks_running ON tasklane_tasks (node) WHERE status = 'running'`
  yield* sql`CREATE INDEX tasklane_tasks_runnable ON tasklane_tasks (created_key) WHERE listed AND status IN ('triggered', 'continue')`
  yield* sql`CREATE TABLE tasklane_nodes (
    id text PRIMARY KEY,
    epoch bigint NOT NULL,
    host text NOT NULL,
    local_key text NOT NULL,
    pid integer NOT NULL,
    started_at bigint NOT NULL,
    heartbeat_at bigint NOT NULL,
    running integer NOT NULL,
    fenced boolean NOT NULL
  )`
})

/** How often a waiting task's iteration was cut short by a dead node (`crashes`): claims take those first. */
const reruns = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE tasklane_tasks ADD COLUMN crashes integer`
  yield* sql`UPDATE tasklane_tasks SET crashes = (state::json -> 'context' ->> 'crashes')::integer WHERE state LIKE '%"crashes":%'`
  // The claims' order (cut-short first, then oldest), so a claim reads as many rows as it takes.
  yield* sql`DROP INDEX tasklane_tasks_runnable`
  yield* sql`CREATE INDEX tasklane_tasks_runnable ON tasklane_tasks ((crashes IS NULL), created_key DESC) WHERE listed AND status IN ('triggered', 'continue')`
})

/** When a start was claimed (`claimed_at`, the database's clock): a start claim holds for a few seconds only (PgCluster). */
const claimExpiry = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE tasklane_tasks ADD COLUMN claimed_at bigint`
})

/**
 * Only the tasks that own an idempotency key are in its unique index: a
 * summary's row is written again on every append, and one that moves in any
 * index (a status change) is inserted into every index anew, so the NULL key
 * of every other task cost an index entry (and its WAL) per such write.
 */
const partialIdempotency = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE tasklane_tasks DROP CONSTRAINT tasklane_tasks_idempotency_key_key`
  yield* sql`CREATE UNIQUE INDEX tasklane_tasks_idempotency ON tasklane_tasks (idempotency_key) WHERE idempotency_key IS NOT NULL`
})

const migrate = Migrator.make({})({
  loader: Migrator.fromRecord({
    "1_initial": initial,
    "2_cluster": cluster,
    "3_reruns": reruns,
    "4_claim_expiry": claimExpiry,
    "5_partial_idempotency": partialIdempotency,
  }),
  table: "tasklane_migrations",
})

/** Any constant: the key of the advisory lock that serializes migrations. */
const LOCK = 7_104_203_118

/**
 * Brings the database's schema up to date. Instances starting together take
 * turns under a session advisory lock: the Migrator locks its table, but two
 * of them could both find it missing and both create it. Run it on a client
 * of one connection (the lock belongs to the session).
 */
export const run = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* Effect.acquireUseRelease(
    sql`SELECT pg_advisory_lock(${LOCK})`,
    () => migrate,
    () => Effect.ignore(sql`SELECT pg_advisory_unlock(${LOCK})`),
  )
})
