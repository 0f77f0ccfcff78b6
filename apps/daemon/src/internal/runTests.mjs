// The process `tasklane test` starts: `node runTests.mjs FILE...`. It loads
// the test files as the daemon loads task modules (TaskLoader.ts): tsx
// compiles the TypeScript, and resolveHooks.mjs sends `effect`, `zod` and
// `@tasklane/tasks` (with `@tasklane/tasks/testing`) to this installation's
// copies, so a task project's tests run with no install. The files use
// `node:test`, which runs what they declare once they are loaded, reports,
// and sets the exit code (1 when a test fails).
//
// The hooks are registered here and the files imported afterwards, as the
// daemon does: given to `node --import` instead, tsx loads a project's
// second-level `.ts` imports as CommonJS, where `import "effect"` fails.
import { register } from "node:module"
import { pathToFileURL } from "node:url"
import { register as registerTypeScript } from "tsx/esm/api"

registerTypeScript({ tsconfig: false }) // as TaskLoader.ts does, and why
register("./resolveHooks.mjs", import.meta.url, { data: { daemonUrl: import.meta.url } })
for (const file of process.argv.slice(2)) await import(pathToFileURL(file).href)
