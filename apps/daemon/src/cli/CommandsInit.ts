/**
 * `tasklane init [DIR]`: scaffolds a task project (config, an example task
 * with an input schema and a service, a tsconfig.json resolving
 * `@tasklane/tasks` and `effect` to this installation, a README) without
 * overwriting anything; see `Scaffold.ts` for what is written and why.
 */
import { Effect } from "effect"
import { Argument, Command } from "effect/cli"
import * as Path from "node:path"
import * as Scaffold from "../Scaffold.ts"
import * as Output from "./Output.ts"

/** `tasklane init`: a new task project in DIR (default: the current folder). */
export const init = Command.make("init", {
  dir: Argument.String("dir").pipe(
    Argument.withDefault("."),
    Argument.withDescription("the project folder (created if missing; default: the current folder)"),
  ),
}, ({ dir }) =>
  Effect.gen(function*() {
    const directory = Path.resolve(dir)
    const files = yield* Scaffold.write(directory, yield* Scaffold.plan())
    const bin = `node ${Path.join(Scaffold.installationRoot, "apps", "daemon", "bin", "tasklane.mjs")}`
    yield* Output.print({ directory, files }, () =>
      Output.line([
        `created a task project in ${directory}:`,
        ...files.map((file) => `  ${file}`),
        "",
        "next, from that folder (README.md says more):",
        `  ${bin} daemon --config tasklane.config.ts`,
        `  ${bin} trigger greet --input '{"name":"Ada"}' --wait`,
      ].join("\n")))
  })).pipe(
    Command.withDescription(
      "Create a task project (config, an example task, tsconfig.json against this installation, README); never overwrites a file",
    ),
  )
