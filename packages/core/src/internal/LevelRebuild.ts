/**
 * Rebuilds every projection from the log: marks the rebuild in progress
 * (`m!rebuild`), deletes every `p!` key, folds the whole log in position
 * order with the same step the writer uses, writes the projections with the
 * same code as a live append, then clears the mark. A crash in between leaves
 * the mark, and the next open rebuilds again.
 *
 * Position order matters for one projection: the idempotency index keeps the
 * first task triggered with a key, exactly as live appends do.
 *
 * Holes in the log at or below the pruned watermark are what a prune left
 * (LevelPrune); the head is then `max(last event, watermark)`.
 *
 * The writer runs a rebuild alone (no append is prepared meanwhile); reads
 * during a rebuild may see partial projections.
 */
import { Effect } from "effect"
import { StoreError } from "../StoreErrors.ts"
import * as Replay from "../Replay.ts"
import { fromEnvelope } from "../TaskEvent.ts"
import { storeError, type Db } from "./LevelDb.ts"
import * as Keys from "./RecordKeys.ts"
import { isPrunedHole, readPrunedThrough } from "./LevelPrune.ts"
import { emptyCounts, writeCounts, writeProjections } from "./AppendGroup.ts"
import type { TaskStatus } from "../TaskMachine.ts"

const CHUNK = 4096

/** What a rebuild leaves: the final state of every stream and the status counters. */
export interface Rebuilt {
  readonly head: number
  readonly states: ReadonlyMap<string, Replay.TaskState>
  readonly counts: Record<TaskStatus, number>
}

const deleteProjections = async (db: Db): Promise<void> => {
  const cursor = db.iterator(Keys.prefixRange(Keys.projectionPrefix))
  try {
    for (;;) {
      const entries = await cursor.nextv(CHUNK)
      if (entries.length === 0) return
      const batch = db.batch()
      for (const [key] of entries) batch.del(key)
      await batch.write(false)
    }
  } finally {
    await cursor.close()
  }
}

const foldLog = async (db: Db): Promise<{ head: number; states: Map<string, Replay.TaskState> }> => {
  const states = new Map<string, Replay.TaskState>()
  const prunedThrough = await readPrunedThrough(db)
  let head = 0
  const cursor = db.iterator(Keys.prefixRange(Keys.logPrefix))
  try {
    for (;;) {
      const entries = await cursor.nextv(CHUNK)
      if (entries.length === 0) return { head: Math.max(head, prunedThrough), states }
      for (const [key, value] of entries) {
        const recorded = fromEnvelope(JSON.parse(value))
        const inOrder = recorded.position === head + 1 || (recorded.position > head + 1 && isPrunedHole(prunedThrough, recorded.position - 1))
        if (!inOrder || Keys.positionOfLogKey(key) !== recorded.position) {
          throw new StoreError({ operation: "rebuild", reason: `log is not gapless at position ${head + 1} (found ${recorded.position})` })
        }
        const next = Replay.step(states.get(recorded.stream) ?? Replay.initial, recorded)
        if (next instanceof Replay.ReplayError) throw new StoreError({ operation: "rebuild", reason: next.message })
        states.set(recorded.stream, next)
        head = recorded.position
      }
    }
  } finally {
    await cursor.close()
  }
}

const writeAll = async (db: Db, states: ReadonlyMap<string, Replay.TaskState>, counts: Record<TaskStatus, number>) => {
  const claimed = new Set<string>()
  const claim = (key: string) => !claimed.has(key) && (claimed.add(key), true)
  let batch = db.batch()
  // Map iteration order is insertion order, i.e. the position of each stream's first event.
  for (const [stream, state] of states) {
    writeProjections(batch, stream, Replay.initial, state, counts, claim)
    if (batch.length >= CHUNK) {
      await batch.write(false)
      batch = db.batch()
    }
  }
  writeCounts(batch, emptyCounts(), counts)
  await batch.write(false)
}

/** Deletes and recomputes every projection from the log. */
export const rebuild = (db: Db): Effect.Effect<Rebuilt, StoreError> =>
  Effect.tryPromise({
    try: async () => {
      const mark = db.batch()
      mark.put(Keys.rebuilding, "1")
      await mark.write(true)
      await deleteProjections(db)
      const { head, states } = await foldLog(db)
      const counts = emptyCounts()
      await writeAll(db, states, counts)
      const done = db.batch()
      done.put(Keys.head, String(head))
      done.del(Keys.rebuilding)
      await done.write(true)
      return { head, states, counts }
    },
    catch: (cause) => (cause instanceof StoreError ? cause : storeError("rebuild")(cause)),
  })
