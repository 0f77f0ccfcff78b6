/**
 * Built-in example task `hashFiles`, "Find duplicate files": finds files with
 * identical content under a folder.
 *
 * Lifecycle: the first iteration lists every regular file under the folder
 * (sorted, recursive, symlinks not followed) and groups the files by size; a
 * file whose size no other file has cannot have a duplicate and is never read.
 * The files that share a size are the candidates, kept in the input's `cursor`.
 * Every iteration then hashes candidates in order (streaming, node:crypto)
 * until it has read `batchFiles` files or `batchBytes` bytes, or the iteration
 * is close to its timeout, and continues with the updated cursor. The cursor
 * is stored as JSON between iterations, so it stays compact: each candidate
 * path appears once, in `pending` until hashed, then in `hashed` under its
 * size and digest; when a size is fully hashed its unique digests are dropped.
 *
 * Limits: the listing must finish within one iteration (900 s by default), and
 * one file is hashed within one iteration.
 */
import { join, resolve } from "node:path"
import { Effect, Schema } from "effect"
import { TaskDefinition } from "@tasklane/tasks"
import * as FileTree from "./internal/FileTree.ts"

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Positive = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

const Cursor = Schema.Struct({
  /** Regular files found, and their total size. */
  files: Count,
  bytes: Count,
  /** Files that share their size with another file: the ones to hash. */
  candidates: Count,
  hashed: Count,
  /** Candidates that could not be read (vanished, no permission). */
  skipped: Count,
  /** Candidates not hashed yet, by size, in listing order. */
  pending: Schema.Array(Schema.Struct({ size: Count, paths: Schema.Array(Schema.String) })),
  /** Candidates hashed so far, by size and digest (unique digests of finished sizes are dropped). */
  digests: Schema.Array(Schema.Struct({ size: Count, hash: Schema.String, paths: Schema.Array(Schema.String) })),
}).annotate({ title: "Checkpoint", description: "Written by the task between iterations; leave it empty" })

/** The input of `hashFiles`. */
export const Input = Schema.Struct({
  folder: Schema.NonEmptyString.annotate({ title: "Folder", description: "The folder to search, with all its subfolders" }),
  algorithm: Schema.Literals(["sha256", "sha1", "md5"])
    .annotate({ title: "Hash algorithm", description: "How file contents are compared", default: "sha256" })
    .pipe(Schema.withDecodingDefaultKey(Effect.succeed("sha256" as const))),
  minSize: Count.annotate({ title: "Minimum size", description: "Ignore files smaller than this many bytes (empty files are all alike)", default: 1 })
    .pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))),
  batchFiles: Positive.annotate({ title: "Files per iteration", description: "Checkpoint after hashing this many files", default: 2000 })
    .pipe(Schema.withDecodingDefaultKey(Effect.succeed(2000))),
  batchBytes: Positive.annotate({ title: "Bytes per iteration", description: "Checkpoint after hashing this many bytes", default: 2 ** 31 })
    .pipe(Schema.withDecodingDefaultKey(Effect.succeed(2 ** 31))),
  cursor: Schema.optionalKey(Cursor),
})

/** The decoded input of `hashFiles`. */
export type Input = typeof Input.Type
type Cursor = typeof Cursor.Type

/** A set of files with identical content. */
export interface Duplicate {
  readonly hash: string
  readonly size: number
  /** Relative to the searched folder, `/`-separated. */
  readonly paths: ReadonlyArray<string>
}

/** The output of `hashFiles`; sets of duplicates come largest waste first. */
export interface Output {
  /** The searched folder, absolute. */
  readonly folder: string
  readonly files: number
  readonly bytes: number
  readonly hashed: number
  readonly skipped: number
  readonly duplicates: ReadonlyArray<Duplicate>
}

const reasonOf = (error: unknown): string => TaskDefinition.toErrorInfo(error).message

/** The cursor after listing: sizes shared by two or more files become the pending groups. */
const plan = (entries: ReadonlyArray<FileTree.Entry>, minSize: number): Cursor => {
  const bySize = new Map<number, Array<string>>()
  let bytes = 0
  for (const entry of entries) {
    bytes += entry.size
    if (entry.size < minSize) continue
    const paths = bySize.get(entry.size)
    if (paths === undefined) bySize.set(entry.size, [entry.path])
    else paths.push(entry.path)
  }
  const pending = Array.from(bySize, ([size, paths]) => ({ size, paths })).filter((group) => group.paths.length > 1)
  const candidates = pending.reduce((sum, group) => sum + group.paths.length, 0)
  return { files: entries.length, bytes, candidates, hashed: 0, skipped: 0, pending, digests: [] }
}

const duplicatesOf = (digests: Cursor["digests"]): ReadonlyArray<Duplicate> =>
  digests
    .filter((group) => group.paths.length > 1)
    .map(({ hash, size, paths }) => ({ hash, size, paths }))
    .sort((a, b) => b.size * (b.paths.length - 1) - a.size * (a.paths.length - 1) || (a.paths[0]! < b.paths[0]! ? -1 : 1))

/** Finds files with identical content under a folder; see the module comment. */
export class HashFiles implements TaskDefinition.Interface<Input, Output> {
  readonly id = "hashFiles"
  readonly title = "Find duplicate files"
  readonly description = "Finds files with identical content under a folder (hashing only files whose size is shared)"
  readonly maxIterations = 10_000

  createInputValidation() {
    return Input
  }

  async run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    const { runtime, response, state, logger } = controller
    const folder = resolve(input.folder)
    let worked = false
    let cursor = input.cursor
    if (cursor === undefined) {
      state.setProgress({ completed: 0, message: `Listing ${folder}` })
      try {
        const entries = await FileTree.list(folder, {
          signal: runtime.signal,
          onSkip: (path, error) => logger.warn(`Skipped ${path}: ${reasonOf(error)}`),
        })
        cursor = plan(entries, input.minSize)
      } catch (error) {
        return response.error({ message: `Cannot list ${folder}: ${reasonOf(error)}`, code: "FolderUnreadable", data: { folder } })
      }
      if (runtime.isAborted()) return response.aborted()
      worked = true
      logger.info(`Found ${cursor.files} files (${cursor.bytes} bytes); ${cursor.candidates} share their size and will be hashed`)
    }

    // Working copies: digests by size, then by hash.
    const pending = cursor.pending.map((group) => ({ size: group.size, paths: [...group.paths] }))
    const digests = new Map<number, Map<string, Array<string>>>()
    const addDigest = (size: number, hash: string, paths: ReadonlyArray<string>) => {
      const bySize = digests.get(size) ?? digests.set(size, new Map()).get(size)!
      const known = bySize.get(hash)
      if (known === undefined) bySize.set(hash, [...paths])
      else known.push(...paths)
    }
    for (const group of cursor.digests) addDigest(group.size, group.hash, group.paths)
    let { hashed, skipped } = cursor
    let batchFiles = 0
    let batchBytes = 0
    const snapshot = (): Cursor => ({
      ...cursor,
      hashed,
      skipped,
      pending,
      digests: Array.from(digests, ([size, byHash]) => Array.from(byHash, ([hash, paths]) => ({ size, hash, paths }))).flat(),
    })

    while (pending.length > 0) {
      if (runtime.isAborted()) return response.aborted()
      if (worked && (batchFiles >= input.batchFiles || batchBytes >= input.batchBytes || runtime.isCloseToTimeout())) {
        logger.info(`Checkpoint: ${hashed + skipped} of ${cursor.candidates} files done`)
        return response.continue({ ...input, cursor: snapshot() })
      }
      const group = pending[0]!
      const path = group.paths.shift()!
      try {
        addDigest(group.size, await FileTree.hashFile(join(folder, path), input.algorithm, runtime.signal), [path])
        hashed++
      } catch (error) {
        if (runtime.isAborted()) return response.aborted()
        skipped++
        logger.warn(`Skipped ${path}: ${reasonOf(error)}`)
      }
      worked = true
      batchFiles++
      batchBytes += group.size
      if (group.paths.length === 0) {
        pending.shift()
        const bySize = digests.get(group.size)
        for (const [hash, paths] of bySize ?? []) if (paths.length < 2) bySize!.delete(hash)
        if (bySize?.size === 0) digests.delete(group.size)
      }
      state.setProgress({ completed: hashed + skipped, total: cursor.candidates, message: `Hashed ${hashed + skipped} of ${cursor.candidates} files` })
    }

    const duplicates = duplicatesOf(snapshot().digests)
    const output: Output = { folder, files: cursor.files, bytes: cursor.bytes, hashed, skipped, duplicates }
    return response.done(`Found ${duplicates.length} sets of identical files among ${cursor.files} files`, output)
  }
}

/** The `hashFiles` example task. */
export default TaskDefinition.createImplementation({ implementation: HashFiles })
