// Node module resolve hook (registered by TaskLoader.ts): task modules and
// configs that live outside this repository may import `effect`, `zod` and
// `@tasklane/tasks` without installing them; those specifiers always resolve to
// the daemon's own copies (even where the task folder has its own), so every task shares one Effect runtime
// (and the zod `createInputValidation` receives as `validator`) with the daemon.
//
// A `.ts` task module or config outside any `"type": "module"` package (a
// folder with no package.json, like most task folders) resolves as CommonJS.
// Loaded that way its `import`/`export` syntax makes Node fail with "Cannot
// require() ES Module … in a cycle", so such a file is loaded as an ES module
// when it uses that syntax; a `.ts` file written in CommonJS stays CommonJS.
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const shared = (specifier) =>
  specifier === "effect" || specifier.startsWith("effect/") || specifier === "zod" || specifier.startsWith("zod/") ||
  specifier === "@tasklane/tasks" || specifier.startsWith("@tasklane/tasks/")

const esmSyntax = /^\s*(?:import|export)\b/m

const isEsmTypeScript = (url) => {
  if (!url.startsWith("file:") || !/\.tsx?$/.test(url) || url.includes("/node_modules/")) return false
  try {
    return esmSyntax.test(readFileSync(fileURLToPath(url), "utf8"))
  } catch {
    return false
  }
}

let daemonUrl

/** Receives the URL of a daemon module to resolve shared packages from. */
export async function initialize(data) {
  daemonUrl = data.daemonUrl
}

/** Resolves shared packages from the daemon's location; ES-syntax TypeScript as a module; everything else as usual. */
export async function resolve(specifier, context, nextResolve) {
  if (shared(specifier) && daemonUrl !== undefined) return nextResolve(specifier, { ...context, parentURL: daemonUrl })
  const resolved = await nextResolve(specifier, context)
  return resolved.format === "commonjs" && isEsmTypeScript(resolved.url) ? { ...resolved, format: "module" } : resolved
}
