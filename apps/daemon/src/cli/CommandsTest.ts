/**
 * `tasklane test [FILES...]`: runs a task project's tests with no install.
 * The files (default: every `*.test.ts` under the current folder, outside
 * `node_modules` and dot folders) are written with `node:test` and the test
 * kit `@tasklane/tasks/testing`; they run in one child Node process
 * (`internal/runTests.mjs`) that loads them as the daemon loads task modules,
 * against this installation's `effect` and `@tasklane/tasks`. node:test
 * prints its own report; the exit code is 0 when every test passed, 1 when
 * one failed, 2 when there is nothing to run.
 */
import { Effect, Schema } from "effect"
import { Argument, Command } from "effect/cli"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { installationRoot } from "../Scaffold.ts"
import { UsageError } from "./Output.ts"

/** Some tests failed (node:test has reported which). */
export class TestsFailed extends Schema.TaggedError<TestsFailed>()("TestsFailed", { files: Schema.Number }) {
  override get message() {
    return `tests failed (in ${this.files} file${this.files === 1 ? "" : "s"} run; see the report above)`
  }
}

const isTestFile = (name: string) => /\.test\.m?ts$/.test(name)

/** Every test file under `dir`, sorted, skipping `node_modules` and dot folders. */
export const findTestFiles = (dir: string): ReadonlyArray<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name.startsWith(".") ? [] : findTestFiles(path)
    return entry.isFile() && isTestFile(entry.name) ? [path] : []
  }).sort()

const runner = Path.join(installationRoot, "apps", "daemon", "src", "internal", "runTests.mjs")

/** Runs `files` in a child Node process with stdio inherited; its exit code. */
const runFiles = (files: ReadonlyArray<string>) =>
  Effect.callback<number>((resume) => {
    const child = spawn(process.execPath, [runner, ...files], { stdio: "inherit" })
    child.on("exit", (code, signal) => resume(Effect.succeed(code ?? (signal === null ? 1 : 128))))
    return Effect.sync(() => child.kill("SIGTERM"))
  })

/** `tasklane test`. */
export const test = Command.make("test", {
  files: Argument.String("files").pipe(
    Argument.variadic(),
    Argument.withDescription("test files to run (default: every *.test.ts under the current folder)"),
  ),
}, ({ files }) =>
  Effect.gen(function*() {
    const given = files.map((file) => Path.resolve(file))
    const missing = given.filter((file) => !Fs.existsSync(file))
    if (missing.length > 0) return yield* new UsageError({ reason: `no such file: ${missing.join(", ")}` })
    const chosen = given.length > 0 ? given : findTestFiles(process.cwd())
    if (chosen.length === 0) {
      return yield* new UsageError({ reason: `no *.test.ts files under ${process.cwd()}` })
    }
    const code = yield* runFiles(chosen)
    if (code !== 0) return yield* new TestsFailed({ files: chosen.length })
  })).pipe(
    Command.withDescription(
      "Run a task project's tests (node:test and @tasklane/tasks/testing) against this installation, with no install",
    ),
  )
