/**
 * Which event store the daemon opens, and opening it: the embedded LevelDB
 * in the data directory (the default: no `--store`, no `store` in the
 * config) or a PostgreSQL database named by a `postgres://` /
 * `postgresql://` URL. Also how such a URL is shown to people: without its
 * password, in every message the daemon prints.
 *
 * The URL checks are pure (main.ts checks the flag while parsing and the
 * config's `store` after loading it, with the same rules); {@link layer} is
 * the effect edge. The PostgreSQL store is imported dynamically there, so a
 * daemon on LevelDB never loads the PostgreSQL client. A daemon on
 * PostgreSQL is a node of the cluster on that database (its `Cluster`
 * membership, opened with the store); on LevelDB it runs alone.
 */
import { Effect, Layer, Option, Schema } from "effect"
import { EventStore, StoreErrors } from "@tasklane/core"
import { LevelEventStore } from "@tasklane/core/level"
import * as Cluster from "./Cluster.ts"
import * as DataDir from "./DataDir.ts"

/** The store the daemon opens. */
export type Choice =
  | { readonly _tag: "level" }
  | { readonly _tag: "postgres"; readonly url: string }

/** The embedded LevelDB store in the data directory. */
export const level: Choice = { _tag: "level" }

const schemes = new Set(["postgres:", "postgresql:"])

/**
 * What is wrong with a store URL, if anything: it must parse as a URL with
 * the `postgres:` or `postgresql:` scheme and a host. Configs may be plain
 * JavaScript, so the value is not trusted to be a string.
 */
export const problem = (value: unknown): string | undefined => {
  if (typeof value !== "string") return `must be a postgres:// URL, got ${typeof value}`
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return `must be a postgres://user:password@host:port/database URL, got "${redact(value)}"`
  }
  if (!schemes.has(url.protocol)) {
    return `must be a postgres:// or postgresql:// URL (LevelDB, the default, needs no --store), got "${redact(value)}"`
  }
  if (url.hostname === "") return `must name a host (postgres://user@host:port/database), got "${redact(value)}"`
  return undefined
}

/** The store for a URL that passed {@link problem}. */
export const postgres = (url: string): Choice => ({ _tag: "postgres", url })

/**
 * The URL as it may be shown: the password replaced by `***`. A string that
 * is not a URL is shown up to its last `@` cut away, where a password would be.
 */
export const redact = (value: string): string => {
  try {
    const url = new URL(value)
    if (url.password === "") return value
    url.password = "***"
    return url.toString()
  } catch {
    const at = value.lastIndexOf("@")
    return at < 0 ? value : `…${value.slice(at)}`
  }
}

/**
 * A message with every occurrence of the URL's password removed: the
 * client's errors are shown as they are, and none may leak it.
 */
export const scrub = (url: string, message: string): string => {
  let password = ""
  try {
    password = decodeURIComponent(new URL(url).password)
  } catch {
    return message
  }
  return password === "" ? message : message.split(password).join("***").split(encodeURIComponent(password)).join("***")
}

/** The PostgreSQL store could not be opened (unreachable, refused, missing database, failed migration). */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  /** The URL without its password. */
  url: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `cannot open the PostgreSQL event store at ${this.url}: ${this.reason}`
  }
}

/** A store option that does not fit the chosen store. */
export class StoreUsage extends Schema.TaggedError<StoreUsage>()("StoreUsage", { reason: Schema.String }) {
  override get message() {
    return this.reason
  }
}

/** Where the store is, as messages name it: the LevelDB directory, or the URL without its password. */
export const describeLocation = (choice: Choice, paths: DataDir.Paths): { readonly directory: string } | { readonly url: string } =>
  choice._tag === "level" ? { directory: paths.store } : { url: redact(choice.url) }

/** How long a stopping node tries to remove its row (PostgreSQL). */
const leaveWithin = "2 seconds"

/** Options of {@link layer}. */
export interface LayerOptions {
  readonly paths: DataDir.Paths
  /** `--accept-store-damage`: LevelDB only (refused with PostgreSQL). */
  readonly acceptDamage: boolean
  readonly onBatch?: EventStore.LayerOptions["onBatch"]
  /** `--node-id` (PostgreSQL: default host name + pid). */
  readonly nodeId?: string | undefined
  /** Cluster timings, ms (PostgreSQL; defaults in Cluster). */
  readonly leaseMs?: number | undefined
  readonly heartbeatMs?: number | undefined
}

/**
 * The chosen store, and the daemon's place in a cluster. LevelDB: it runs
 * alone; its lock held by another process is DaemonAlreadyRunning (naming
 * that daemon's pid when it wrote one). PostgreSQL: a node of the cluster on
 * that database (its row is removed when the layer closes);
 * StoreUnavailable, one line, the password never in it.
 */
export const layer = (
  choice: Choice,
  options: LayerOptions,
): Layer.Layer<
  EventStore.EventStore | Cluster.Cluster,
  StoreErrors.StoreError | StoreErrors.StoreDamaged | DataDir.DataDirError | DataDir.DaemonAlreadyRunning | StoreUnavailable | StoreUsage
> => {
  const { paths, onBatch } = options
  if (choice._tag === "level") {
    return LevelEventStore.layer({ directory: paths.store, acceptDamage: options.acceptDamage, ...(onBatch === undefined ? {} : { onBatch }) }).pipe(
      Layer.catchTag("StoreLocked", () =>
        Layer.effect(EventStore.EventStore)(
          Effect.flatMap(DataDir.readPid(paths), (pid) =>
            Effect.fail(new DataDir.DaemonAlreadyRunning({ directory: paths.directory, ...(Option.isSome(pid) ? { pid: pid.value } : {}) }))),
        )),
      Layer.merge(Cluster.alone),
    )
  }
  const url = redact(choice.url)
  if (options.acceptDamage) {
    return Layer.effect(EventStore.EventStore)(Effect.fail(
      new StoreUsage({
        reason: "--accept-store-damage applies to the embedded LevelDB store only; PostgreSQL recovers its own write-ahead log (drop the flag)",
      }),
    )).pipe(Layer.merge(Cluster.alone))
  }
  const leaseMs = options.leaseMs ?? Cluster.defaultLeaseMs
  const heartbeatMs = options.heartbeatMs ?? Cluster.defaultHeartbeatMs
  return Layer.unwrap(
    Effect.map(Effect.promise(() => import("@tasklane/core/postgres")), ({ PgCluster, PgEventStore }) => {
      const store = PgEventStore.layer({ url: choice.url, ...(onBatch === undefined ? {} : { onBatch }) })
      // The node registers once the store has brought the schema up to date, and leaves (its row removed) when the daemon stops:
      // for a moment at most, since a database that cannot be reached would hold the stop forever (its row then lapses with the lease).
      const member = Layer.effect(Cluster.Cluster)(
        Effect.gen(function*() {
          const identity = Cluster.identity(options.nodeId)
          // A claimed task's summary joins what the store keeps to append on: its start reads nothing more.
          const { keep } = yield* PgEventStore.KeptStates
          const shared = yield* PgCluster.make({ url: choice.url, identity, leaseMs, onClaimed: keep })
          yield* Effect.addFinalizer(() => Effect.ignore(Effect.timeout(shared.leave, leaveWithin)))
          return yield* Cluster.member({ store: shared, identity, leaseMs, heartbeatMs })
        }),
      )
      return Layer.provideMerge(member, store)
    }),
  ).pipe(
    Layer.catchTag("StoreError", (error) =>
      Layer.effect(EventStore.EventStore)(Effect.fail(new StoreUnavailable({ url, reason: scrub(choice.url, error.reason) }))).pipe(Layer.merge(Cluster.alone))),
  )
}
