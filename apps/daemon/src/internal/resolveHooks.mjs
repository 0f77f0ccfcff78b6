// Node module resolve hook (registered by TaskLoader.ts): task modules and
// configs that live outside this repository may import `effect` and
// `@tasklane/tasks` without installing them; those specifiers always resolve to
// the daemon's own copies (even where the task folder has its own), so every task shares one Effect runtime with the daemon.
const shared = (specifier) =>
  specifier === "effect" || specifier.startsWith("effect/") || specifier === "@tasklane/tasks"

let daemonUrl

/** Receives the URL of a daemon module to resolve shared packages from. */
export async function initialize(data) {
  daemonUrl = data.daemonUrl
}

/** Resolves shared packages from the daemon's location; everything else as usual. */
export async function resolve(specifier, context, nextResolve) {
  if (shared(specifier) && daemonUrl !== undefined) return nextResolve(specifier, { ...context, parentURL: daemonUrl })
  return nextResolve(specifier, context)
}
