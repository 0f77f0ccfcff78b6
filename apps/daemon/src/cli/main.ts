/**
 * The CLI program (bundled to dist/cli.mjs): `tasklane <command>` for every
 * command but the foreground daemon, which the bin dispatches to `main.ts`.
 */
import { Effect } from "effect"
import * as Cli from "./Cli.ts"

/** Runs the CLI with command-line arguments; sets the process exit code. */
export const cli = async (argv: ReadonlyArray<string>): Promise<void> => {
  process.exitCode = await Effect.runPromise(Cli.run(argv))
}
