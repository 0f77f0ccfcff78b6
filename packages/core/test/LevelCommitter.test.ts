/**
 * Write faults of the LevelDB store on a real, small tmpfs (mounted by the
 * test; skipped with the reason printed where mounting is not permitted):
 * a full disk makes appends fail with a typed error and the health
 * `degraded`; once space is freed the store reopens the database by itself
 * and writes again, with everything acknowledged before still there (the
 * schedule log's appends too: they share the writer). A
 * file system that turned read-only makes it give up (`failed`) after the
 * configured number of attempts.
 */
import { it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect } from "vitest"
import * as EventStore from "../src/EventStore.ts"
import * as LevelEventStore from "../src/LevelEventStore.ts"
import type { TaskId } from "../src/Ids.ts"
import * as ScheduleEvent from "../src/ScheduleEvent.ts"
import * as S from "./support/StoreEvents.ts"

/** Mounts a tmpfs of `size` on a fresh directory for the scope; undefined (with the reason printed) where that is not permitted. */
const tmpfs = (size: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const directory = fs.mkdtempSync(path.join(os.tmpdir(), "tasklane-tmpfs-"))
      try {
        execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", directory], { stdio: "pipe" })
        return directory
      } catch (cause) {
        fs.rmdirSync(directory)
        console.warn(`skipped: cannot mount a tmpfs here (${String(cause).split("\n")[0]}); the full-disk test needs root or CAP_SYS_ADMIN`)
        return undefined
      }
    }),
    (directory) =>
      Effect.sync(() => {
        if (directory === undefined) return
        execFileSync("umount", [directory])
        fs.rmdirSync(directory)
      }),
  )

/** Writes zeros to `file` until the disk is full. */
const fillDisk = (file: string) => {
  const fd = fs.openSync(file, "w")
  const chunk = Buffer.alloc(64 * 1024)
  try {
    for (;;) fs.writeSync(fd, chunk)
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOSPC") throw cause
  } finally {
    fs.closeSync(fd)
  }
}

const trigger = (n: number) =>
  Effect.flatMap(EventStore.EventStore, (es) => es.append(S.request(S.taskId(n), "noStream", [S.triggered(S.taskId(n))])))

/** Triggers tasks from `n` on until an append fails; the tasks acknowledged meanwhile and the failure. */
const triggerUntilFailure = (n: number) =>
  Effect.gen(function* () {
    const acknowledged: Array<TaskId> = []
    for (let i = n; i < n + 2_000; i++) {
      const result = yield* Effect.result(trigger(i))
      if (result._tag === "Failure") return { acknowledged, failure: result.failure }
      acknowledged.push(result.success.events[0]!.stream)
    }
    throw new Error("appends kept working on a full disk")
  })

const paused = (id: string) => Effect.flatMap(EventStore.EventStore, (es) => es.appendSchedule([new ScheduleEvent.SchedulePaused({ id, at: S.epoch })]))

const recovery = { initialDelayMillis: 50, maxDelayMillis: 200, maxFailures: 3 }

describe("LevelDB store write faults", () => {
  it.live("a full disk degrades the store; after space is freed it reopens and writes again, losing nothing", () =>
    Effect.gen(function* () {
      const mount = yield* tmpfs("4m")
      if (mount === undefined) return
      yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        const seen: Array<string> = []
        const watcher = yield* es.healthChanges.pipe(
          Stream.tap((health) => Effect.sync(() => seen.push(health.status))),
          Stream.takeUntil((health) => health.status === "ok" && seen.includes("degraded")),
          Stream.runDrain,
          Effect.forkChild,
        )
        const acknowledged: Array<TaskId> = []
        for (let n = 1; n <= 20; n++) acknowledged.push((yield* trigger(n)).events[0]!.stream)
        expect(yield* paused("before")).toBe(1)

        fillDisk(path.join(mount, "filler"))
        const { acknowledged: more, failure } = yield* triggerUntilFailure(21)
        acknowledged.push(...more)
        expect(failure).toMatchObject({ _tag: "StoreError", operation: "append" })
        expect(failure.message).toMatch(/No space left on device/)
        const degraded = yield* es.health
        expect(degraded).toMatchObject({ status: "degraded", error: expect.stringMatching(/No space left on device/) })
        // While degraded, appends fail at once with the error and since when.
        const refused = yield* Effect.flip(trigger(5_000))
        expect(refused.message).toMatch(/cannot write since .*No space left on device.*reopens the database/)
        expect((yield* Effect.flip(paused("while degraded"))).message).toMatch(/cannot write since .*No space left on device/)
        // Reads still work.
        expect((yield* es.getTask(acknowledged[0]!))?.status).toBe("triggered")

        fs.rmSync(path.join(mount, "filler"))
        yield* Fiber.join(watcher).pipe(Effect.timeout("10 seconds"))
        expect(seen.slice(0, 2)).toEqual(["ok", "degraded"])
        expect(yield* es.health).toMatchObject({ status: "ok", damage: [] })
        acknowledged.push((yield* trigger(6_000)).events[0]!.stream)
        expect(yield* paused("after")).toBe(2)
        expect((yield* es.readSchedules).map((r) => r.id)).toEqual(["before", "after"])

        for (const task of acknowledged) expect((yield* es.getTask(task))?.status, task).toBe("triggered")
        const head = yield* es.head
        expect((yield* es.readAll(1)).map((e) => e.position)).toEqual(Array.from({ length: head }, (_, i) => i + 1))
        const projections = yield* es.dumpProjections
        yield* es.rebuildProjections
        expect(yield* es.dumpProjections).toEqual(projections)
      }).pipe(Effect.provide(LevelEventStore.layer({ directory: path.join(mount, "store"), recovery })))
      // And after a restart, nothing is reported damaged.
      const reopened = yield* Effect.flatMap(EventStore.EventStore, (es) => es.health).pipe(
        Effect.provide(LevelEventStore.layer({ directory: path.join(mount, "store") })),
      )
      expect(reopened).toMatchObject({ status: "ok", damage: [] })
    }))

  it.live("a database that cannot be reopened makes the store give up after the configured attempts: failed", () =>
    Effect.gen(function* () {
      const mount = yield* tmpfs("4m")
      if (mount === undefined) return
      const directory = path.join(mount, "store")
      yield* Effect.gen(function* () {
        const es = yield* EventStore.EventStore
        yield* trigger(1)
        fillDisk(path.join(mount, "filler"))
        const { failure } = yield* triggerUntilFailure(2)
        expect(failure.message).toMatch(/No space left on device/)
        // Space comes back, but LevelDB's CURRENT file is damaged: every reopen fails.
        fs.writeFileSync(path.join(directory, "CURRENT"), "garbage")
        fs.rmSync(path.join(mount, "filler"))
        const failed = yield* es.healthChanges.pipe(
          Stream.filter((health) => health.status === "failed"),
          Stream.runHead,
          Effect.timeout("10 seconds"),
        )
        expect(failed._tag).toBe("Some")
        expect(failed._tag === "Some" && failed.value.error).toMatch(/gave up writing after 3 failed attempts .*Corruption/)
        expect((yield* Effect.flip(trigger(3))).message).toMatch(/gave up writing/)
      }).pipe(Effect.provide(LevelEventStore.layer({ directory, recovery })))
    }))
})
