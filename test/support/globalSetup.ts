/**
 * Vitest global setup: builds the daemon bundle once before any test runs,
 * so tests that spawn `tasklane` run the current sources, not a stale build.
 */
import { execFileSync } from "node:child_process"
import { join } from "node:path"

export default function setup(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, "..", "..", "apps", "daemon", "build.mjs")], { stdio: "inherit" })
}
