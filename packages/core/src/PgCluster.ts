/**
 * The cluster's shared state on PostgreSQL (DESIGN §8): the node rows that
 * say which daemons are alive, and the claims by which they share the work.
 * Plain SQL on a small pool of its own; the daemon's cluster scheduler
 * decides when to call what.
 *
 * Nodes (`tasklane_nodes`): a daemon registers under its node id, taking the
 * next epoch, and heartbeats every few seconds. Every time here is the
 * database's clock (`tasklane_now_ms()`), so daemons' clocks need not agree.
 * A node is *live* while it is not fenced and its last heartbeat is within
 * the lease. Any node fences the ones past their lease (and, on its own
 * host, ones whose process is gone): a fenced node's heartbeat fails, which
 * is how a paused or partitioned daemon (a zombie) learns that its work was
 * taken over; it then registers again under a new epoch.
 *
 * Claims (`claim_node`, `claim_version` on a task summary): a claim reserves
 * a waiting task's next start, or a finished task's due hook, for one node
 * epoch (`<id>#<epoch>`). It holds while the summary is still at the version
 * it was claimed at and that epoch is live, so it lapses by itself when the
 * task moves on (its start was recorded) or the node dies or registers
 * again; nothing has to release it. A start claim also lapses `claimMs`
 * (3 s) after it was taken: a node paused or cut off right after claiming
 * must not hold the start for a whole lease. (A hook claim holds while its
 * hook runs.)
 * Claiming takes the rows `FOR UPDATE SKIP LOCKED`, oldest first and due by
 * the database's clock, so nodes claiming at once take different tasks.
 * The claim only reserves: the start itself is an append conditional on the
 * version the task was claimed at, so even a claim taken twice (a node
 * thought dead that was not) starts the iteration once.
 * A definition with a concurrency limit is claimed under a transaction-level
 * advisory lock of its own, counting its running and reserved tasks across
 * the cluster, so the limit holds cluster-wide.
 */
import { Effect, Redacted, type Scope } from "effect"
import { PgClient } from "@effect/sql-pg"
import * as Reactivity from "effect/reactivity/Reactivity"
import type * as SqlClient from "effect/sql/SqlClient"
import type * as Statement from "effect/sql/Statement"
import type { TaskId } from "./Ids.ts"
import type * as Replay from "./Replay.ts"
import type { StoreError } from "./StoreErrors.ts"
import { parseState } from "./internal/AppendGroup.ts"
import { toStoreError } from "./internal/PgError.ts"
import { array } from "./internal/PgSummary.ts"

/** Who a daemon is: its node id, and where it runs. */
export interface Identity {
  readonly id: string
  readonly host: string
  /** Equal for processes that can see each other's pids (same boot, same pid namespace). */
  readonly localKey: string
  readonly pid: number
}

/** A node row, times by the database's clock (ms since the epoch). */
export interface Node {
  readonly id: string
  readonly epoch: number
  readonly host: string
  readonly localKey: string
  readonly pid: number
  readonly startedAt: number
  readonly heartbeatAt: number
  readonly running: number
  readonly fenced: boolean
  /** Not fenced and heartbeating within the lease. */
  readonly live: boolean
}

/** A running iteration as its summary says: the task, the iteration and attempt, and the node running it. */
export interface RunningTask {
  readonly stream: TaskId
  readonly iteration: number
  readonly attempt: number
  readonly node: string | null
}

/** A task claimed for its next start. */
export interface Claimed {
  readonly stream: TaskId
  readonly definitionId: string
}

/** The cluster's shared state, as one node sees and changes it. */
export interface ClusterStore {
  /** This node's epoch (the one its last registration took). */
  readonly epoch: () => number
  /** Registers (again) under this node's id: a new epoch, not fenced, heartbeat now. */
  readonly register: Effect.Effect<number, StoreError>
  /** Records a heartbeat with the running count; `fenced` when another node fenced this epoch (its work was taken over). */
  readonly heartbeat: (running: number) => Effect.Effect<"ok" | "fenced", StoreError>
  /** Fences every node past its lease, and these (found dead by their pid); answers the ids fenced now. */
  readonly fence: (dead: ReadonlyArray<Pick<Node, "id" | "epoch">>) => Effect.Effect<ReadonlyArray<string>, StoreError>
  /** Every node, live first. */
  readonly nodes: Effect.Effect<ReadonlyArray<Node>, StoreError>
  /** Running iterations whose node is not live (or unknown): to be recorded as interrupted. */
  readonly orphans: (limit: number) => Effect.Effect<ReadonlyArray<RunningTask>, StoreError>
  /** Running iterations recorded for this node's id (after a restart or a rejoin: none of them runs any more). */
  readonly ownRunning: Effect.Effect<ReadonlyArray<RunningTask>, StoreError>
  /** Claims up to `limit` due waiting tasks, oldest first; `limits` are the definitions' cluster-wide concurrency limits. */
  readonly claim: (limit: number, limits: ReadonlyMap<string, number>) => Effect.Effect<ReadonlyArray<Claimed>, StoreError>
  /** Claims the due hook of a finished task; false when another live node holds it or none is due. */
  readonly claimHook: (stream: TaskId) => Effect.Effect<boolean, StoreError>
  /** Finished tasks with a due hook that no other live node holds (this node's own claims included: it may have lost the run). */
  readonly orphanHooks: (limit: number) => Effect.Effect<ReadonlyArray<TaskId>, StoreError>
  /** Milliseconds (database clock) until the earliest wake time of a waiting task, if any is in the future. */
  readonly nextWakeIn: Effect.Effect<number | undefined, StoreError>
  /** Removes the rows of nodes fenced more than `keepMs` ago that no running iteration names any more; answers their ids. */
  readonly forget: (keepMs: number) => Effect.Effect<ReadonlyArray<string>, StoreError>
  /** Removes this node's row (a graceful stop). */
  readonly leave: Effect.Effect<void, StoreError>
}

/** Options of {@link make}. */
export interface Options {
  readonly url: string
  readonly identity: Identity
  /** A node is live while its last heartbeat is at most this old, ms. */
  readonly leaseMs: number
  /** A start claim holds at most this long, ms (default {@link defaultClaimMs}). */
  readonly claimMs?: number | undefined
  /** Each claimed task's summary as the claim read it (the store keeps it for the start's append: PgEventStore.KeptStates). */
  readonly onClaimed?: ((state: Replay.TaskState) => void) | undefined
}

/**
 * How long a claimed start is reserved: a node starts what it claimed within
 * milliseconds, so one that has not after this long is stuck (paused, cut
 * off, dying) and its claim must not hold the task for a whole lease.
 */
export const defaultClaimMs = 3_000

interface NodeRow {
  readonly id: string
  readonly epoch: string | number | bigint
  readonly host: string
  readonly local_key: string
  readonly pid: number
  readonly started_at: string | number | bigint
  readonly heartbeat_at: string | number | bigint
  readonly running: number
  readonly fenced: boolean
  readonly live: boolean
}

interface RunningRow {
  readonly stream: string
  readonly state: string
  readonly node: string | null
}

const toNode = (row: NodeRow): Node => ({
  id: row.id,
  epoch: Number(row.epoch),
  host: row.host,
  localKey: row.local_key,
  pid: row.pid,
  startedAt: Number(row.started_at),
  heartbeatAt: Number(row.heartbeat_at),
  running: row.running,
  fenced: row.fenced,
  live: row.live,
})

const toRunning = (row: RunningRow): RunningTask => {
  const { context } = JSON.parse(row.state) as { readonly context: { readonly iteration: number; readonly attempt: number } }
  return { stream: row.stream as TaskId, iteration: context.iteration, attempt: context.attempt, node: row.node }
}

/** Opens the cluster's state at `url` (the event store's layer has migrated the schema) for the scope's lifetime. */
export const make = (options: Options): Effect.Effect<ClusterStore, StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const sql: SqlClient.SqlClient = yield* PgClient.make({
      url: Redacted.make(options.url),
      maxConnections: 2,
      applicationName: `tasklane-node ${options.identity.id}`.slice(0, 63),
    }).pipe(Effect.provide(Reactivity.layer), Effect.mapError(toStoreError("cluster")))
    const { identity, leaseMs } = options
    const claimMs = options.claimMs ?? defaultClaimMs
    const me = identity.id
    let epoch = 0
    const attempt = <A, E>(operation: string, effect: Effect.Effect<A, E>) => Effect.mapError(effect, toStoreError(operation))
    /** The ids of live nodes, as a subquery. */
    const live = sql`SELECT id FROM tasklane_nodes WHERE NOT fenced AND heartbeat_at >= tasklane_now_ms() - ${leaseMs}`
    /** Live node epochs as claims name them (`<id>#<epoch>`), as a subquery: a claim of an earlier epoch lapsed with it. */
    const liveClaimers = sql`SELECT id || '#' || epoch FROM tasklane_nodes WHERE NOT fenced AND heartbeat_at >= tasklane_now_ms() - ${leaseMs}`
    /** This node's epoch, as its claims name it. */
    const claimer = () => `${me}#${epoch}`
    /** A claim that still holds for another node epoch: at the summary's version, by a live one. */
    const heldByOther = () => sql`coalesce(t.claim_version = t.version AND t.claim_node <> ${claimer()} AND t.claim_node IN (${liveClaimers}), false)`
    /** A start claim that still holds: as above, and taken within `claimMs`. */
    const fresh = sql`coalesce(t.claimed_at >= tasklane_now_ms() - ${claimMs}, false)`

    const register = attempt(
      "cluster register",
      Effect.map(
        sql<{ epoch: string }>`INSERT INTO tasklane_nodes (id, epoch, host, local_key, pid, started_at, heartbeat_at, running, fenced)
          VALUES (${me}, 1, ${identity.host}, ${identity.localKey}, ${identity.pid}, tasklane_now_ms(), tasklane_now_ms(), 0, false)
          ON CONFLICT (id) DO UPDATE SET epoch = tasklane_nodes.epoch + 1, host = excluded.host, local_key = excluded.local_key,
            pid = excluded.pid, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, running = 0, fenced = false
          RETURNING epoch`,
        ([row]) => (epoch = Number(row?.epoch ?? 0)),
      ),
    )

    const heartbeat = (running: number) =>
      attempt(
        "cluster heartbeat",
        Effect.map(
          sql<{ id: string }>`UPDATE tasklane_nodes SET heartbeat_at = tasklane_now_ms(), running = ${running}
            WHERE id = ${me} AND epoch = ${epoch} AND NOT fenced RETURNING id`,
          (rows): "ok" | "fenced" => (rows.length === 1 ? "ok" : "fenced"),
        ),
      )

    const fence = (dead: ReadonlyArray<Pick<Node, "id" | "epoch">>) =>
      attempt(
        "cluster fence",
        Effect.map(
          sql<{ id: string }>`UPDATE tasklane_nodes SET fenced = true
            WHERE NOT fenced AND id <> ${me} AND (heartbeat_at < tasklane_now_ms() - ${leaseMs}
              OR (id, epoch) IN (SELECT * FROM unnest(${array(dead.map((n) => n.id))}::text[], ${array(dead.map((n) => n.epoch))}::int8[])))
            RETURNING id`,
          (rows) => rows.map((row) => row.id),
        ),
      )

    const nodes = attempt(
      "cluster nodes",
      Effect.map(
        sql<NodeRow>`SELECT id, epoch, host, local_key, pid, started_at, heartbeat_at, running, fenced,
            (NOT fenced AND heartbeat_at >= tasklane_now_ms() - ${leaseMs}) AS live
          FROM tasklane_nodes ORDER BY live DESC, id`,
        (rows) => rows.map(toNode),
      ),
    )

    const orphans = (limit: number) =>
      attempt(
        "cluster orphans",
        Effect.map(
          sql<RunningRow>`SELECT stream, state, node FROM tasklane_tasks t
            WHERE status = 'running' AND (node IS NULL OR node NOT IN (${live})) LIMIT ${limit}`,
          (rows) => rows.map(toRunning),
        ),
      )

    const ownRunning = attempt(
      "cluster recovery",
      Effect.map(sql<RunningRow>`SELECT stream, state, node FROM tasklane_tasks WHERE status = 'running' AND node = ${me}`, (rows) => rows.map(toRunning)),
    )

    /**
     * Due waiting tasks nobody else holds, locked for this transaction (others
     * skip them): first those whose iteration a dead node cut short (failover
     * before new work), then oldest first.
     */
    const due = (definition: Statement.Fragment, limit: number) =>
      sql`SELECT t.stream, t.definition_id FROM tasklane_tasks t
        WHERE t.listed AND t.status IN ('triggered', 'continue') AND (t.wake_at IS NULL OR t.wake_at <= tasklane_now_ms())
          AND NOT (${heldByOther()} AND ${fresh}) AND ${definition}
        ORDER BY t.crashes IS NULL, t.created_key DESC LIMIT ${limit} FOR UPDATE SKIP LOCKED`

    /** Hands a claimed summary to `onClaimed`; one that does not parse is left to the start, whose own read reports it. */
    const handOver = (state: string) => {
      if (options.onClaimed === undefined) return
      try {
        options.onClaimed(parseState("cluster claim", state))
      } catch {
        // StoreError: the start reads the summary again.
      }
    }

    /** Claims the candidates; answers them, each summary handed to `onClaimed`. */
    const take = (candidates: ReturnType<typeof due>) =>
      Effect.map(
        sql<{ stream: string; definition_id: string; state: string }>`WITH c AS (${candidates})
          UPDATE tasklane_tasks t SET claim_node = ${claimer()}, claim_version = t.version, claimed_at = tasklane_now_ms() FROM c WHERE t.stream = c.stream
          RETURNING t.stream, t.definition_id, t.state`,
        (rows) =>
          rows.map((row): Claimed => {
            handOver(row.state)
            return { stream: row.stream as TaskId, definitionId: row.definition_id }
          }),
      )

    /** Claims of one limited definition: under its advisory lock, what its limit leaves after running and reserved tasks. */
    const claimLimited = (definitionId: string, limit: number, wanted: number) =>
      sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`SELECT pg_advisory_xact_lock(hashtext(${`tasklane-definition:${definitionId}`}))`
          const [row] = yield* sql<{ n: string }>`SELECT count(*) AS n FROM tasklane_tasks t WHERE t.definition_id = ${definitionId}
            AND (t.status = 'running' OR (t.status IN ('triggered', 'continue') AND coalesce(t.claim_version = t.version AND t.claim_node IN (${liveClaimers}), false) AND ${fresh}))`
          const free = Math.min(wanted, limit - Number(row?.n ?? 0))
          if (free <= 0) return []
          return yield* take(due(sql`t.definition_id = ${definitionId}`, free))
        }),
      )

    const claim = (limit: number, limits: ReadonlyMap<string, number>) =>
      attempt(
        "cluster claim",
        Effect.gen(function* () {
          const limited = [...limits.keys()]
          const claimed = [...(yield* take(due(sql`t.definition_id <> ALL(${array(limited)}::text[])`, limit)))]
          for (const [definitionId, max] of limits) {
            if (claimed.length >= limit) break
            claimed.push(...(yield* claimLimited(definitionId, max, limit - claimed.length)))
          }
          return claimed
        }),
      )

    const claimHook = (stream: TaskId) =>
      attempt(
        "cluster claim hook",
        Effect.map(
          sql`UPDATE tasklane_tasks t SET claim_node = ${claimer()}, claim_version = t.version
            WHERE t.stream = ${stream} AND t.pending_hook IS NOT NULL AND NOT ${heldByOther()} RETURNING 1`,
          (rows) => rows.length === 1,
        ),
      )

    const orphanHooks = (limit: number) =>
      attempt(
        "cluster orphan hooks",
        Effect.map(
          sql<{ stream: string }>`SELECT t.stream FROM tasklane_tasks t WHERE t.pending_hook IS NOT NULL
            AND NOT ${heldByOther()} LIMIT ${limit}`,
          (rows) => rows.map((row) => row.stream as TaskId),
        ),
      )

    const nextWakeIn = attempt(
      "cluster next wake",
      Effect.map(
        sql<{ wait: string | null }>`SELECT min(wake_at) - tasklane_now_ms() AS wait FROM tasklane_tasks
          WHERE wake_at IS NOT NULL AND status IN ('triggered', 'continue')`,
        ([row]) => (row?.wait == null ? undefined : Math.max(0, Number(row.wait))),
      ),
    )

    const forget = (keepMs: number) =>
      attempt(
        "cluster forget",
        Effect.map(
          sql<{ id: string }>`DELETE FROM tasklane_nodes n WHERE n.fenced AND n.heartbeat_at < tasklane_now_ms() - ${keepMs}
            AND NOT EXISTS (SELECT 1 FROM tasklane_tasks t WHERE t.status = 'running' AND t.node = n.id) RETURNING n.id`,
          (rows) => rows.map((row) => row.id),
        ),
      )

    const leave = attempt("cluster leave", Effect.suspend(() => Effect.asVoid(sql`DELETE FROM tasklane_nodes WHERE id = ${me} AND epoch = ${epoch}`)))

    yield* register
    return { epoch: () => epoch, register, heartbeat, fence, nodes, orphans, ownRunning, claim, claimHook, orphanHooks, nextWakeIn, forget, leave }
  })
