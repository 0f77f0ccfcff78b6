/**
 * `tasklane schedule`: recurring schedules kept by the daemon. `add` (cron,
 * zone, input checked by the daemon before anything is stored: a bad cron,
 * zone or input exits 2), `ls` (where each comes from: a user's `add` or its
 * definition's `schedules`; next run, last run and its task's status),
 * `pause`, `resume`, `rm`, `trigger-now` (run it once now, outside its slots)
 * and `history` (every record of a schedule, a removed one's too).
 */
import { Ids, type Schedule, ScheduleEvent } from "@tasklane/core"
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { withClient } from "./Connect.ts"
import * as Output from "./Output.ts"
import { opt, style, UsageError } from "./Output.ts"

const scheduleId = Argument.String("scheduleId").pipe(Argument.withDescription("the schedule's id (see `schedule ls`)"))

const parseInput = (text: string | undefined) =>
  Effect.try({
    try: () => (text === undefined ? {} : JSON.parse(text) as unknown),
    catch: (e) => new UsageError({ reason: `--input is not valid JSON (${e instanceof Error ? e.message : String(e)})` }),
  })

const describeSchedule = (s: Schedule.ScheduleInfo): string =>
  [
    `${style.cyan(s.id)} ${s.definitionId}${s.name === undefined ? "" : ` "${s.name}"`}${
      s.source === "definition" ? style.dim(" (declared by the definition)") : ""
    }`,
    `  cron ${s.cron}${s.tz === undefined ? " (UTC)" : ` (${s.tz})`}; overlap ${s.overlap}; catch-up ${s.catchUp}${s.paused ? "; paused" : ""}`,
    `  next ${Output.time(s.nextDue)}; last ${Output.time(s.lastFiredSlot)}${s.lastTaskId === undefined ? "" : ` (task ${s.lastTaskId})`}${
      s.queuedSlot === undefined ? "" : `; queued ${Output.time(s.queuedSlot)}`
    }`,
  ].join("\n")

/** One schedule record as a `history` row: time, kind, details. */
const historyRow = (r: ScheduleEvent.ScheduleEvent): ReadonlyArray<string> => {
  const kind = ScheduleEvent.kind(r)
  switch (r._tag) {
    case "ScheduleCreated":
      return [Output.time(r.at), kind, `${r.definitionId}${r.name === undefined ? "" : ` "${r.name}"`}; ${ScheduleEvent.settingsText(r)}${r.source === "definition" ? style.dim(" (declared by the definition)") : ""}`]
    case "ScheduleUpdated":
      return [Output.time(r.at), kind, ScheduleEvent.settingsText(r)]
    case "ScheduleFired": {
      const told = ScheduleEvent.firedOutcome(r)
      const outcome = told === undefined ? "" : told.outcome === "refused" ? style.red(told.text) : style.yellow(told.text)
      return [Output.time(r.at), kind, [`slot ${Output.time(r.slot)}`, r.taskId === undefined ? "" : `task ${r.taskId}`, outcome].filter((part) => part !== "").join("; ")]
    }
    case "ScheduleTriggered":
      return [Output.time(r.at), kind, `by hand; task ${r.taskId}`]
    default:
      return [Output.time(r.at), kind, ""]
  }
}

const printOne = (s: Schedule.ScheduleInfo) => Output.print(s, (x) => Output.line(describeSchedule(x)))

const add = Command.make("add", {
  definitionId: Argument.String("definitionId").pipe(Argument.withDescription("the task definition to run")),
  cron: Flag.String("cron").pipe(
    Flag.withDescription('when to run: 5 fields (minute hour day month weekday, e.g. "*/5 * * * *") or 6 with seconds first'),
  ),
  tz: Flag.String("tz").pipe(Flag.optional, Flag.withDescription("time zone whose wall clock the cron follows, e.g. Europe/Berlin (default UTC)")),
  input: Flag.String("input").pipe(Flag.optional, Flag.withDescription("the task's input as JSON (default {}), checked against the definition now")),
  name: Flag.String("name").pipe(Flag.optional, Flag.withDescription("a name for the schedule (and its tasks)")),
  overlap: Flag.Literals("overlap", ["skip", "allow", "queue"]).pipe(
    Flag.withDefault("skip"),
    Flag.withDescription(
      "while the last run's task is unfinished: skip the slot (default), allow another run, or queue it to run when that task finishes (at most one queued; later slots are skipped)",
    ),
  ),
  catchUp: Flag.Literals("catch-up", ["none", "one", "all"]).pipe(
    Flag.withDefault("one"),
    Flag.withDescription("slots missed while the daemon was down or the schedule paused: none, the latest one (default), or all"),
  ),
}, (flags) =>
  Effect.gen(function*() {
    const input = yield* parseInput(opt(flags.input))
    const tz = opt(flags.tz)
    const name = opt(flags.name)
    const added = yield* withClient((client) =>
      client.ScheduleAdd({
        definitionId: flags.definitionId,
        cron: flags.cron,
        input,
        overlap: flags.overlap,
        catchUp: flags.catchUp,
        ...(tz === undefined ? {} : { tz }),
        ...(name === undefined ? {} : { name }),
      })
    )
    yield* Output.print(added, (s) => Output.line(s.id))
  })).pipe(Command.withDescription("Add a recurring schedule for a task definition and print its id"))

const ls = Command.make("ls", {}, () =>
  Effect.gen(function*() {
    const [all, statuses] = yield* withClient((client) =>
      Effect.gen(function*() {
        const all = yield* client.ScheduleList()
        // The last run's status, for people (a task deleted meanwhile shows as "-").
        const statuses = yield* Effect.forEach(all, (s) =>
          s.lastTaskId === undefined
            ? Effect.succeed(undefined)
            : client.GetTask({ taskId: Ids.TaskId.make(s.lastTaskId) }).pipe(
              Effect.map((task) => task.status),
              Effect.orElseSucceed(() => undefined),
            ))
        return [all, statuses] as const
      })
    )
    yield* Output.print(all, (rows) =>
      Output.table(
        ["ID", "SOURCE", "DEFINITION", "CRON", "TZ", "STATE", "NEXT", "LAST", "LAST TASK"],
        rows.map((s, i) => [
          style.cyan(s.id),
          s.source ?? "user",
          s.definitionId + (s.name === undefined ? "" : style.dim(` (${s.name})`)),
          s.cron,
          s.tz ?? "UTC",
          (s.paused ? style.yellow("paused") : "active") + (s.queuedSlot === undefined ? "" : style.dim(" +queued")),
          Output.time(s.nextDue),
          Output.time(s.lastFiredSlot),
          s.lastTaskId === undefined ? "-" : `${s.lastTaskId} ${statuses[i] === undefined ? "-" : Output.status(statuses[i])}`,
        ]),
      ))
  })).pipe(Command.withDescription("List the schedules (SOURCE: user, or definition for those a definition declares) with their next run, last slot, and the last task with its status"))

const pause = Command.make("pause", { scheduleId }, ({ scheduleId }) =>
  Effect.flatMap(withClient((client) => client.SchedulePause({ scheduleId })), printOne)).pipe(
    Command.withDescription("Pause a schedule: no slot fires until it is resumed"),
  )

const resume = Command.make("resume", { scheduleId }, ({ scheduleId }) =>
  Effect.flatMap(withClient((client) => client.ScheduleResume({ scheduleId })), printOne)).pipe(
    Command.withDescription("Resume a paused schedule (slots missed meanwhile follow its --catch-up)"),
  )

const rm = Command.make("rm", { scheduleId }, ({ scheduleId }) =>
  Effect.gen(function*() {
    yield* withClient((client) => client.ScheduleRemove({ scheduleId }))
    yield* Output.print({ removed: scheduleId }, () => Output.line(`removed ${scheduleId}`))
  })).pipe(Command.withDescription(
      "Remove a schedule (tasks it started are kept); one its definition declares comes back at the next daemon start: pause it instead",
    ))

const triggerNow = Command.make("trigger-now", { scheduleId }, ({ scheduleId }) =>
  Effect.gen(function*() {
    const task = yield* withClient((client) => client.ScheduleTriggerNow({ scheduleId }))
    yield* Output.print(task, (t) => Output.line(t.context.taskId))
  })).pipe(Command.withDescription("Run a schedule's task once now (its slots are unchanged) and print the task id"))

const history = Command.make("history", { scheduleId }, ({ scheduleId }) =>
  Effect.gen(function*() {
    const records = yield* withClient((client) => client.ScheduleHistory({ scheduleId }))
    yield* Output.print(records, (rows) => Output.table(["TIME", "KIND", "DETAILS"], rows.map(historyRow)))
  })).pipe(Command.withDescription(
    "Show every record of a schedule, oldest first: created, updated, paused, resumed, fired (slot; task, or skipped / queued / refused), triggered by hand, removed. A removed schedule's history stays readable",
  ))

/** `tasklane schedule add|ls|pause|resume|rm|trigger-now|history`. */
export const schedule = Command.make("schedule").pipe(
  Command.withSubcommands([add, ls, pause, resume, rm, triggerNow, history]),
  Command.withDescription("Run task definitions on a cron schedule: add, ls, pause, resume, rm, trigger-now, history"),
)
