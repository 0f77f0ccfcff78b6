#!/usr/bin/env node
// The `tasklane` command: runs the built daemon bundle (dist/tasklane.mjs,
// made by `pnpm install` or `pnpm --filter @tasklane/daemon build`).
import { existsSync } from "node:fs"

const bundle = new URL("../dist/tasklane.mjs", import.meta.url)
if (!existsSync(bundle)) {
  console.error("tasklane: the daemon is not built; run `pnpm install` (or `pnpm --filter @tasklane/daemon build`) first")
  process.exit(2)
}
const { main } = await import(bundle.href)
const [command, ...rest] = process.argv.slice(2)
if (command === "daemon") {
  main(rest)
} else {
  console.error("Usage: tasklane daemon [options]   (tasklane daemon --help for the options)")
  process.exitCode = 2
}
