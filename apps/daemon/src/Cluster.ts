/**
 * The daemon's place in a cluster: which node it is, and the cluster's
 * nodes as the shared database sees them. A daemon on LevelDB (or in
 * memory) runs alone: {@link alone} has no node id and no nodes, and the
 * scheduler keeps its single-node behaviour. A daemon on PostgreSQL is a
 * node of the cluster on that database (DESIGN §8).
 */
import { Context, Effect, Layer } from "effect"
import type { StoreErrors } from "@tasklane/core"

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

/** The cluster service. */
export class Cluster extends Context.Service<
  Cluster,
  {
    /** This daemon's node id; undefined when it runs alone. */
    readonly nodeId: string | undefined
    /** The cluster's nodes, live first (empty when alone). */
    readonly nodes: Effect.Effect<ReadonlyArray<NodeInfo>, StoreErrors.StoreError>
  }
>()("@tasklane/daemon/Cluster") {}

/** A daemon that runs alone (LevelDB, memory). */
export const alone = Layer.succeed(Cluster, { nodeId: undefined, nodes: Effect.succeed([]) })
