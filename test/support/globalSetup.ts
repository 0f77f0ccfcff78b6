/**
 * Vitest global setup: builds the daemon bundle and the desktop app (whose
 * renderer the daemon's web mode serves) once before any test runs, so tests
 * that spawn `tasklane` or open the UI run the current sources, not a stale build.
 */
import { execFileSync } from "node:child_process"
import { join } from "node:path"

export default function setup(): void {
  for (const app of ["daemon", "desktop"]) {
    execFileSync(process.execPath, [join(import.meta.dirname, "..", "..", "apps", app, "build.mjs")], { stdio: "inherit" })
  }
}
