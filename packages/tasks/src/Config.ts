/**
 * What a `tasklane.config.ts` exports: the task implementations, the Effect
 * layer that provides their services, and daemon settings. `defineConfig` is
 * the identity at runtime; its type checks that the layer provides every
 * service the tasks' constructors take (a missing one is a type error naming it).
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
  /** How many iterations may run at the same time (the daemon chooses the default). */
  readonly concurrency?: number | undefined
  /** The data directory; overrides `$TASKLANE_HOME` and the XDG default. */
  readonly dataDir?: string | undefined
  /** Seconds a running iteration gets to answer an abort before it is forced (the daemon chooses the default). */
  readonly abortGracePeriod?: number | undefined
  /** Where task code runs unless a definition says otherwise (`--isolation` wins); default `"worker"`. */
  readonly isolation?: Isolation | undefined
  /** Heap limit in MB of each worker thread unless a definition says otherwise (`--worker-memory` wins). */
  readonly workerMemoryMb?: number | undefined
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
