/**
 * The commands that read and drive tasks through the daemon: `definitions`,
 * `trigger` (optionally `--wait`ing for the end with progress; many tasks
 * from a JSON Lines file with `--input-lines`, see TriggerLines.ts), `ls`,
 * `show`, `abort`, `rm` and `logs` (optionally `--follow`ing).
 */
import { Ids, type Replay, TaskMachine, TaskRpc } from "@tasklane/core"
import { Effect, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Fs from "node:fs"
import type { TaskClient } from "../Client.ts"
import { maxInputBytes, withClient } from "./Connect.ts"
import * as Output from "./Output.ts"
import { triggerLines } from "./TriggerLines.ts"
import { Json, opt, style, TaskEndedBadly, UsageError } from "./Output.ts"

const taskIdArgument = Argument.String("taskId").pipe(Argument.withDescription("the task's id"))
const toTaskId = (id: string): Ids.TaskId => Ids.TaskId.make(id)

const describeDefinition = (d: TaskRpc.DefinitionInfo) => ({
  id: d.id,
  title: d.title,
  ...(d.description === undefined ? {} : { description: d.description }),
  maxIterations: d.maxIterations,
  timeoutSeconds: d.timeoutSeconds,
  closeToTimeoutSeconds: d.closeToTimeoutSeconds,
  databaseLogs: d.databaseLogs,
  isPrivate: d.isPrivate,
  ...(d.inputSchema === undefined ? {} : { inputSchema: d.inputSchema }),
})

/** `tasklane definitions`: the loaded task definitions and their limits. */
export const definitions = Command.make("definitions", {
  includePrivate: Flag.Boolean("include-private").pipe(Flag.withDefault(false), Flag.withDescription("also list private definitions")),
}, ({ includePrivate }) =>
  Effect.gen(function*() {
    const defs = yield* withClient((client) => client.Definitions({ includePrivate }))
    yield* Output.print(defs.map(describeDefinition), (rows) =>
      Output.table(
        ["ID", "TITLE", "MAX ITER", "TIMEOUT", "INPUT", "DESCRIPTION"],
        rows.map((d) => [
          style.cyan(d.id) + (d.isPrivate ? style.dim(" (private)") : ""),
          d.title,
          String(d.maxIterations),
          `${d.timeoutSeconds}s`,
          d.inputSchema === undefined ? "any" : "schema",
          d.description ?? "",
        ]),
      ))
  })).pipe(Command.withDescription("List the task definitions the daemon has loaded, with their limits"))

const parseInput = (text: string, source: string) =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (e) => new UsageError({ reason: `${source} is not valid JSON (${e instanceof Error ? e.message : String(e)})` }),
  })

const readInput = (input: string | undefined, file: string | undefined) => {
  if (input !== undefined && file !== undefined) return Effect.fail(new UsageError({ reason: "give --input or --input-file, not both" }))
  if (file !== undefined) {
    return Effect.try({
      try: () => Fs.readFileSync(file, "utf8"),
      catch: (e) => new UsageError({ reason: `cannot read --input-file ${file} (${e instanceof Error ? e.message : String(e)})` }),
    }).pipe(Effect.flatMap((text) => parseInput(text, `--input-file ${file}`)))
  }
  return input === undefined ? Effect.succeed({}) : parseInput(input, "--input")
}

/**
 * Refuses, before anything is sent, a Trigger the daemon could not take:
 * input nested deeper than it accepts (the same InvalidInput the daemon would
 * answer; encoding it would overflow this process's stack), or a request
 * longer than the daemon reads (it would close the connection).
 */
const checkLimits = (definitionId: string, input: unknown): Effect.Effect<void, TaskRpc.InvalidInput | UsageError> =>
  Effect.suspend((): Effect.Effect<void, TaskRpc.InvalidInput | UsageError> => {
    if (TaskRpc.nestsDeeperThan(input, TaskRpc.maxInputDepth)) {
      const message = `the input is nested deeper than ${TaskRpc.maxInputDepth} levels`
      return Effect.fail(new TaskRpc.InvalidInput({ definitionId, issues: [{ path: [], message }] }))
    }
    const bytes = Buffer.byteLength(JSON.stringify(input))
    if (bytes <= maxInputBytes) return Effect.void
    return Effect.fail(
      new UsageError({
        reason: `the input is ${bytes} bytes of JSON; it may be at most ${maxInputBytes} bytes ` +
          `(the daemon reads requests of up to ${TaskRpc.maxRequestBytes / 1024 / 1024} MiB): pass large data by reference (a file path or URL) instead`,
      }),
    )
  })

const progressText = (state: Replay.TaskState, live: boolean): string => {
  const { context } = state
  const parts = [`${context.taskId} ${Output.status(state.status)}`, `iteration ${context.iteration}/${context.maxIterations}`]
  const progress = context.progress
  if (progress !== undefined && progress.total !== undefined && progress.total > 0) {
    const ratio = Math.max(0, Math.min(1, progress.completed / progress.total))
    const bar = live ? ` [${"#".repeat(Math.round(ratio * 20)).padEnd(20, ".")}]` : ""
    parts.push(`progress ${progress.completed}/${progress.total}${bar}`)
  }
  return parts.join("  ")
}

const describeEnd = (state: Replay.TaskState): string | undefined =>
  state.context.error?.message ?? state.context.message ?? state.context.failureReason

/** Follows a task until it is final: progress lines (one live line on a TTY), JSON Lines with --json. */
const follow = (client: TaskClient, first: Replay.TaskState) =>
  Effect.gen(function*() {
    const asJson = yield* Json
    const live = !asJson && process.stdout.isTTY === true
    let state = first
    let shown = ""
    for (;;) {
      const text = asJson ? JSON.stringify(state) : progressText(state, live)
      if (text !== shown) {
        if (live) process.stdout.write(`\r\u001b[2K${text}`)
        else yield* Output.line(text)
        shown = text
      }
      if (TaskMachine.isFinal(state.status)) break
      yield* Effect.sleep("100 millis")
      state = yield* client.GetTask({ taskId: state.context.taskId })
    }
    if (live) process.stdout.write("\n")
    if (state.status !== "done") {
      const detail = describeEnd(state)
      return yield* new TaskEndedBadly({ taskId: state.context.taskId, status: state.status, ...(detail === undefined ? {} : { detail }) })
    }
    if (!asJson && state.context.output !== undefined) yield* Output.line(`output: ${JSON.stringify(state.context.output)}`)
  })

/** `tasklane trigger`: starts a task and prints its id; `--wait` follows it to the end. */
export const trigger = Command.make("trigger", {
  definitionId: Argument.String("definitionId").pipe(Argument.withDescription("the task definition to run")),
  input: Flag.String("input").pipe(Flag.optional, Flag.withDescription("the task's input as JSON (default {})")),
  inputFile: Flag.String("input-file").pipe(Flag.optional, Flag.withDescription("read the input JSON from this file")),
  inputLines: Flag.String("input-lines").pipe(
    Flag.optional,
    Flag.withDescription(
      "trigger one task per line of this JSON Lines file (- for stdin; blank lines skipped), 1,000 per request; " +
        "prints a summary with every refused line (exit 2 if any); --idempotency-key K gives line N the key K:N",
    ),
  ),
  name: Flag.String("name").pipe(Flag.optional, Flag.withDescription("a name for the task")),
  delay: Flag.Finite("delay").pipe(Flag.optional, Flag.withDescription("start no sooner than this many seconds from now")),
  idempotencyKey: Flag.String("idempotency-key").pipe(
    Flag.optional,
    Flag.withDescription("trigger at most once per key: a repeat returns the existing task"),
  ),
  wait: Flag.Boolean("wait").pipe(Flag.withDefault(false), Flag.withDescription("follow the task to its end; exit 1 unless it is done")),
}, (options) =>
  Effect.gen(function*() {
    const name = opt(options.name)
    const delaySeconds = opt(options.delay)
    const idempotencyKey = opt(options.idempotencyKey)
    if (delaySeconds !== undefined && delaySeconds < 0) return yield* new UsageError({ reason: "--delay must be 0 or more seconds" })
    const lines = opt(options.inputLines)
    if (lines !== undefined) {
      if (opt(options.input) !== undefined || opt(options.inputFile) !== undefined || options.wait) {
        return yield* new UsageError({ reason: "--input-lines takes each task's input from its file: give it without --input, --input-file or --wait" })
      }
      return yield* withClient((client) => triggerLines(client, lines, { definitionId: options.definitionId, name, delaySeconds, idempotencyKey }))
    }
    const input = yield* readInput(opt(options.input), opt(options.inputFile))
    yield* checkLimits(options.definitionId, input)
    yield* withClient((client) =>
      Effect.gen(function*() {
        const state = yield* client.Trigger({
          definitionId: options.definitionId,
          input,
          ...(name === undefined ? {} : { name }),
          ...(delaySeconds === undefined ? {} : { delaySeconds }),
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        })
        if (options.wait) return yield* follow(client, state)
        yield* Output.print(state, (s) => Output.line(s.context.taskId))
      })
    )
  })).pipe(Command.withDescription("Trigger a task and print its id (with --wait, follow it to its end; with --input-lines, one task per line)"))

/** `tasklane ls`: tasks, newest first. */
export const ls = Command.make("ls", {
  status: Flag.Literals("status", TaskMachine.taskStatuses).pipe(Flag.optional, Flag.withDescription("only tasks in this status")),
  definition: Flag.String("definition").pipe(Flag.optional, Flag.withDescription("only tasks of this definition")),
  parent: Flag.String("parent").pipe(Flag.optional, Flag.withDescription("only children of this task")),
  limit: Flag.Int("limit").pipe(Flag.withDefault(50), Flag.withDescription("at most this many tasks (1-1000)")),
  cursor: Flag.String("cursor").pipe(Flag.optional, Flag.withDescription("continue after the previous page (its cursor)")),
}, (options) =>
  Effect.gen(function*() {
    if (options.limit < 1 || options.limit > 1000) return yield* new UsageError({ reason: "--limit must be between 1 and 1000" })
    const status = opt(options.status)
    const definitionId = opt(options.definition)
    const parent = opt(options.parent)
    const cursor = opt(options.cursor)
    const page = yield* withClient((client) =>
      client.ListTasks({
        limit: options.limit,
        ...(cursor === undefined ? {} : { cursor }),
        ...(status === undefined ? {} : { status }),
        ...(definitionId === undefined ? {} : { definitionId }),
        ...(parent === undefined ? {} : { parentId: toTaskId(parent) }),
      })
    )
    yield* Output.print({ tasks: page.tasks, ...(page.cursor === undefined ? {} : { cursor: page.cursor }) }, ({ tasks }) =>
      Output.table(
        ["ID", "DEFINITION", "STATUS", "ITERATION", "CREATED", "NAME"],
        tasks.map((t) => [
          t.context.taskId,
          t.context.definitionId,
          Output.status(t.status),
          String(t.context.iteration),
          Output.time(t.context.createdAt),
          t.context.name ?? "",
        ]),
      ).pipe(Effect.andThen(page.cursor === undefined ? Effect.void : Output.line(`more: tasklane ls --cursor ${page.cursor}`))))
  })).pipe(Command.withDescription("List tasks, newest first"))

const showState = (state: Replay.TaskState) => {
  const c = state.context
  const rows: Array<[string, string | undefined]> = [
    ["id", c.taskId],
    ["definition", c.definitionId],
    ["name", c.name],
    ["status", Output.status(state.status)],
    ["iteration", `${c.iteration}/${c.maxIterations} (attempt ${c.attempt})`],
    ["progress", c.progress === undefined ? undefined : `${c.progress.completed}/${c.progress.total ?? "?"}`],
    ["parent", c.parentId],
    ["created", Output.time(c.createdAt)],
    ["started", c.startedAt === undefined ? undefined : Output.time(c.startedAt)],
    ["finished", c.finishedAt === undefined ? undefined : Output.time(c.finishedAt)],
    ["wakes at", c.wakeAt === undefined ? undefined : Output.time(c.wakeAt)],
    ["message", c.message],
    ["error", c.error === undefined ? undefined : `${c.error.message}${c.error.code === undefined ? "" : ` (${c.error.code})`}`],
    ["error data", c.error?.data === undefined ? undefined : JSON.stringify(c.error.data)],
    ["failure", c.failureReason],
    ["abort", c.abortRequested ? `requested${c.abortMessage === undefined ? "" : `: ${c.abortMessage}`}` : undefined],
    ["pending hook", c.pendingHook],
    ["logs", String(c.logCount)],
    ["input", JSON.stringify(c.input)],
    ["output", c.output === undefined ? undefined : JSON.stringify(c.output)],
  ]
  return Output.line(rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${style.bold(k.padEnd(12))} ${v}`).join("\n"))
}

/** `tasklane show`: one task's state. */
export const show = Command.make("show", { taskId: taskIdArgument }, ({ taskId }) =>
  Effect.gen(function*() {
    const state = yield* withClient((client) => client.GetTask({ taskId: toTaskId(taskId) }))
    yield* Output.print(state, showState)
  })).pipe(Command.withDescription("Show one task: status, iteration, progress, input, output, error"))

/** `tasklane abort`: asks a task to stop. */
export const abort = Command.make("abort", {
  taskId: taskIdArgument,
  message: Flag.String("message").pipe(Flag.optional, Flag.withDescription("why (recorded with the abort)")),
}, ({ taskId, message }) =>
  Effect.gen(function*() {
    const text = opt(message)
    const state = yield* withClient((client) =>
      client.Abort({ taskId: toTaskId(taskId), ...(text === undefined ? {} : { message: text }) })
    )
    yield* Output.print(state, (s) => Output.line(`${s.context.taskId} ${Output.status(s.status)} (abort requested)`))
  })).pipe(Command.withDescription("Abort a task (a running iteration gets the abort grace period to stop)"))

/** `tasklane rm`: deletes a finished task; an unfinished one is refused (NotAllowed, exit 2). */
export const rm = Command.make("rm", { taskId: taskIdArgument }, ({ taskId }) =>
  Effect.gen(function*() {
    yield* withClient((client) => client.DeleteTask({ taskId: toTaskId(taskId) }))
    yield* Output.print({ taskId, deleted: true }, () => Output.line(`deleted ${taskId}`))
  })).pipe(
    Command.withDescription(
      "Delete a finished task: it leaves every listing, its events stay in the log (an unfinished task is refused: abort it first)",
    ),
  )

const logText = (l: TaskRpc.LogLine) => {
  const padded = l.level.padEnd(5)
  const level = l.level === "error" ? style.red(padded) : l.level === "warn" ? style.yellow(padded) : style.dim(padded)
  return `${style.dim(Output.time(l.at))} ${level} ${l.message}${l.data === undefined ? "" : ` ${JSON.stringify(l.data)}`}`
}
const logJson = (l: TaskRpc.LogLine) => ({
  taskId: l.taskId,
  version: l.version,
  at: l.at,
  level: l.level,
  message: l.message,
  ...(l.data === undefined ? {} : { data: l.data }),
})

/** `tasklane logs`: a task's log lines; `--follow` until it ends. */
export const logs = Command.make("logs", {
  taskId: taskIdArgument,
  follow: Flag.Boolean("follow").pipe(Flag.withDefault(false), Flag.withAlias("f"), Flag.withDescription("keep printing new lines until the task ends")),
}, ({ taskId, follow }) =>
  Effect.gen(function*() {
    const asJson = yield* Json
    yield* withClient((client) =>
      Effect.gen(function*() {
        const stream = client.Logs({ taskId: toTaskId(taskId), follow })
        if (follow || !asJson) {
          return yield* Stream.runForEach(stream, (l) => (asJson ? Output.json(logJson(l)) : Output.line(logText(l))))
        }
        const all = yield* Stream.runCollect(stream)
        yield* Output.json(Array.from(all, logJson))
      })
    )
  })).pipe(Command.withDescription("Print a task's log lines (JSON Lines with --json --follow)"))

