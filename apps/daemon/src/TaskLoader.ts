/**
 * Loads what the daemon runs: a `tasklane.config.ts` (given by path or found
 * in the working directory) exporting `defineConfig({ tasks, layer, ... })`,
 * and/or a folder of task modules each default-exporting a
 * `createImplementation(...)`. TypeScript is loaded at run time by tsx's
 * loader, registered when the first task module is loaded; a resolve hook maps `effect`, `zod` and `@tasklane/tasks` in those files
 * to the daemon's own copies, so user folders need no `node_modules`.
 */
import { existsSync, readdirSync, statSync } from "node:fs"
import { register } from "node:module"
import { extname, join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { Effect, Schema } from "effect"
import type { Config } from "@tasklane/tasks"
import { TaskDefinition } from "@tasklane/tasks/host"
import * as Retention from "./Retention.ts"

/** A config or task module could not be loaded; `path` names the file. */
export class LoadError extends Schema.TaggedError<LoadError>()("LoadError", {
  path: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `cannot load ${this.path}: ${this.reason}`
  }
}

/** What the loader found: the config (if any) and every implementation, config's first. */
export interface Loaded {
  readonly config: Config.Config | undefined
  readonly configPath: string | undefined
  readonly implementations: ReadonlyArray<TaskDefinition.Implementation.Any>
}

const configNames = ["tasklane.config.ts", "tasklane.config.mts", "tasklane.config.js", "tasklane.config.mjs"]
const moduleExtensions = new Set([".ts", ".mts", ".js", ".mjs"])

let hooksRegistered: Promise<void> | undefined
// Registered only when a task module is loaded, after the daemon's own modules: those load natively.
// tsx is imported here, not at the top, so commands that load no task module (the CLI) never pay for it.
// `tsconfig: false`: tsx would read the tsconfig.json of the working directory, whose `paths` (in a project
// made by `tasklane init`) send `effect` to type declarations for `tsc`; loading must not depend on where
// the daemon was started.
const registerHooks = (): Promise<void> =>
  hooksRegistered ??= import("tsx/esm/api").then(({ register: registerTypeScript }) => {
    registerTypeScript({ tsconfig: false })
    register("./internal/resolveHooks.mjs", import.meta.url, { data: { daemonUrl: import.meta.url } })
  })

const importModule = (path: string) =>
  Effect.tryPromise({
    try: async () => {
      await registerHooks()
      return (await import(pathToFileURL(path).href)) as Record<string, unknown>
    },
    catch: (cause) => new LoadError({ path, reason: cause instanceof Error ? cause.message : String(cause) }),
  })

/** The config file to use: the given path, else one of the standard names in `cwd`, else none. */
export const findConfig = (given: string | undefined, cwd: string): Effect.Effect<string | undefined, LoadError> =>
  Effect.suspend(() => {
    if (given !== undefined) {
      const path = resolve(cwd, given)
      return existsSync(path) ? Effect.succeed(path) : Effect.fail(new LoadError({ path, reason: "no such file" }))
    }
    return Effect.succeed(configNames.map((name) => join(cwd, name)).find((path) => existsSync(path)))
  })

const isPositive = (value: unknown) => value === undefined || (typeof value === "number" && Number.isFinite(value) && value > 0)

/** What is wrong with a config's daemon settings, if anything (configs may be plain JavaScript: nothing is trusted). */
const settingsProblem = (config: Config.Config): string | undefined => {
  if ("dataDir" in config) {
    return "`dataDir` is not a config setting (the CLI and the desktop app find the daemon by its data directory without " +
      "reading the config): pass --data-dir or set TASKLANE_HOME instead"
  }
  if (!isPositive(config.concurrency) || !Number.isInteger(config.concurrency ?? 1)) return "`concurrency` must be a positive integer"
  if (!isPositive(config.abortGracePeriod)) return "`abortGracePeriod` must be a positive number of seconds"
  return Retention.configProblem(config.retention)
}

const loadConfig = (path: string) =>
  Effect.gen(function*() {
    const module = yield* importModule(path)
    const config = (module["default"] ?? module["config"]) as Config.Config | undefined
    if (typeof config !== "object" || config === null || !Array.isArray(config.tasks)) {
      return yield* new LoadError({ path, reason: "it must `export default defineConfig({ tasks: [...] })`" })
    }
    const bad = config.tasks.findIndex((task) => !TaskDefinition.isImplementation(task))
    if (bad >= 0) {
      return yield* new LoadError({ path, reason: `tasks[${bad}] is not a createImplementation(...) value` })
    }
    const settings = settingsProblem(config)
    if (settings !== undefined) return yield* new LoadError({ path, reason: settings })
    return config
  })

const loadFolder = (dir: string) =>
  Effect.gen(function*() {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return yield* new LoadError({ path: dir, reason: "not a directory" })
    const files = readdirSync(dir)
      .filter((name) => moduleExtensions.has(extname(name)) && !name.endsWith(".d.ts") && !name.includes(".test."))
      .sort()
    return yield* Effect.forEach(files, (name) =>
      Effect.gen(function*() {
        const path = join(dir, name)
        const module = yield* importModule(path)
        const implementation = module["default"]
        if (!TaskDefinition.isImplementation(implementation)) {
          return yield* new LoadError({ path, reason: "its default export must be TaskDefinition.createImplementation(...)" })
        }
        return implementation
      }))
  })

/** Loads the config (explicit or found in `cwd`) and the task folders, in that order. */
export const load = (options: {
  readonly configPath?: string | undefined
  readonly taskDirs?: ReadonlyArray<string> | undefined
  readonly cwd: string
}): Effect.Effect<Loaded, LoadError> =>
  Effect.gen(function*() {
    const configPath = yield* findConfig(options.configPath, options.cwd)
    const config = configPath === undefined ? undefined : yield* loadConfig(configPath)
    const folders = yield* Effect.forEach(options.taskDirs ?? [], (dir) => loadFolder(resolve(options.cwd, dir)))
    return { config, configPath, implementations: [...(config?.tasks ?? []), ...folders.flat()] }
  })
