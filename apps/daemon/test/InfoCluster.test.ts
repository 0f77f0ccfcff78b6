/**
 * The Info handler's cluster report, in-process: the real handlers
 * (RpcHandlers.layer) over the daemon core as `main.ts` wires it, on the
 * memory store, called through Effect RPC's in-process client. The cluster
 * is a `Cluster` layer with fixed nodes: a real layer of the real interface
 * (the PostgreSQL one reads the nodes table; its daemons are tested in
 * test/daemon). The
 * nodes' heartbeats are stamped when the layer reads them, so an age is what
 * was given plus the few ms until the handler reckons it. (On the TestClock
 * the scheduler's shutdown grace would never end.)
 */
import { describe, expect, it } from "@effect/vitest"
import { StoreErrors, TaskRpc } from "@tasklane/core"
import { LevelEventStore } from "@tasklane/core/level"
import { Clock, Effect, Layer } from "effect"
import { RpcTest } from "effect/rpc"
import * as Cluster from "../src/Cluster.ts"
import * as Retention from "../src/Retention.ts"
import * as RpcHandlers from "../src/RpcHandlers.ts"
import * as Schedules from "../src/Schedules.ts"
import { core } from "./core/CoreFixture.ts"

const start = Date.UTC(2030, 0, 1, 12)

const identity: RpcHandlers.DaemonIdentity = {
  version: "0.1.0",
  dataDir: "/tmp/tasklane-info-test",
  startedAt: start,
  concurrency: 8,
  storeKind: "postgres",
  storeLocation: "postgres://tasklane:***@db.example:5432/tasks",
}

/** Three nodes whose heartbeats were 1.2 s and 42 s ago, and one stamped by a database clock ahead of this daemon's. */
const nodesAt = (now: number): ReadonlyArray<Cluster.NodeInfo> => [
  { id: "a", host: "alpha", pid: 11, epoch: 2, startedAt: start, heartbeatAt: now - 1_200, running: 3, live: true },
  { id: "b", host: "beta", pid: 22, epoch: 5, startedAt: start, heartbeatAt: now - 42_000, running: 1, live: false },
  { id: "c", host: "gamma", pid: 33, epoch: 1, startedAt: start, heartbeatAt: now + 60_000, running: 0, live: true },
]

/** A cluster node's service with the given nodes (no membership: only Info reads it here). */
const asNodeA = (nodes: Cluster.Cluster["Service"]["nodes"]) =>
  Layer.succeed(Cluster.Cluster, { nodeId: "a", nodes, membership: undefined, lost: Effect.never })

/** Info as a client gets it from handlers wired over `cluster`. */
const infoWith = (cluster: Layer.Layer<Cluster.Cluster>) =>
  Effect.gen(function*() {
    const client = yield* RpcTest.makeClient(TaskRpc.TaskRpcs)
    return yield* client.Info()
  }).pipe(
    Effect.provide(
      RpcHandlers.layer(identity).pipe(
        // The handlers' own: the core below runs alone (its scheduler is not what is tested here).
        Layer.provide(cluster),
        Layer.provide(Schedules.layer()),
        Layer.provideMerge(Retention.layer(undefined)),
        Layer.provideMerge(core()),
        Layer.provideMerge(Layer.fresh(LevelEventStore.layerMemory)),
      ),
    ),
    Effect.scoped,
  )

describe("Info: the cluster", () => {
  it.live("a daemon running alone sends no cluster, and says which store it runs on", () =>
    Effect.gen(function*() {
      const info = yield* infoWith(Cluster.alone)
      expect(info.cluster).toBeUndefined()
      expect(info.storeKind).toBe("postgres")
      expect(info.storeLocation).toBe(identity.storeLocation)
      expect(info.version).toBe("0.1.0")
    }))

  it.live("a cluster node sends its node id and every node, heartbeat ages by its own clock", () =>
    Effect.gen(function*() {
      const info = yield* infoWith(asNodeA(Effect.map(Clock.currentTimeMillis, nodesAt)))
      expect(info.cluster?.nodeId).toBe("a")
      const nodes = info.cluster?.nodes ?? []
      expect(nodes.every((node) => node instanceof TaskRpc.ClusterNode)).toBe(true)
      expect(nodes.map(({ heartbeatAgeMs: _, ...node }) => node)).toEqual(nodesAt(0).map((node) => ({ ...node, heartbeatAt: expect.any(Number) })))
      const [a, b, c] = nodes
      expect(a!.heartbeatAgeMs).toBeGreaterThanOrEqual(1_200)
      expect(a!.heartbeatAgeMs).toBeLessThan(2_200)
      expect(b!.heartbeatAgeMs).toBeGreaterThanOrEqual(42_000)
      expect(b!.heartbeatAgeMs).toBeLessThan(43_000)
      // A heartbeat "from the future" (clock skew) is just now, not a negative age.
      expect(c!.heartbeatAgeMs).toBe(0)
      expect(b!.heartbeatAt - a!.heartbeatAt).toBe(-40_800)
    }))

  it.live("nodes that cannot be read leave the list empty; Info still answers", () =>
    Effect.gen(function*() {
      const failing = asNodeA(Effect.fail(new StoreErrors.StoreError({ operation: "read nodes", reason: "connection refused" })))
      const info = yield* infoWith(failing)
      expect(info.cluster).toEqual({ nodeId: "a", nodes: [] })
      expect(info.head).toBe(0)
    }))
})
