/**
 * The only module that knows the level packages: opens a classic-level
 * (LevelDB) or memory-level database and adapts it to {@link Db}, the small
 * string-keyed slice of the abstract-level API that the store uses, plus
 * {@link Disk}, what only a database on disk has.
 *
 * Locking: LevelDB takes an fcntl lock on `<dir>/LOCK`, which stops a second
 * process. Within one process LevelDB refuses a second open too, but that
 * refusal opens and closes the LOCK file, and closing any descriptor of a
 * file drops every fcntl lock the process holds on it: the first handle
 * silently loses its cross-process lock. So a process-wide registry of open
 * directories refuses an in-process second open before LevelDB sees it.
 *
 * Write faults: once a LevelDB write fails (ENOSPC during the log append or
 * its sync), its log is in an unknown state and LevelDB keeps failing every
 * later write with the same error. {@link Disk.reopen} closes the database
 * and opens it again in this process, which replays the log (a record whose
 * sync failed may or may not come back) and starts a new one. Reads issued
 * while a reopen runs wait for it. {@link Disk.probeWritable} says whether a
 * reopen can work: the free space must hold the write-ahead logs that the
 * reopen turns into a table, plus a margin, and a small synced test file
 * must write.
 *
 * Damage: classic-level 3 exposes neither `paranoid_checks` nor
 * `verify_checksums`, so LevelDB's recovery skips a damaged log record and
 * notes it only in its info log (`<dir>/LOG`: "dropping N bytes");
 * {@link Disk.recoveryNotes} reads those notes after each open. A log cut at a
 * record boundary leaves no note at all, so the store also keeps its last
 * committed head outside LevelDB ({@link Disk.readCheckpoint}). An open that
 * fails with corruption can be repaired with LevelDB's RepairDB when asked.
 *
 * classic-level is imported dynamically, so memory users never load the
 * native module.
 */
import { Effect, type Scope } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { StoreError, StoreLocked } from "../StoreErrors.ts"

/** Key range of an iteration; keys and values are utf8 strings. */
export interface Range {
  readonly gt?: string
  readonly gte?: string
  readonly lt?: string
  readonly lte?: string
  readonly limit?: number
  readonly reverse?: boolean
  /** Keep what is read out of LevelDB's block cache (a scan of everything); default true. */
  readonly fillCache?: boolean
}

/** A write batch: puts and deletes applied atomically by `write`. */
export interface Batch {
  put(key: string, value: string): void
  del(key: string): void
  readonly length: number
  write(sync: boolean): Promise<void>
  close(): Promise<void>
}

/** An open iterator over entries in key order (or reverse). */
export interface Cursor {
  nextv(size: number): Promise<Array<[string, string]>>
  close(): Promise<void>
}

/** What the store needs from an abstract-level database. */
export interface Db {
  get(key: string): Promise<string | undefined>
  getMany(keys: Array<string>): Promise<Array<string | undefined>>
  batch(): Batch
  iterator(range: Range): Cursor
  keys(range: Range): Promise<Array<string>>
  entries(range: Range): Promise<Array<[string, string]>>
  close(): Promise<void>
  /** What only a database on disk offers (undefined in memory). */
  readonly disk: Disk | undefined
}

/** What only a LevelDB database on disk offers: recovery from write faults and damage checks. */
export interface Disk {
  /** The LevelDB directory (absolute, real path). */
  readonly directory: string
  /** The corruption LevelDB reported when the open failed and RepairDB salvaged the database; undefined when not repaired. */
  readonly repaired: string | undefined
  /** Closes and opens the database again (clears LevelDB's sticky write error); reads wait meanwhile. */
  reopen(): Promise<void>
  /** Closes the database, copies its directory to `copyTo`, salvages it with LevelDB's RepairDB (damaged blocks dropped), and opens it again. */
  repair(copyTo: string): Promise<void>
  /** Resolves when a reopen can work (free space for LevelDB's recovery, a synced test write); rejects with why not. */
  probeWritable(): Promise<void>
  /** What LevelDB's recovery dropped during the last open (from its info log), one line each; empty when nothing. */
  recoveryNotes(): Promise<ReadonlyArray<string>>
  /** The committed head last recorded by {@link writeCheckpoint}; undefined when never recorded. */
  readCheckpoint(): Promise<number | undefined>
  /** Records the committed head outside LevelDB (atomically; `sync`: also fsync it). */
  writeCheckpoint(head: number, sync: boolean): Promise<void>
  /** Compacts every key range, so space of deleted records is given back (after a prune). */
  compact(): Promise<void>
  /** Bytes the directory's files take (LevelDB's tables, logs, manifest). */
  sizeOnDisk(): Promise<number>
}

/** The abstract-level surface both ClassicLevel and MemoryLevel provide (string keys and values). */
interface AbstractLevelLike {
  get(key: string): Promise<string | undefined>
  getMany(keys: Array<string>): Promise<Array<string | undefined>>
  batch(): {
    put(key: string, value: string): unknown
    del(key: string): unknown
    readonly length: number
    write(options: { sync: boolean }): Promise<void>
    close(): Promise<void>
  }
  iterator(range: Range): { nextv(size: number): Promise<Array<[string, string]>>; all(): Promise<Array<[string, string]>>; close(): Promise<void> }
  keys(range: Range): { all(): Promise<Array<string>> }
  close(): Promise<void>
}

/**
 * Adapts a database that `reopen` may replace: `current` is asked at each
 * call, and while `pending` (a reopen) runs, calls wait for it.
 */
const adapt = (current: () => AbstractLevelLike, pending: () => Promise<void> | undefined, disk: Disk | undefined): Db => {
  const use = <A>(f: (db: AbstractLevelLike) => Promise<A>): Promise<A> => {
    const reopening = pending()
    return reopening === undefined ? f(current()) : reopening.then(() => f(current()), () => f(current()))
  }
  return {
    get: (key) => use((db) => db.get(key)),
    getMany: (keys) => use((db) => db.getMany(keys)),
    batch: () => {
      const batch = current().batch()
      return {
        put: (key, value) => void batch.put(key, value),
        del: (key) => void batch.del(key),
        get length() {
          return batch.length
        },
        write: (sync) => batch.write({ sync }),
        close: () => batch.close(),
      }
    },
    iterator: (range) => {
      const opened = use(async (db) => db.iterator(range))
      return { nextv: (size) => opened.then((it) => it.nextv(size)), close: () => opened.then((it) => it.close()) }
    },
    keys: (range) => use((db) => db.keys(range).all()),
    entries: (range) => use((db) => db.iterator(range).all()),
    close: () => use((db) => db.close()),
    disk,
  }
}

const describe = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause)
  const inner = (cause as { cause?: unknown }).cause
  return inner instanceof Error ? `${cause.message}: ${inner.message}` : cause.message
}

/** Maps a rejected level call to a StoreError naming the operation. */
export const storeError = (operation: string) => (cause: unknown) => new StoreError({ operation, reason: describe(cause) })

/** Closes in a finalizer: a failure is logged (the scope is closing anyway), never thrown. */
const closeLogged = (operation: string, close: () => Promise<void>): Effect.Effect<void> =>
  Effect.tryPromise({ try: close, catch: storeError(operation) }).pipe(
    Effect.catch((error) => Effect.logError("event store: closing the database failed", error)),
  )

const registryKey = Symbol.for("@tasklane/core/LevelDb/openDirectories")
const openDirectories: Set<string> = ((globalThis as Record<symbol, unknown>)[registryKey] ??= new Set<string>()) as Set<string>

const isLocked = (cause: unknown): boolean => {
  const error = cause as { code?: unknown; cause?: { code?: unknown } } | undefined
  return error?.code === "LEVEL_LOCKED" || error?.cause?.code === "LEVEL_LOCKED"
}

/** The errors that waiting for free space can cure (restarting cannot). */
export const isOutOfSpace = (reason: string): boolean => /No space left on device|Disk quota exceeded|ENOSPC|EDQUOT/.test(reason)

const isCorruption = (cause: unknown): boolean => /Corruption:/.test(describe(cause))

/** The head checkpoint, beside LevelDB's own files (LevelDB ignores names it did not make). */
const checkpointFile = "TASKLANE-HEAD"
/** Written and removed by the write probe. */
const probeFile = "TASKLANE-PROBE"
/** Free space wanted beyond the logs a reopen turns into tables (a new MANIFEST and log, the probe). */
const REOPEN_MARGIN = 1024 * 1024
const PROBE_BYTES = 64 * 1024

const writeFileSynced = async (file: string, data: string | Uint8Array, sync: boolean): Promise<void> => {
  const handle = await fs.open(file, "w")
  try {
    await handle.writeFile(data)
    if (sync) await handle.sync()
  } finally {
    await handle.close()
  }
}

const makeDisk = (
  directory: string,
  repaired: string | undefined,
  reopen: (copyTo?: string) => Promise<void>,
  compact: () => Promise<void>,
): Disk => ({
  directory,
  compact,
  sizeOnDisk: async () => {
    const names = await fs.readdir(directory)
    const stats = await Promise.all(names.map((name) => fs.stat(path.join(directory, name)).catch(() => undefined)))
    return stats.reduce((sum, stat) => sum + (stat?.isFile() ? stat.size : 0), 0)
  },
  repaired,
  reopen: () => reopen(),
  repair: (copyTo) => reopen(copyTo),
  probeWritable: async () => {
    const names = await fs.readdir(directory)
    const logs = await Promise.all(names.filter((name) => name.endsWith(".log")).map((name) => fs.stat(path.join(directory, name))))
    const needed = logs.reduce((sum, stat) => sum + stat.size, 0) + REOPEN_MARGIN
    const { bavail, bsize } = await fs.statfs(directory)
    if (bavail * bsize < needed) {
      throw new Error(`No space left on device: ${bavail * bsize} bytes free in ${directory}, reopening needs about ${needed}`)
    }
    const probe = path.join(directory, probeFile)
    try {
      await writeFileSynced(probe, new Uint8Array(PROBE_BYTES), true)
    } finally {
      await fs.rm(probe, { force: true })
    }
  },
  recoveryNotes: async () => {
    const info = await fs.readFile(path.join(directory, "LOG"), "utf8").catch(() => "")
    // Lines look like `2026/12/05-12:43:08.999817 7f398d5f76c0 (ignoring error) …/000003.log: dropping 8178 bytes; Corruption: checksum mismatch`.
    return info
      .split("\n")
      .filter((line) => /dropping|Corruption|ignoring error/i.test(line))
      .map((line) => line.replace(/^\S+ \S+ /, "").replace("(ignoring error) ", "").replace(directory + path.sep, ""))
  },
  readCheckpoint: async () => {
    const text = await fs.readFile(path.join(directory, checkpointFile), "utf8").catch(() => undefined)
    const head = text === undefined ? NaN : Number(text.trim())
    return Number.isSafeInteger(head) && head >= 0 ? head : undefined
  },
  writeCheckpoint: async (head, sync) => {
    const file = path.join(directory, checkpointFile)
    await writeFileSynced(`${file}.tmp`, `${head}\n`, sync)
    await fs.rename(`${file}.tmp`, file)
  },
})

/** Options of {@link openClassic}. */
export interface OpenOptions {
  /** When LevelDB refuses to open with a corruption, salvage with its RepairDB and open again (reported in {@link Disk.repaired}). */
  readonly repair?: boolean
}

/** Opens (creating if missing) the LevelDB database in `directory` for the scope; another holder fails with StoreLocked. */
export const openClassic = (directory: string, options: OpenOptions = {}): Effect.Effect<Db, StoreLocked | StoreError, Scope.Scope> => {
  const absolute = path.resolve(directory)
  const acquire = Effect.tryPromise({
    try: async () => {
      await fs.mkdir(absolute, { recursive: true })
      const real = await fs.realpath(absolute)
      if (openDirectories.has(real)) return { _tag: "locked" as const }
      openDirectories.add(real)
      try {
        const { ClassicLevel } = await import("classic-level")
        const create = () => new ClassicLevel<string, string>(real, { keyEncoding: "utf8", valueEncoding: "utf8" })
        let db = create()
        let repaired: string | undefined
        try {
          await db.open()
        } catch (cause) {
          if (!options.repair || !isCorruption(cause)) throw cause
          repaired = describe(cause)
          await ClassicLevel.repair(real)
          db = create()
          await db.open()
        }
        let pending: Promise<void> | undefined
        const reopen = (copyTo?: string) => {
          pending ??= (async () => {
            await db.close()
            if (copyTo !== undefined) {
              await fs.cp(real, copyTo, { recursive: true, filter: (source) => path.basename(source) !== "LOCK" })
              await ClassicLevel.repair(real)
            }
            db = create()
            await db.open()
          })().finally(() => (pending = undefined))
          return pending
        }
        // Every key starts with a lowercase letter (RecordKeys): this range is the whole database.
        const compact = () => (pending ?? Promise.resolve()).then(() => db.compactRange("0", "~"))
        const adapted = adapt(() => db as AbstractLevelLike, () => pending, makeDisk(real, repaired, reopen, compact))
        return { _tag: "open" as const, db: adapted, real }
      } catch (cause) {
        openDirectories.delete(real)
        if (isLocked(cause)) return { _tag: "locked" as const }
        throw cause
      }
    },
    catch: storeError(`open ${absolute}`),
  })
  return Effect.acquireRelease(acquire, (opened) =>
    opened._tag === "open" ? closeLogged(`close ${absolute}`, () => opened.db.close().finally(() => openDirectories.delete(opened.real))) : Effect.void,
  ).pipe(
    Effect.flatMap((opened) => (opened._tag === "open" ? Effect.succeed(opened.db) : Effect.fail(new StoreLocked({ directory: absolute })))),
  )
}

/** Opens a fresh in-memory database for the scope. */
export const openMemory: Effect.Effect<Db, StoreError, Scope.Scope> = Effect.acquireRelease(
  Effect.tryPromise({
    try: async () => {
      const { MemoryLevel } = await import("memory-level")
      const db = new MemoryLevel<string, string>({ storeEncoding: "utf8", keyEncoding: "utf8", valueEncoding: "utf8" })
      await db.open()
      return db
    },
    catch: storeError("open memory"),
  }),
  (db) => closeLogged("close memory", () => db.close()),
).pipe(Effect.map((db) => adapt(() => db as AbstractLevelLike, () => undefined, undefined)))
