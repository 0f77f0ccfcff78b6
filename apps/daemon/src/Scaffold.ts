/**
 * What `tasklane init` writes: a task project outside this repository that
 * needs no install. The files come from `apps/daemon/templates/init/` (the
 * README's `{{root}}` becomes this installation's folder) plus a
 * `tsconfig.json` made here, whose `paths` send `@tasklane/tasks` and
 * `effect` to this installation's copies, the ones the daemon resolves those
 * imports to at run time (internal/resolveHooks.mjs): `tsc --noEmit` in the
 * project checks against exactly what will run.
 *
 * `plan` reads and computes (no writes); `write` refuses to overwrite: if
 * any planned file exists it writes nothing and names them all.
 */
import { Effect, Schema } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

/** This installation: the repository folder holding apps/daemon (the same from `src/` and from the `dist/` bundle). */
export const installationRoot = fileURLToPath(new URL("../../..", import.meta.url))

const templatesDir = fileURLToPath(new URL("../templates/init", import.meta.url))

/** The project could not be made: files in the way, or an installation missing a piece. */
export class InitRefused extends Schema.TaggedError<InitRefused>()("InitRefused", {
  directory: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `cannot create a task project in ${this.directory}: ${this.reason}`
  }
}

/** One file to write: its path relative to the project folder, and its content. */
export interface PlannedFile {
  readonly path: string
  readonly content: string
}

const listTemplates = (dir: string, prefix = ""): ReadonlyArray<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listTemplates(Path.join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]
  ).sort()

/** The tsconfig.json of a project type-checked against the installation at `root`. */
export const tsconfig = (root: string): string => {
  const effect = Path.join(root, "packages", "tasks", "node_modules", "effect", "dist")
  return `${JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2023"],
      module: "preserve",
      moduleResolution: "bundler",
      strict: true,
      exactOptionalPropertyTypes: true,
      verbatimModuleSyntax: true,
      allowImportingTsExtensions: true,
      noEmit: true,
      skipLibCheck: true,
      typeRoots: [Path.join(root, "node_modules", "@types")],
      types: ["node"],
      // What the daemon resolves these imports to when it loads the tasks.
      paths: {
        "@tasklane/tasks": [Path.join(root, "packages", "tasks", "src", "index.ts")],
        "@tasklane/tasks/testing": [Path.join(root, "packages", "tasks", "src", "Testing.ts")],
        "effect": [Path.join(effect, "index.d.ts")],
        "effect/*": [Path.join(effect, "*", "index.d.ts"), Path.join(effect, "*.d.ts")],
      },
    },
    include: ["**/*.ts"],
    exclude: ["node_modules", ".tasklane"],
  }, null, 2)}\n`
}

/** The files of a new project for the installation at `root`, in writing order. */
export const plan = (root: string = installationRoot): Effect.Effect<ReadonlyArray<PlannedFile>, InitRefused> =>
  Effect.try({
    try: () => {
      const needed = [
        Path.join(root, "packages", "tasks", "src", "index.ts"),
        Path.join(root, "packages", "tasks", "node_modules", "effect", "dist", "index.d.ts"),
        Path.join(root, "node_modules", "@types", "node"),
      ]
      const missing = needed.filter((path) => !Fs.existsSync(path))
      if (missing.length > 0) throw new Error(`this installation lacks ${missing.join(", ")} (run pnpm install in ${root})`)
      return [
        ...listTemplates(templatesDir).map((path) => ({
          path,
          content: Fs.readFileSync(Path.join(templatesDir, path), "utf8").replaceAll("{{root}}", root.replace(/\/$/, "")),
        })),
        { path: "tsconfig.json", content: tsconfig(root) },
      ]
    },
    catch: (e) => new InitRefused({ directory: root, reason: e instanceof Error ? e.message : String(e) }),
  })

/** Writes `files` under `directory` (created if missing) unless one of them exists already; returns the paths written. */
export const write = (directory: string, files: ReadonlyArray<PlannedFile>): Effect.Effect<ReadonlyArray<string>, InitRefused> =>
  Effect.try({
    try: () => {
      const target = Path.resolve(directory)
      const existing = files.filter((file) => Fs.existsSync(Path.join(target, file.path))).map((file) => file.path)
      if (existing.length > 0) {
        throw new Error(`${existing.join(", ")} already exist${existing.length === 1 ? "s" : ""}; nothing was written (init never overwrites)`)
      }
      for (const file of files) {
        Fs.mkdirSync(Path.dirname(Path.join(target, file.path)), { recursive: true })
        // `wx`: a file that appeared since the check is still not overwritten.
        Fs.writeFileSync(Path.join(target, file.path), file.content, { flag: "wx" })
      }
      return files.map((file) => file.path)
    },
    catch: (e) => new InitRefused({ directory, reason: e instanceof Error ? e.message : String(e) }),
  })
