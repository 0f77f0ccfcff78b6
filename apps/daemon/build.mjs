// Builds the daemon into one ES module, dist/tasklane.mjs, the worker thread
// that runs task code with `isolation: "worker"` into dist/worker.mjs (found
// next to the daemon bundle), and the CLI into another, dist/cli.mjs: our TypeScript (daemon, core, tasks, examples)
// bundled by esbuild. For the daemon, effect, zod, the
// Node platform, classic-level (native) and tsx stay external, so task
// modules loaded at run time share the daemon's Effect and zod, and so does `ws` (the
// web mode's WebSocket server: CommonJS that `require`s Node built-ins, which
// an ES module bundle cannot do); the CLI loads no task modules and inlines
// everything. Starting the bundle with
// plain node takes a fraction of the time and memory of running the sources
// through a TypeScript loader. Run by `pnpm install` (postinstall), by the
// test suite's global setup and by `pnpm bench`.
import { build } from "esbuild"
import { copyFileSync, mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
mkdirSync(join(here, "dist", "internal"), { recursive: true })
const bundle = (entry, outfile, external) => build({
  entryPoints: [entry],
  outfile,
  external,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
})
const daemonExternals = ["effect", "zod", "@effect/platform-node", "classic-level", "tsx", "ws"]
await Promise.all([
  bundle(join(here, "src", "main.ts"), join(here, "dist", "tasklane.mjs"), daemonExternals),
  bundle(join(here, "src", "worker", "TaskWorker.ts"), join(here, "dist", "worker.mjs"), daemonExternals),
  // The CLI inlines effect too: one file starts in half the time. Only `replay-test` loads task
  // modules, through tsx (external: it registers its loader by a path relative to itself, imported lazily).
  bundle(join(here, "src", "cli", "main.ts"), join(here, "dist", "cli.mjs"), ["tsx"]),
  // Node built-ins only: what `pnpm start` (apps/desktop/bin/start.mjs, plain Node) shares with the CLI and the desktop.
  bundle(join(here, "src", "Launcher.ts"), join(here, "dist", "launcher.mjs"), []),
])
copyFileSync(join(here, "src", "internal", "resolveHooks.mjs"), join(here, "dist", "internal", "resolveHooks.mjs"))
