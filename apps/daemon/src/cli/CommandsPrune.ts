/**
 * `tasklane prune`: removes finished tasks older than `--older-than` (default
 * 30d) with their whole history, through the daemon's Prune RPC, and prints
 * what went, the store's size on disk before and after and the oldest
 * retained position. `--dry-run` only counts; `--export-to DIR` first writes
 * each task's history file (the `tasklane export` format) into DIR. A bad
 * duration, status or directory exits 2.
 */
import { StoreRetention } from "@tasklane/core"
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import * as Path from "node:path"
import { parseDuration } from "../Retention.ts"
import { withClient } from "./Connect.ts"
import * as Output from "./Output.ts"
import { opt, UsageError } from "./Output.ts"

const statuses: ReadonlyArray<string> = StoreRetention.PrunableStatus.literals

const parseStatuses = (text: string | undefined) =>
  Effect.suspend(() => {
    if (text === undefined) return Effect.succeed(undefined)
    const list = text.split(",").map((s) => s.trim()).filter((s) => s !== "")
    const bad = list.filter((s) => !statuses.includes(s))
    return bad.length > 0 || list.length === 0
      ? Effect.fail(new UsageError({ reason: `--status takes a comma-separated list of ${statuses.join(", ")}; got ${JSON.stringify(text)}` }))
      : Effect.succeed(list as ReadonlyArray<StoreRetention.PrunableStatus>)
  })

/** `tasklane prune`. */
export const prune = Command.make("prune", {
  olderThan: Flag.String("older-than").pipe(
    Flag.withDefault("30d"),
    Flag.withDescription("remove tasks that finished longer ago than this: a number and ms, s, m, h, d or w (default 30d)"),
  ),
  status: Flag.String("status").pipe(
    Flag.optional,
    Flag.withDescription(`only these final statuses, comma-separated (default all: ${statuses.join(",")})`),
  ),
  dryRun: Flag.Boolean("dry-run").pipe(Flag.withDefault(false), Flag.withDescription("only count what would be removed")),
  exportTo: Flag.String("export-to").pipe(
    Flag.optional,
    Flag.withDescription("first write each removed task's history file (the `tasklane export` format) into this directory"),
  ),
}, (flags) =>
  Effect.gen(function*() {
    const olderThanMs = parseDuration(flags.olderThan)
    if (olderThanMs === undefined) {
      return yield* new UsageError({ reason: `--older-than must be a duration like 30d, 12h or 90m; got ${JSON.stringify(flags.olderThan)}` })
    }
    const chosen = yield* parseStatuses(opt(flags.status))
    const exportTo = opt(flags.exportTo)
    const report = yield* withClient((client) =>
      client.Prune({
        olderThanMs,
        dryRun: flags.dryRun,
        ...(chosen === undefined ? {} : { statuses: chosen }),
        ...(exportTo === undefined ? {} : { exportTo: Path.resolve(exportTo) }),
      })
    )
    yield* Output.print(report, (r) =>
      Output.line([
        `${r.dryRun ? "would remove" : "removed"} ${r.tasks} finished task(s) (${r.statuses.join(", ")}) that finished before ` +
        `${Output.time(r.before)}: ${r.events} events, ${Output.bytes(r.bytes)} of records` +
        (r.kept === 0 ? "" : `; kept ${r.kept} with an unfinished child or a hook due`),
        ...(r.exportedTo === undefined || r.tasks === 0 ? [] : [`exported their histories to ${r.exportedTo}`]),
        r.dryRun
          ? `store size   ${Output.bytes(r.sizeBefore)}`
          : `store size   ${Output.bytes(r.sizeBefore)} -> ${Output.bytes(r.sizeAfter)} (${r.millis} ms)`,
        `oldest retained position ${r.oldestRetained}${r.prunedThrough === 0 ? "" : ` (pruned through ${r.prunedThrough})`}`,
      ].join("\n")))
  })).pipe(
    Command.withDescription(
      "Remove finished tasks older than --older-than with their history (events, summary, indexes), and reclaim the space; running and waiting tasks and parents of unfinished tasks stay",
    ),
  )
