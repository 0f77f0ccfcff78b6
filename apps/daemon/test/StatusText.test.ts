/**
 * `tasklane daemon status` as text (cli/StatusText.ts, pure): a daemon
 * running alone prints no cluster section; a cluster node prints which node
 * it is and a table of every node (state, heartbeat age, running, epoch);
 * the store line names the store and never a password. Colours are off
 * (NO_COLOR), whatever the runner's stdout is.
 */
import { TaskRpc } from "@tasklane/core"
import { beforeAll, describe, expect, it } from "vitest"
import * as StatusText from "../src/cli/StatusText.ts"

const base = {
  version: "0.1.0",
  pid: 4242,
  dataDir: "/var/lib/tasklane",
  startedAt: Date.UTC(2030, 0, 1),
  head: 17,
  concurrency: 8,
  running: 2,
  queued: 1,
  counts: { done: 10, running: 2 },
  store: { status: "ok" as const, damage: [] },
}

const node = (id: string, fields: Partial<TaskRpc.ClusterNode> = {}) =>
  new TaskRpc.ClusterNode({
    id,
    host: `${id}.example`,
    pid: 100,
    epoch: 1,
    startedAt: Date.UTC(2030, 0, 1),
    heartbeatAt: Date.UTC(2030, 0, 1, 1),
    heartbeatAgeMs: 1_234,
    running: 0,
    live: true,
    ...fields,
  })

describe("daemon status text", () => {
  beforeAll(() => {
    process.env.NO_COLOR = "1"
  })

  it("a daemon running alone: the store it runs on, and no cluster section", () => {
    const text = StatusText.statusText(
      new TaskRpc.DaemonInfo({ ...base, storeKind: "leveldb", storeLocation: "/var/lib/tasklane/store" }),
      undefined,
    )
    expect(text).toBe([
      "tasklane daemon 0.1.0 (pid 4242), up since 2030-01-01T00:00:00.000Z",
      "data dir     /var/lib/tasklane",
      "concurrency  8; 2 running, 1 queued",
      "tasks        done 10, running 2",
      "event store  LevelDB at /var/lib/tasklane/store",
      "store        ok",
    ].join("\n"))
    expect(text).not.toMatch(/cluster/)
  })

  it("an older daemon that names no store kind prints what it printed before", () => {
    const text = StatusText.statusText(new TaskRpc.DaemonInfo(base), "http://127.0.0.1:7777/")
    expect(text).not.toMatch(/event store|cluster/)
    expect(text.split("\n").slice(-2)).toEqual(["store        ok", "web UI       http://127.0.0.1:7777/"])
  })

  it("a cluster node: which node it is, then every node with state, heartbeat age, running count and epoch", () => {
    const info = new TaskRpc.DaemonInfo({
      ...base,
      storeKind: "postgres",
      storeLocation: "postgres://tasklane:***@db.example:5432/tasks",
      cluster: {
        nodeId: "web-2",
        nodes: [
          node("web-1", { host: "alpha", pid: 311, heartbeatAgeMs: 1_234, running: 5, epoch: 3 }),
          node("web-2", { host: "beta", pid: 42, heartbeatAgeMs: 400, running: 2, epoch: 1 }),
          node("batch-9", { host: "gamma", pid: 7, heartbeatAgeMs: 185_000, running: 1, epoch: 12, live: false }),
        ],
      },
    })
    const lines = StatusText.statusText(info, undefined).split("\n")
    expect(lines).toContain("event store  PostgreSQL at postgres://tasklane:***@db.example:5432/tasks")
    expect(lines.slice(lines.indexOf("store        ok") + 1)).toEqual([
      "cluster      this daemon is node web-2 (*); 3 nodes, 2 live",
      "  node     host   pid  state  heartbeat  running  epoch",
      "  web-1    alpha  311  live   1.2 s ago  5        3",
      "  web-2 *  beta   42   live   0.4 s ago  2        1",
      "  batch-9  gamma  7    lost   3 min ago  1        12",
    ])
  })

  it("a cluster node that could not read the nodes says so instead of an empty table", () => {
    const text = StatusText.statusText(new TaskRpc.DaemonInfo({ ...base, cluster: { nodeId: "web-2", nodes: [] } }), undefined)
    expect(text.split("\n").at(-1)).toBe("cluster      this daemon is node web-2; the cluster's nodes could not be read (the daemon logs why at debug level)")
  })

  it("ages read as people read them", () => {
    expect([0, 950, 9_949, 10_000, 59_999, 60_000, 3_599_999, 7_200_000, -5].map(StatusText.ago)).toEqual([
      "0.0 s ago", "0.9 s ago", "9.9 s ago", "10 s ago", "59 s ago", "1 min ago", "59 min ago", "2 h ago", "0.0 s ago",
    ])
  })
})
