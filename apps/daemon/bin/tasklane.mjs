#!/usr/bin/env node
// The `tasklane` command. Registers tsx's loader (TypeScript sources and user
// task modules are loaded at run time), then hands over to the command.
import { register } from "tsx/esm/api"

register()
const [command, ...rest] = process.argv.slice(2)
if (command === "daemon") {
  const { main } = await import("../src/main.ts")
  main(rest)
} else {
  console.error("Usage: tasklane daemon [options]   (tasklane daemon --help for the options)")
  process.exitCode = 2
}
