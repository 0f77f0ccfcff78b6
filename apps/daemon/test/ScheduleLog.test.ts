/**
 * ScheduleLog: the schedules file of an earlier version is imported once
 * into a real LevelDB event store in a temp data dir and renamed; a torn last
 * line is left out; a damaged line fails with ScheduleLogDamaged and imports
 * nothing; a file found beside a store that already holds schedules is only
 * renamed, never imported twice.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventStore } from "@tasklane/core"
import { LevelEventStore } from "@tasklane/core/level"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as ScheduleLog from "../src/ScheduleLog.ts"

/** Lines exactly as the earlier version wrote them. */
const lines = [
  '{"_tag":"ScheduleCreated","id":"s0123456789","at":1000,"definitionId":"quick","cron":"* * * * *","input":{"a":1},"overlap":"skip","catchUp":"one"}',
  '{"_tag":"ScheduleFired","id":"s0123456789","at":61000,"slot":60000,"taskId":"t1"}',
  '{"_tag":"SchedulePaused","id":"s0123456789","at":62000}',
]

/** A temp data dir with `schedules.jsonl` holding `text`, removed with the scope. */
const dataDir = (text: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tl-schedimport-"))
      Fs.writeFileSync(Path.join(directory, "schedules.jsonl"), text)
      return { directory, file: Path.join(directory, "schedules.jsonl"), store: LevelEventStore.layer({ directory: Path.join(directory, "store") }) }
    }),
    ({ directory }) => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true })),
  )

/** Reads the store, imports the file as the daemon does at start, and reads the store again. */
const startOnce = (file: string) =>
  Effect.gen(function*() {
    const store = yield* EventStore.EventStore
    const stored = yield* store.readSchedules
    const answered = yield* Effect.result(ScheduleLog.importFile(file, store, stored))
    return { answered, after: yield* store.readSchedules }
  })

describe("ScheduleLog.importFile", () => {
  it.effect("imports every record of the file once (a torn last line left out), then renames it", () =>
    Effect.gen(function*() {
      const { file, store } = yield* dataDir(`${lines.join("\n")}\n{"_tag":"ScheduleResumed","id":"s01`)
      const first = yield* startOnce(file).pipe(Effect.provide(store))
      expect(first.answered._tag).toBe("Success")
      expect(first.after.map((r) => r._tag)).toEqual(["ScheduleCreated", "ScheduleFired", "SchedulePaused"])
      expect(first.after[1]).toMatchObject({ id: "s0123456789", slot: 60000, taskId: "t1" })
      expect(Fs.existsSync(file)).toBe(false)
      expect(Fs.readFileSync(file + ScheduleLog.importedSuffix, "utf8")).toContain(lines[2])
      // The file is back beside a store that holds schedules (a crash before the rename, a copy): renamed, not imported again.
      Fs.writeFileSync(file, `${lines.join("\n")}\n`)
      const second = yield* startOnce(file).pipe(Effect.provide(store))
      expect(second.answered._tag).toBe("Success")
      expect(second.after).toEqual(first.after)
      expect(Fs.existsSync(file)).toBe(false)
      // No file: nothing to do.
      expect((yield* startOnce(file).pipe(Effect.provide(store))).after).toHaveLength(3)
    }).pipe(Effect.scoped))

  it.effect("a damaged line fails with ScheduleLogDamaged naming the line; nothing is imported and the file stays", () =>
    Effect.gen(function*() {
      const { file, store } = yield* dataDir(`${lines[0]}\n{"_tag":"ScheduleCreated","id":"a"}\n${lines[1]}\n`)
      const { answered, after } = yield* startOnce(file).pipe(Effect.provide(store))
      expect(answered._tag).toBe("Failure")
      if (answered._tag === "Failure") {
        expect(answered.failure).toBeInstanceOf(ScheduleLog.ScheduleLogDamaged)
        expect(answered.failure.message).toMatch(/schedule log .*schedules\.jsonl is damaged at line 2/)
      }
      expect(after).toEqual([])
      expect(Fs.existsSync(file)).toBe(true)
    }).pipe(Effect.scoped))
})
