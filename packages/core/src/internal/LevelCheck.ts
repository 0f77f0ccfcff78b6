/**
 * Damage checks of the level store on disk, and the repair an operator can
 * accept. Outside the per-event path: these run when the store opens, and
 * one scan of every record runs in the background afterwards.
 *
 * At open ({@link inspect}), cheap checks only:
 *   - damage remembered from an earlier refused open (`TASKLANE-DAMAGE`:
 *     LevelDB's recovery discards the damaged log on its first open, so the
 *     next open would otherwise see nothing);
 *   - LevelDB had to repair the database to open it, or its recovery dropped
 *     part of the write-ahead log (its info log says so);
 *   - the head checkpoint kept outside LevelDB is past the last event in the
 *     log (the log was cut: LevelDB notices nothing), or the stored head
 *     disagrees with the last event;
 *   - the last {@link TAIL} events are gapless and decode, and the summary of
 *     each task among them is at the version of its last event.
 * When LevelDB dropped something, the whole log is checked for gaps too.
 *
 * {@link repair} (the operator accepted the damage): copy the store beside
 * itself, salvage it with RepairDB, cut the log after its last intact event
 * (with the stream runs that pointed past it), rebuild every projection from
 * what is left, and record the new head as the checkpoint.
 *
 * Holes at or below the pruned watermark (`m!pruned`, LevelPrune) are what a
 * prune left, not damage; the head is then `max(last event, watermark)`.
 *
 * {@link scrub}: reads every record once (not into the block cache), so a
 * damaged table file is found without waiting for a read to trip on it.
 */
import { Cause, Clock, Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { StoreError } from "../StoreErrors.ts"
import { storeError, type Db, type Disk } from "./LevelDb.ts"
import * as Keys from "./RecordKeys.ts"
import { isPrunedHole, readPrunedThrough } from "./LevelPrune.ts"
import { rebuild } from "./LevelRebuild.ts"

/** How many of the last events are checked at open. */
export const TAIL = 1000
const CHUNK = 1024
const damageFile = "TASKLANE-DAMAGE"

const attempt = <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, StoreError> =>
  Effect.tryPromise({ try: f, catch: (cause) => (cause instanceof StoreError ? cause : storeError(operation)(cause)) })

const isCorruption = (cause: unknown): boolean => cause instanceof StoreError && /Corruption/.test(cause.reason)

const readRemembered = async (disk: Disk): Promise<Array<string>> => {
  const text = await fs.readFile(path.join(disk.directory, damageFile), "utf8").catch(() => "")
  return text.split("\n").filter((line) => line.trim() !== "")
}

/** Keeps findings for the next open (LevelDB's recovery has already discarded what it dropped). */
export const remember = (disk: Disk, findings: ReadonlyArray<string>): Effect.Effect<void, StoreError> =>
  attempt("remember damage", async () => {
    const known = await readRemembered(disk)
    const all = [...known, ...findings.filter((finding) => !known.includes(finding))]
    await fs.writeFile(path.join(disk.directory, damageFile), all.join("\n") + "\n")
  })

interface LogScan {
  /** The last position p such that 1..p are all present and decode. */
  readonly intact: number
  /** The last position present. */
  readonly last: number
  readonly problems: ReadonlyArray<string>
}

/** Reads the whole log in position order: where it stops being gapless and decodable. */
const scanLog = async (db: Db): Promise<LogScan> => {
  const prunedThrough = await readPrunedThrough(db)
  const problems: Array<string> = []
  let intact = 0
  let last = 0
  const cursor = db.iterator({ ...Keys.prefixRange(Keys.logPrefix), fillCache: false })
  try {
    for (;;) {
      const entries = await cursor.nextv(CHUNK)
      if (entries.length === 0) break
      for (const [key, value] of entries) {
        const position = Keys.positionOfLogKey(key)
        if (problems.length === 0 && position !== intact + 1 && !isPrunedHole(prunedThrough, position - 1)) {
          problems.push(`events ${intact + 1}..${position - 1} are missing from the log`)
        }
        let decoded = false
        try {
          decoded = (JSON.parse(value) as { position?: unknown }).position === position
        } catch {}
        if (problems.length === 0 && !decoded) problems.push(`event ${position} in the log does not decode`)
        if (problems.length === 0) intact = position
        last = position
      }
    }
  } catch (cause) {
    problems.push(`reading the log after event ${last} failed: ${storeError("scan")(cause).reason}`)
  } finally {
    await cursor.close().catch(() => undefined)
  }
  return { intact, last, problems }
}

/** The last events: gapless, decodable, and each of their tasks' summaries at the version of its last event. */
const checkTail = async (db: Db, last: number, prunedThrough: number, summaries: boolean): Promise<Array<string>> => {
  const findings: Array<string> = []
  const entries = await db.entries({ ...Keys.prefixRange(Keys.logPrefix), reverse: true, limit: TAIL })
  const versions = new Map<string, number>()
  let expected = last
  for (const [key, value] of entries) {
    const position = Keys.positionOfLogKey(key)
    if (position !== expected && !isPrunedHole(prunedThrough, expected)) {
      findings.push(`events ${position + 1}..${expected} are missing from the log`)
      break
    }
    expected = position - 1
    let envelope: { stream?: unknown; version?: unknown; position?: unknown }
    try {
      envelope = JSON.parse(value)
    } catch {
      findings.push(`event ${position} in the log does not decode`)
      break
    }
    if (envelope.position !== position || typeof envelope.stream !== "string" || typeof envelope.version !== "number") {
      findings.push(`event ${position} in the log does not decode`)
      break
    }
    if (!versions.has(envelope.stream)) versions.set(envelope.stream, envelope.version)
  }
  if (!summaries) return findings
  const streams = [...versions.keys()]
  const stored = await db.getMany(streams.map(Keys.task))
  const stale = streams.filter((stream, i) => {
    const summary = stored[i]
    if (summary === undefined) return true
    try {
      return (JSON.parse(summary) as { context?: { version?: unknown } }).context?.version !== versions.get(stream)
    } catch {
      return true
    }
  })
  if (stale.length > 0) {
    const named = stale.slice(0, 3).join(", ") + (stale.length > 3 ? ` and ${stale.length - 3} more` : "")
    findings.push(`the stored summaries of ${stale.length} task(s) disagree with their last events in the log (${named})`)
  }
  return findings
}

/** The cheap checks at open; an empty list means nothing was found. */
export const inspect = (db: Db, disk: Disk): Effect.Effect<ReadonlyArray<string>, StoreError> =>
  attempt("check", async () => {
    const findings = await readRemembered(disk)
    const add = (finding: string) => void (findings.includes(finding) || findings.push(finding))
    if (disk.repaired !== undefined) add(`LevelDB could not open the database (${disk.repaired}); its RepairDB salvaged what it could`)
    const notes = await disk.recoveryNotes()
    for (const note of notes) add(`LevelDB's recovery dropped part of its write-ahead log (${note})`)
    try {
      const [lastKey] = await db.keys({ ...Keys.prefixRange(Keys.logPrefix), reverse: true, limit: 1 })
      const last = lastKey === undefined ? 0 : Keys.positionOfLogKey(lastKey)
      const checkpoint = await disk.readCheckpoint()
      if (checkpoint !== undefined && checkpoint > Math.max(last, await readPrunedThrough(db))) {
        add(`events ${last + 1}..${checkpoint} were committed but are missing: LevelDB's write-ahead log was cut or lost`)
      }
      const [meta, rebuilding] = await db.getMany([Keys.head, Keys.rebuilding])
      const prunedThrough = await readPrunedThrough(db)
      const head = Math.max(last, prunedThrough)
      if ((meta === undefined ? 0 : Number(meta)) !== head) add(`the stored head (${meta ?? 0}) disagrees with the last event in the log (${last})`)
      // An interrupted rebuild (finished next) leaves summaries behind on purpose.
      for (const finding of await checkTail(db, last, prunedThrough, rebuilding === undefined)) add(finding)
    } catch (cause) {
      add(`reading the store failed (a damaged table file): ${storeError("check")(cause).reason}`)
    }
    if (notes.length > 0 || disk.repaired !== undefined) for (const problem of (await scanLog(db)).problems) add(problem)
    return findings
  })

/**
 * Repairs accepted damage (see the module header) and returns what the
 * health report keeps: the findings and what the repair did.
 */
export const repair = (db: Db, disk: Disk, findings: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>, StoreError> =>
  Effect.gen(function* () {
    const stamp = new Date(yield* Clock.currentTimeMillis).toISOString().replace(/[:.]/g, "-")
    const copy = `${disk.directory}.damaged-${stamp}`
    yield* attempt("repair", () => disk.repair(copy))
    const scan = yield* attempt("repair", () => scanLog(db))
    const done = [`a copy of the damaged store is in ${copy}`]
    if (scan.last > scan.intact) {
      yield* attempt("repair", () => cut(db, scan.intact))
      done.push(`the log was cut after event ${scan.intact} (${scan.problems.join("; ")}); events up to ${scan.last} were dropped`)
    }
    const rebuilt = yield* rebuild(db)
    yield* attempt("repair", async () => {
      await disk.writeCheckpoint(rebuilt.head, true)
      await fs.rm(path.join(disk.directory, damageFile), { force: true })
    })
    done.push(`every task summary was rebuilt from the ${rebuilt.head} events left`)
    return [...findings, `repaired: ${done.join("; ")}`]
  })

/** Deletes the log after `intact` and the stream runs that reach past it (shortening one that straddles it). */
const cut = async (db: Db, intact: number): Promise<void> => {
  const log = await db.keys({ gt: Keys.log(intact), lt: Keys.prefixEnd(Keys.logPrefix) })
  const runs = await db.entries(Keys.prefixRange("s!"))
  const batch = db.batch()
  for (const key of log) batch.del(key)
  for (const [key, value] of runs) {
    const { position, count } = Keys.parseStreamRun(value)
    if (position > intact) batch.del(key)
    else if (position + count - 1 > intact) batch.put(key, Keys.streamRun(position, intact - position + 1))
  }
  await batch.write(true)
}

/**
 * Reads every record once; what it finds (a damaged table, a gap in the log),
 * one sentence each. Only LevelDB's corruption errors and gaps count: other
 * failures (the store closing or reopening meanwhile) end the scan quietly.
 */
export const scrub = (db: Db): Effect.Effect<ReadonlyArray<string>> =>
  Effect.gen(function* () {
    const cursor = db.iterator({ fillCache: false })
    const findings: Array<string> = []
    let position = 0
    let lastKey = ""
    const next = attempt("scan", () => cursor.nextv(CHUNK))
    for (;;) {
      const read = yield* Effect.exit(next)
      if (read._tag === "Failure") {
        const error = Cause.findErrorOption(read.cause)
        if (error._tag === "Some" && isCorruption(error.value)) {
          findings.push(`a table file is damaged: reading after key ${JSON.stringify(lastKey)} failed: ${error.value.reason}`)
        }
        break
      }
      if (read.value.length === 0) break
      for (const [key] of read.value) {
        lastKey = key
        if (!key.startsWith(Keys.logPrefix)) continue
        const found = Keys.positionOfLogKey(key)
        if (found !== position + 1 && findings.length === 0) {
          // Read now: a prune may run while the scan does (the watermark is written with its deletes).
          const prunedThrough = yield* Effect.promise(() => readPrunedThrough(db).catch(() => 0))
          if (!isPrunedHole(prunedThrough, found - 1)) findings.push(`events ${position + 1}..${found - 1} are missing from the log`)
        }
        position = found
      }
      yield* Effect.yieldNow
    }
    yield* Effect.promise(() => cursor.close().catch(() => undefined))
    return findings
  })
