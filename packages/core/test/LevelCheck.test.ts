/**
 * Damage at open, on real LevelDB files in a temp directory: a cut
 * write-ahead log, a damaged log record, a damaged table file and a log
 * record that does not decode are each refused with StoreDamaged (and stay
 * refused on the next open), and accepted with `acceptDamage`: the store
 * opens repaired (a copy of the damaged one beside it), its projections
 * match a rebuild, and its health lists what was lost.
 */
import { it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect } from "vitest"
import * as EventStore from "../src/EventStore.ts"
import * as LevelEventStore from "../src/LevelEventStore.ts"
import * as StoreErrors from "../src/StoreErrors.ts"
import type { StoreHealth } from "../src/StoreHealth.ts"
import * as LevelDb from "../src/internal/LevelDb.ts"
import * as Keys from "../src/internal/RecordKeys.ts"
import * as S from "./support/StoreEvents.ts"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "tasklane-check-"))),
  (directory) => Effect.sync(() => fs.rmSync(directory, { recursive: true, force: true })),
)

/** Three tasks, each with its own appends; task 2 finishes: 17 events. */
const history = Effect.gen(function* () {
  const es = yield* EventStore.EventStore
  for (const n of [1, 2, 3]) {
    const task = S.taskId(n)
    yield* es.append(S.request(task, "noStream", [S.triggered(task)]))
    yield* es.append(S.request(task, 1, S.iteration(1)))
  }
  yield* es.append(S.request(S.taskId(2), 5, [S.started(2), S.done()]))
})

const store = (directory: string, options: Partial<LevelEventStore.Options> = {}) => LevelEventStore.layer({ directory, ...options })

/** What an open gives: the store's head, health and task 2's status, or the typed failure. */
const open = (directory: string, options: Partial<LevelEventStore.Options> = {}) =>
  Effect.gen(function* () {
    const es = yield* EventStore.EventStore
    const projections = yield* es.dumpProjections
    yield* es.rebuildProjections
    return {
      head: yield* es.head,
      health: yield* es.health,
      task2: (yield* es.getTask(S.taskId(2)))?.status,
      projectionsMatchRebuild: JSON.stringify(projections) === JSON.stringify(yield* es.dumpProjections),
    }
  }).pipe(Effect.provide(store(directory, options)), Effect.result)

const files = (directory: string, suffix: string) => fs.readdirSync(directory).filter((name) => name.endsWith(suffix))

/** Overwrites `bytes.length` bytes of a file at `offset`. */
const overwrite = (file: string, offset: number, bytes: string) => {
  const fd = fs.openSync(file, "r+")
  fs.writeSync(fd, Buffer.from(bytes), 0, bytes.length, offset)
  fs.closeSync(fd)
}

const expectDamaged = (result: Awaited<ReturnType<typeof Effect.runPromise<unknown, unknown>>>, pattern: RegExp) => {
  expect(result).toMatchObject({ _tag: "Failure", failure: { _tag: "StoreDamaged" } })
  const failure = (result as { failure: StoreErrors.StoreDamaged }).failure
  expect(failure.findings.join("\n")).toMatch(pattern)
  expect(failure.message).toContain("--accept-store-damage")
  return failure
}

describe("LevelDB store damage at open", () => {
  it.effect("a write-ahead log cut short is refused, stays refused, and opens repaired when accepted", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      yield* history.pipe(Effect.provide(store(directory)))
      const [log] = files(directory, ".log")
      const size = fs.statSync(path.join(directory, log!)).size
      fs.truncateSync(path.join(directory, log!), Math.floor(size * 0.6))

      const refused = yield* open(directory)
      const damaged = expectDamaged(refused, /events \d+\.\.17 were committed but are missing/)
      expect(damaged.directory).toBe(fs.realpathSync(directory))
      // LevelDB's recovery already rewrote the log: the next open still knows.
      expectDamaged(yield* open(directory), /events \d+\.\.17 were committed but are missing/)

      const accepted = yield* open(directory, { acceptDamage: true })
      expect(accepted._tag).toBe("Success")
      const value = (accepted as { success: { head: number; health: StoreHealth; task2: string } }).success
      expect(value.head).toBeLessThan(17)
      expect(value.health.status).toBe("ok")
      expect(value.health.damage.join("\n")).toMatch(/were committed but are missing/)
      expect(value.health.damage.join("\n")).toMatch(/a copy of the damaged store is in .*damaged-/)
      expect(value).toMatchObject({ projectionsMatchRebuild: true })
      // The finished task lost its last events: it is not done any more, and the operator was told.
      expect(value.task2).not.toBe("done")
      expect(fs.readdirSync(path.dirname(directory)).some((name) => name.startsWith(`${path.basename(directory)}.damaged-`))).toBe(true)
      // Accepted once: the next open is clean.
      const again = yield* open(directory)
      expect(again).toMatchObject({ _tag: "Success", success: { head: value.head, health: { status: "ok", damage: [] } } })
      removeCopies(directory)
    }))

  it.effect("a damaged record in the middle of the write-ahead log is refused; accepting cuts the log at the gap", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      // LevelDB's log is read in 32 KiB blocks: damage in the first drops the rest of that block only.
      yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        for (let n = 1; n <= 200; n++) yield* es.append(S.request(S.taskId(n), "noStream", [S.triggered(S.taskId(n))]))
      }).pipe(Effect.provide(store(directory)))
      const [log] = files(directory, ".log")
      expect(fs.statSync(path.join(directory, log!)).size).toBeGreaterThan(64 * 1024)
      overwrite(path.join(directory, log!), 10_000, "DAMAGED!")

      expectDamaged(yield* open(directory), /LevelDB's recovery dropped part of its write-ahead log \(.*Corruption(.|\n)*events \d+\.\.\d+ are missing from the log/)
      const accepted = yield* open(directory, { acceptDamage: true })
      expect(accepted).toMatchObject({ _tag: "Success", success: { projectionsMatchRebuild: true, health: { status: "ok" } } })
      const damage = (accepted as { success: { health: StoreHealth } }).success.health.damage.join("\n")
      expect(damage).toMatch(/the log was cut after event \d+ \(events \d+\.\.\d+ are missing from the log\); events up to 200 were dropped/)
      removeCopies(directory)
    }))

  it.effect("a damaged table file is refused when the checks read it, and repaired by RepairDB when accepted", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      yield* history.pipe(Effect.provide(store(directory)))
      // The next open turns the write-ahead log into a table file.
      yield* open(directory)
      const [table] = files(directory, ".ldb")
      const size = fs.statSync(path.join(directory, table!)).size
      overwrite(path.join(directory, table!), Math.floor(size / 3), "DAMAGED!")

      expectDamaged(yield* open(directory), /damaged table file.*Corruption/)
      const accepted = yield* open(directory, { acceptDamage: true })
      expect(accepted).toMatchObject({ _tag: "Success", success: { projectionsMatchRebuild: true, health: { status: "ok" } } })
      removeCopies(directory)
    }))

  it.live("a damaged table file outside what the open checks read is found by the background scan and reported in the health", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        const tasks = Array.from({ length: 3000 }, (_, i) => S.taskId(i + 1))
        yield* Effect.forEach(tasks, (task) => es.append(S.request(task, "noStream", [S.triggered(task)])), { concurrency: "unbounded" })
      }).pipe(Effect.provide(store(directory)))
      yield* open(directory)
      const tables = files(directory, ".ldb").map((name) => path.join(directory, name))
      const [table] = tables.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)
      // Early in the file: the oldest events, far from the tail the open checks.
      overwrite(table!, 5_000, "DAMAGED!")
      const health = yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        for (;;) {
          const now = yield* es.health
          if (now.damage.length > 0) return now
          yield* Effect.sleep("20 millis")
        }
      }).pipe(Effect.provide(store(directory)), Effect.timeout("10 seconds"))
      expect(health.status).toBe("ok")
      // LevelDB's iterator skips the damaged block (the scan sees the gap in the log) and fails at the end.
      expect(health.damage.join("\n")).toMatch(/events \d+\.\.\d+ are missing from the log/)
      expect(health.damage.join("\n")).toMatch(/a table file is damaged: reading after key ".*" failed: Corruption/)
    }))

  it.effect("a log record that does not decode is found at open", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      yield* history.pipe(Effect.provide(store(directory)))
      yield* Effect.gen(function* () {
        const db = yield* LevelDb.openClassic(directory)
        const batch = db.batch()
        batch.put(Keys.log(16), "{not json")
        yield* Effect.promise(() => batch.write(true))
      }).pipe(Effect.scoped)
      expectDamaged(yield* open(directory), /event 16 in the log does not decode/)
    }))

  it.effect("a clean store opens with nothing to report, and the memory layer is always ok", () =>
    Effect.gen(function* () {
      const directory = yield* tempDir
      yield* history.pipe(Effect.provide(store(directory)))
      expect(yield* open(directory)).toMatchObject({ _tag: "Success", success: { head: 17, task2: "done", health: { status: "ok", damage: [] } } })
      const memory = yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        yield* history
        return yield* es.health
      }).pipe(Effect.provide(Layer.fresh(LevelEventStore.layerMemory)))
      expect(memory).toMatchObject({ status: "ok", damage: [] })
    }))
})

/** Removes the copies a repair kept beside `directory`. */
const removeCopies = (directory: string) => {
  for (const name of fs.readdirSync(path.dirname(directory))) {
    if (name.startsWith(`${path.basename(directory)}.damaged-`)) fs.rmSync(path.join(path.dirname(directory), name), { recursive: true })
  }
}
