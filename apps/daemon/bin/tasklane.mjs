#!/usr/bin/env node
// The `tasklane` command. `tasklane daemon [options]` runs the daemon bundle
// (dist/tasklane.mjs) in the foreground; every other command, including
// `tasklane daemon start|stop|status`, runs the CLI bundle (dist/cli.mjs).
// Both are made by `pnpm install` or `pnpm --filter @tasklane/daemon build`.
import { existsSync } from "node:fs"

const argv = process.argv.slice(2)
const foreground = argv[0] === "daemon" && !["start", "stop", "status"].includes(argv[1] ?? "")
const bundle = new URL(foreground ? "../dist/tasklane.mjs" : "../dist/cli.mjs", import.meta.url)
if (!existsSync(bundle)) {
  console.error("tasklane: not built; run `pnpm install` (or `pnpm --filter @tasklane/daemon build`) first")
  process.exit(2)
}
if (foreground) {
  const { main } = await import(bundle.href)
  main(argv.slice(1))
} else {
  const { cli } = await import(bundle.href)
  await cli(argv)
}
