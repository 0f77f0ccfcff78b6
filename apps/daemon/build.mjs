// Builds the daemon into one ES module, dist/tasklane.mjs: our TypeScript
// (daemon, core, tasks, examples) bundled by esbuild; effect, the Node
// platform, classic-level (native) and tsx stay external, so task modules
// loaded at run time share the daemon's Effect. Starting the bundle with
// plain node takes a fraction of the time and memory of running the sources
// through a TypeScript loader. Run by `pnpm install` (postinstall), by the
// test suite's global setup and by `pnpm bench`.
import { build } from "esbuild"
import { copyFileSync, mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
mkdirSync(join(here, "dist", "internal"), { recursive: true })
await build({
  entryPoints: [join(here, "src", "main.ts")],
  outfile: join(here, "dist", "tasklane.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  external: ["effect", "@effect/platform-node", "classic-level", "tsx"],
  logLevel: "warning",
})
copyFileSync(join(here, "src", "internal", "resolveHooks.mjs"), join(here, "dist", "internal", "resolveHooks.mjs"))
