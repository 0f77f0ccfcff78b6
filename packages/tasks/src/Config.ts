/**
 * What a `tasklane.config.ts` exports: the task implementations, the Effect
 * layer that provides their services, and daemon settings (the daemon's
 * flags win over them). `defineConfig` is the identity at runtime; its type
 * checks that the layer provides every service the tasks' constructors take
 * (a missing one is a type error naming it).
 *
 * There is no `dataDir` setting: the CLI and the desktop app find the daemon
 * through its data directory (`--data-dir`, `$TASKLANE_HOME`, the XDG
 * default) without loading any config, so a data directory named only in
 * the config would hide the daemon from them. The daemon refuses a config
 * that sets one.
 */
import type { Layer } from "effect"
import type { Implementation } from "./Implementation.ts"
import type { Isolation } from "./Interface.ts"

/** A Tasklane configuration. */
export interface Config<
  Tasks extends ReadonlyArray<Implementation.Any> = ReadonlyArray<Implementation.Any>,
  ROut = any,
  E = any,
> {
  /** The task definitions the daemon runs (`createImplementation(...)` values). */
  readonly tasks: Tasks
  /** Provides the services the tasks' constructors need; built once when the daemon starts. */
  readonly layer?: Layer.Layer<ROut, E, never> | undefined
  /** How many iterations may run at the same time; `--concurrency` wins; default 8. */
  readonly concurrency?: number | undefined
  /** Seconds a running iteration gets to answer an abort before it is forced; `--abort-grace` wins; default 10. */
  readonly abortGracePeriod?: number | undefined
  /** Where task code runs unless a definition says otherwise (`--isolation` wins); default `"worker"`. */
  readonly isolation?: Isolation | undefined
  /** Heap limit in MB of each worker thread unless a definition says otherwise (`--worker-memory` wins). */
  readonly workerMemoryMb?: number | undefined
  /**
   * The event store: a `postgres://` or `postgresql://` URL (one daemon per
   * database for now); `--store` wins; absent: LevelDB in the data directory.
   */
  readonly store?: string | undefined
  /** Prune finished tasks periodically (as `tasklane prune` does); absent: tasks are kept until pruned by hand. */
  readonly retention?: RetentionConfig | undefined
}

/**
 * Periodic pruning: finished tasks whose outcome is older than `olderThan`
 * are removed with their history (events, summary, index entries,
 * idempotency key). Durations are a number and a unit: `ms`, `s`, `m`, `h`,
 * `d` or `w` (`"30d"`, `"12h"`).
 */
export interface RetentionConfig {
  /** How long a finished task is kept after it finished, e.g. `"30d"`. */
  readonly olderThan: string
  /** Which final statuses to prune (default all: done, error, aborted, maxIterations). */
  readonly statuses?: ReadonlyArray<"done" | "error" | "aborted" | "maxIterations"> | undefined
  /** How often the daemon prunes (default `"1h"`); the first prune runs when it starts. */
  readonly every?: string | undefined
}

/** The compile-time error for a config whose layer lacks services its tasks need. */
export interface MissingServices<Missing> {
  readonly "~error": "The config's layer does not provide every service its tasks need"
  readonly missing: Missing
}

/** `unknown` when `ROut` covers every service `Tasks` need, else {@link MissingServices}. */
export type CheckServices<Tasks extends ReadonlyArray<Implementation.Any>, ROut> =
  [Exclude<Implementation.Requirements<Tasks[number]>, ROut>] extends [never] ? unknown
    : MissingServices<Exclude<Implementation.Requirements<Tasks[number]>, ROut>>

/** Declare a configuration; checks at compile time that `layer` provides what `tasks` need. */
export const defineConfig = <const Tasks extends ReadonlyArray<Implementation.Any>, ROut = never, E = never>(
  config: Config<Tasks, ROut, E> & CheckServices<Tasks, ROut>,
): Config<Tasks, ROut, E> => config
