/**
 * The daemon's place in a cluster: which node it is, the cluster's nodes as
 * the shared database sees them, and (in cluster mode) its membership: the
 * node rows and claims it works through (`PgCluster`). A daemon on LevelDB
 * (or in memory) runs alone: {@link alone} has no node id, no nodes and no
 * membership, and the scheduler keeps its single-node behaviour. A daemon
 * on PostgreSQL is a node of the cluster on that database (DESIGN §8): the
 * cluster scheduler heartbeats, fences, claims and recovers through its
 * membership.
 *
 * `lost` completes when the node lost its database for good (its heartbeat
 * failed for half a lease: others may be taking its work over): the daemon
 * then exits 75, for its supervisor to restart it.
 */
import { readFileSync, readlinkSync } from "node:fs"
import * as Os from "node:os"
import { Context, Deferred, Effect, Layer } from "effect"
import type { StoreErrors } from "@tasklane/core"
import type { PgCluster } from "@tasklane/core/postgres"

/** One daemon of the cluster, as its node row says (times by the database's clock). */
export interface NodeInfo {
  readonly id: string
  readonly host: string
  readonly pid: number
  /** Counts up each time a daemon registers under this id (a restart, or a rejoin after being fenced). */
  readonly epoch: number
  /** When this epoch registered, ms since the epoch. */
  readonly startedAt: number
  /** Its last heartbeat, ms since the epoch. */
  readonly heartbeatAt: number
  /** Iterations it ran at its last heartbeat. */
  readonly running: number
  /** Heartbeating within the lease and not fenced. */
  readonly live: boolean
}

/** How a node takes part: its shared state, who it is, and its timings. */
export interface Membership {
  readonly store: PgCluster.ClusterStore
  readonly identity: PgCluster.Identity
  /** A node whose last heartbeat is older than this is taken over, ms. */
  readonly leaseMs: number
  /** How often this node heartbeats (and looks for dead nodes, orphaned work and due wake times), ms. */
  readonly heartbeatMs: number
  /** Says the node lost its database for good (completes `lost`). */
  readonly lose: (reason: string) => Effect.Effect<void>
}

/** The cluster service. */
export class Cluster extends Context.Service<
  Cluster,
  {
    /** This daemon's node id; undefined when it runs alone. */
    readonly nodeId: string | undefined
    /** The cluster's nodes, live first (empty when alone). */
    readonly nodes: Effect.Effect<ReadonlyArray<NodeInfo>, StoreErrors.StoreError>
    /** Cluster mode: how this node takes part (undefined when alone). */
    readonly membership: Membership | undefined
    /** Completes with a reason when the node lost its database for good; never when alone. */
    readonly lost: Effect.Effect<string>
  }
>()("@tasklane/daemon/Cluster") {}

/** A daemon that runs alone (LevelDB, memory). */
export const alone = Layer.succeed(Cluster, { nodeId: undefined, nodes: Effect.succeed([]), membership: undefined, lost: Effect.never })

/** The default lease: a node silent for this long is taken over. */
export const defaultLeaseMs = 10_000

/** The default heartbeat interval. */
export const defaultHeartbeatMs = 2_000

/** The first line of a file, or "" when it cannot be read (not Linux). */
const firstLine = (read: () => string) => {
  try {
    return read().trim()
  } catch {
    return ""
  }
}

/** Who this process is in the cluster: `--node-id`, or host name + pid. */
export const identity = (nodeId: string | undefined): PgCluster.Identity => {
  const host = Os.hostname()
  // Processes with the same boot and pid namespace can check each other's pids (a dead node on this host is fenced at once).
  const boot = firstLine(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8"))
  const namespace = firstLine(() => readlinkSync("/proc/self/ns/pid"))
  return { id: nodeId ?? `${host}-${process.pid}`, host, localKey: boot === "" ? "" : `${boot} ${namespace}`, pid: process.pid }
}

/** The service of a node on its cluster's shared state. */
export const member = (options: Omit<Membership, "lose">): Effect.Effect<Cluster["Service"]> =>
  Effect.map(Deferred.make<string>(), (lost) => ({
    nodeId: options.identity.id,
    nodes: Effect.map(options.store.nodes, (nodes) => nodes.map(({ fenced: _, localKey: __, ...node }) => node)),
    membership: { ...options, lose: (reason) => Effect.asVoid(Deferred.succeed(lost, reason)) },
    lost: Deferred.await(lost),
  }))
