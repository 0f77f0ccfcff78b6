/**
 * The `tasklane` command tree (effect/cli: parsing and generated `--help`)
 * with its global flags, and `run`, which parses argv, runs the command and
 * returns the exit code (see `Output.ts` for the codes).
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { version } from "../version.ts"
import * as CommandsDaemon from "./CommandsDaemon.ts"
import * as CommandsHistory from "./CommandsHistory.ts"
import * as CommandsInit from "./CommandsInit.ts"
import * as CommandsPrune from "./CommandsPrune.ts"
import * as CommandsReplayTest from "./CommandsReplayTest.ts"
import * as CommandsSchedule from "./CommandsSchedule.ts"
import * as CommandsTasks from "./CommandsTasks.ts"
import * as CommandsTest from "./CommandsTest.ts"
import * as Output from "./Output.ts"

/** The whole command tree. */
export const tasklane = Command.make("tasklane").pipe(
  Command.withSubcommands([
    CommandsDaemon.daemon,
    CommandsTasks.definitions,
    CommandsTasks.trigger,
    CommandsTasks.ls,
    CommandsTasks.show,
    CommandsTasks.abort,
    CommandsTasks.rm,
    CommandsTasks.logs,
    CommandsSchedule.schedule,
    CommandsHistory.history,
    CommandsHistory.replay,
    CommandsHistory.exportHistory,
    CommandsPrune.prune,
    CommandsReplayTest.replayTest,
    CommandsInit.init,
    CommandsTest.test,
  ]),
  Command.withGlobalFlags(Output.globalFlags),
  Command.withDescription("Tasklane: run and inspect durable tasks through the local daemon"),
)

/** Parses `argv` (without node and script), runs the command, and returns the exit code. */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number> =>
  Output.runExit(Command.runWith(tasklane, { version })(argv).pipe(Effect.provide(NodeServices.layer)), argv)
