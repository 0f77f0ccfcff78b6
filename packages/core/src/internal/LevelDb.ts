/**
 * The only module that knows the level packages: opens a classic-level
 * (LevelDB) or memory-level database and adapts it to {@link Db}, the small
 * string-keyed slice of the abstract-level API that the store uses.
 *
 * Locking: LevelDB takes an fcntl lock on `<dir>/LOCK`, which stops a second
 * process. Within one process LevelDB refuses a second open too, but that
 * refusal opens and closes the LOCK file, and closing any descriptor of a
 * file drops every fcntl lock the process holds on it: the first handle
 * silently loses its cross-process lock. So a process-wide registry of open
 * directories refuses an in-process second open before LevelDB sees it.
 *
 * classic-level is imported dynamically, so memory users never load the
 * native module.
 */
import { Effect, type Scope } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { StoreError, StoreLocked } from "../EventStore.ts"

/** Key range of an iteration; keys and values are utf8 strings. */
export interface Range {
  readonly gt?: string
  readonly gte?: string
  readonly lt?: string
  readonly lte?: string
  readonly limit?: number
  readonly reverse?: boolean
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

const adapt = (db: AbstractLevelLike): Db => ({
  get: (key) => db.get(key),
  getMany: (keys) => db.getMany(keys),
  batch: () => {
    const batch = db.batch()
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
  iterator: (range) => db.iterator(range),
  keys: (range) => db.keys(range).all(),
  entries: (range) => db.iterator(range).all(),
  close: () => db.close(),
})

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

/** Opens (creating if missing) the LevelDB database in `directory` for the scope; another holder fails with StoreLocked. */
export const openClassic = (directory: string): Effect.Effect<Db, StoreLocked | StoreError, Scope.Scope> => {
  const absolute = path.resolve(directory)
  const acquire = Effect.tryPromise({
    try: async () => {
      await fs.mkdir(absolute, { recursive: true })
      const real = await fs.realpath(absolute)
      if (openDirectories.has(real)) return { _tag: "locked" as const }
      openDirectories.add(real)
      try {
        const { ClassicLevel } = await import("classic-level")
        const db = new ClassicLevel<string, string>(real, { keyEncoding: "utf8", valueEncoding: "utf8" })
        await db.open()
        return { _tag: "open" as const, db, real }
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
    Effect.flatMap((opened) =>
      opened._tag === "open" ? Effect.succeed(adapt(opened.db as AbstractLevelLike)) : Effect.fail(new StoreLocked({ directory: absolute })),
    ),
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
).pipe(Effect.map((db) => adapt(db as AbstractLevelLike)))
