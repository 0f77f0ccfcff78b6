/**
 * File-system helpers of the example tasks: a deterministic recursive listing
 * of the regular files under a folder (with sizes), and streaming hashing of
 * one file with node:crypto.
 */
import { createHash } from "node:crypto"
import { createReadStream } from "node:fs"
import { lstat, readdir } from "node:fs/promises"
import { join } from "node:path"

/** A regular file found under the listed folder. */
export interface Entry {
  /** Relative to the listed folder, `/`-separated. */
  readonly path: string
  readonly size: number
}

/** What `list` reports besides the entries. */
export interface ListOptions {
  /** Stops the listing early (the entries found so far are returned). */
  readonly signal?: AbortSignal | undefined
  /** Receives a folder or file that could not be read; it is skipped. */
  readonly onSkip?: ((path: string, error: unknown) => void) | undefined
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Every regular file under `root`, depth first with the entries of each folder
 * sorted by name (UTF-16 code unit order), so the order is the same on every
 * run and platform. Symbolic links and special files are not followed or listed.
 */
export const list = async (root: string, options: ListOptions = {}): Promise<ReadonlyArray<Entry>> => {
  const entries: Array<Entry> = []
  const visit = async (relative: string): Promise<void> => {
    let children
    try {
      children = await readdir(join(root, relative), { withFileTypes: true })
    } catch (error) {
      if (relative === "") throw error
      options.onSkip?.(relative, error)
      return
    }
    children.sort((a, b) => byName(a.name, b.name))
    for (const child of children) {
      if (options.signal?.aborted) return
      const path = relative === "" ? child.name : `${relative}/${child.name}`
      if (child.isDirectory()) {
        await visit(path)
      } else if (child.isFile()) {
        try {
          entries.push({ path, size: (await lstat(join(root, path))).size })
        } catch (error) {
          options.onSkip?.(path, error)
        }
      }
    }
  }
  await visit("")
  return entries
}

/** Node's names of the supported hash algorithms. */
export type Algorithm = "sha256" | "sha1" | "md5"

/** The hex digest of a file's content, read as a stream; `signal` stops the read with an AbortError. */
export const hashFile = async (path: string, algorithm: Algorithm, signal?: AbortSignal): Promise<string> => {
  const hash = createHash(algorithm)
  for await (const chunk of createReadStream(path, signal === undefined ? {} : { signal })) hash.update(chunk as Buffer)
  return hash.digest("hex")
}
