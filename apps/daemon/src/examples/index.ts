/**
 * The built-in example tasks the daemon loads unless started with
 * `--no-examples`: real batch jobs that show the authoring API at work.
 *
 * - `hashFiles`, "Find duplicate files" (HashFiles.ts)
 * - `csvToJsonl`, "Convert CSV to JSON Lines" (CsvToJsonl.ts)
 * - `demo`, "Demo: countdown" (Demo.ts)
 */
import type { TaskDefinition } from "@tasklane/tasks"
import csvToJsonl from "./CsvToJsonl.ts"
import demo from "./Demo.ts"
import hashFiles from "./HashFiles.ts"

/** The example task implementations, in the order clients list them. */
export const examples: ReadonlyArray<TaskDefinition.Implementation.Any> = [hashFiles, csvToJsonl, demo]
