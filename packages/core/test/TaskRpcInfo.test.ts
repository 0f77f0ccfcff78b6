/**
 * `DaemonInfo` on the wire: encoded to JSON text and decoded back, with and
 * without the cluster and store fields, so a daemon running alone (or an
 * older one) and a cluster node are both understood by every client.
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as TaskRpc from "../src/TaskRpc.ts"

const encode = Schema.encodeSync(TaskRpc.DaemonInfo)
const decode = Schema.decodeUnknownSync(TaskRpc.DaemonInfo)
/** Through JSON text, as the socket carries it. */
const roundTrip = (info: TaskRpc.DaemonInfo) => decode(JSON.parse(JSON.stringify(encode(info))))

const base = {
  version: "0.1.0",
  pid: 4242,
  dataDir: "/var/lib/tasklane",
  startedAt: 1_800_000_000_000,
  head: 17,
  concurrency: 8,
  running: 2,
  queued: 1,
  counts: { done: 10, running: 2 },
}

const node = (id: string, live: boolean) =>
  new TaskRpc.ClusterNode({
    id,
    host: `${id}.example`,
    pid: 100,
    epoch: 3,
    startedAt: 1_800_000_000_000,
    heartbeatAt: 1_800_000_060_000,
    heartbeatAgeMs: live ? 1_200 : 42_000,
    running: live ? 5 : 0,
    live,
  })

describe("DaemonInfo on the wire", () => {
  it("a daemon running alone sends no cluster key, and decodes without one", () => {
    const alone = new TaskRpc.DaemonInfo({ ...base, storeKind: "leveldb", storeLocation: "/var/lib/tasklane/store" })
    const encoded = encode(alone) as Record<string, unknown>
    expect("cluster" in encoded).toBe(false)
    const decoded = roundTrip(alone)
    expect(decoded).toEqual(alone)
    expect(decoded.cluster).toBeUndefined()
    expect(decoded.storeKind).toBe("leveldb")
  })

  it("an older daemon's Info (no store kind, no cluster) still decodes", () => {
    const decoded = decode(base)
    expect(decoded.cluster).toBeUndefined()
    expect(decoded.storeKind).toBeUndefined()
    expect(decoded.storeLocation).toBeUndefined()
  })

  it("a cluster node's Info keeps its node id and every node's figures", () => {
    const info = new TaskRpc.DaemonInfo({
      ...base,
      storeKind: "postgres",
      storeLocation: "postgres://tasklane:***@db.example:5432/tasks",
      cluster: { nodeId: "a", nodes: [node("a", true), node("b", false)] },
    })
    const decoded = roundTrip(info)
    expect(decoded).toEqual(info)
    expect(decoded.cluster?.nodes[1]).toBeInstanceOf(TaskRpc.ClusterNode)
    expect(decoded.cluster?.nodes.map((n) => [n.id, n.live, n.running, n.heartbeatAgeMs])).toEqual([["a", true, 5, 1_200], ["b", false, 0, 42_000]])
  })

  it("refuses a store kind it does not know and a node without its heartbeat", () => {
    expect(() => decode({ ...base, storeKind: "sqlite" })).toThrow()
    const { heartbeatAt: _, ...headless } = encode(new TaskRpc.DaemonInfo({ ...base, cluster: { nodeId: "a", nodes: [node("a", true)] } })).cluster!.nodes[0]!
    expect(() => decode({ ...base, cluster: { nodeId: "a", nodes: [headless] } })).toThrow(/heartbeatAt/)
  })
})
