/**
 * `hashFiles` on real temp folders: duplicates found across many iterations,
 * only size-sharing files read, a compact cursor, checkpoints near the
 * timeout, abort, vanished files and an unreadable folder.
 */
import { createHash } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import hashFiles from "../../src/examples/HashFiles.ts"
import { last, load, makeClock, runIteration, runToEnd } from "./TaskHarness.ts"

let folder: string
const big = Buffer.alloc(100_000, 7)
const digest = (content: string | Buffer, algorithm = "sha256") => createHash(algorithm).update(content).digest("hex")

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "tasklane-hashfiles-"))
  const write = (path: string, content: string | Buffer) => {
    mkdirSync(join(folder, path, ".."), { recursive: true })
    writeFileSync(join(folder, path), content)
  }
  write("a.txt", "hello")
  write("sub/b.txt", "hello")
  write("sub/deep/c.txt", "hello")
  write("d.txt", "world") // same size as "hello", different content
  write("photos/e.bin", big)
  write("photos/copy of e.bin", big)
  write("unique.txt", "no other file has this size")
  write("empty-1", "")
  write("empty-2", "")
  symlinkSync(join(folder, "a.txt"), join(folder, "link-to-a.txt"))
})
afterEach(() => rmSync(folder, { recursive: true, force: true }))

const expectedDuplicates = (algorithm = "sha256") => [
  { hash: digest(big, algorithm), size: big.length, paths: ["photos/copy of e.bin", "photos/e.bin"] },
  { hash: digest("hello", algorithm), size: 5, paths: ["a.txt", "sub/b.txt", "sub/deep/c.txt"] },
]

describe("hashFiles", () => {
  it("finds real duplicates across a multi-iteration run, hashing only files whose size is shared", async () => {
    const definition = await load(hashFiles)
    const iterations = await runToEnd(definition, { folder, batchFiles: 2 })
    expect(iterations.map(({ result }) => result._tag)).toEqual(["Continue", "Continue", "Done"]) // 6 candidates, 2 per iteration
    expect(last(iterations)).toEqual({
      _tag: "Done",
      message: "Found 2 sets of identical files among 9 files",
      output: {
        folder,
        files: 9, // the symlink is not followed
        bytes: 5 * 4 + 2 * big.length + "no other file has this size".length,
        hashed: 6,
        skipped: 0,
        duplicates: expectedDuplicates(),
      },
    })
    const progress = iterations.flatMap((iteration) => iteration.progress)
    expect(progress.at(-1)).toEqual({ completed: 6, total: 6, message: "Hashed 6 of 6 files" })
    expect(iterations[0]!.logs[0]?.message).toBe("Found 9 files (200047 bytes); 6 share their size and will be hashed")
  })

  it("keeps the stored cursor compact: every candidate path at most once, unique sizes never", async () => {
    const definition = await load(hashFiles)
    const iterations = await runToEnd(definition, { folder, batchFiles: 1 })
    for (const { result } of iterations.slice(0, -1)) {
      if (result._tag !== "Continue") throw new Error("expected continue")
      const json = JSON.stringify(result.input)
      for (const path of ["a.txt", "sub/b.txt", "sub/deep/c.txt", "d.txt", "photos/e.bin"]) {
        expect(json.split(`"${path}"`).length - 1).toBeLessThanOrEqual(1)
      }
      expect(json).not.toContain("unique.txt")
      expect(json).not.toContain("empty-1")
    }
    // once the size-5 group is finished, the unique digest of d.txt is dropped
    const afterGroup = iterations.find(({ result }) => result._tag === "Continue" && !JSON.stringify(result.input).includes('"size":5,"paths"'))
    expect(afterGroup).toBeDefined()
    expect(JSON.stringify(afterGroup!.result)).not.toContain("d.txt")
  })

  it("uses the chosen algorithm", async () => {
    const definition = await load(hashFiles)
    const result = last(await runToEnd(definition, { folder, algorithm: "md5" }))
    expect(result._tag === "Done" && (result.output as { duplicates: unknown }).duplicates).toEqual(expectedDuplicates("md5"))
  })

  it("checkpoints when the iteration is close to its timeout, and resumes to the same answer", async () => {
    const definition = await load(hashFiles)
    // Every clock read costs 200 s: with a 900 s timeout and a 180 s margin, the 4th check is "close".
    const iterations = await runToEnd(definition, { folder }, { clock: makeClock(200_000) })
    expect(iterations.map(({ result }) => result._tag)).toEqual(["Continue", "Done"])
    expect(iterations[0]!.logs.at(-1)?.message).toBe("Checkpoint: 3 of 6 files done")
    const reference = last(await runToEnd(definition, { folder }))
    expect(last(iterations)).toEqual(reference)
  })

  it("answers aborted when the task is asked to stop", async () => {
    const definition = await load(hashFiles)
    const abort = new AbortController()
    const iterations = await runToEnd(definition, { folder, batchFiles: 1 }, {
      signal: abort.signal,
      beforeIteration: (index) => (index === 2 ? abort.abort() : undefined),
    })
    expect(iterations.map(({ result }) => result._tag)).toEqual(["Continue", "Continue", "Aborted"])
  })

  it("skips a candidate that vanished between iterations, with a warning", async () => {
    const definition = await load(hashFiles)
    const first = await runIteration(definition, { folder, batchFiles: 1 })
    if (first.result._tag !== "Continue") throw new Error("expected continue")
    unlinkSync(join(folder, "sub/deep/c.txt"))
    const rest = await runToEnd(definition, JSON.parse(JSON.stringify(first.result.input)))
    const done = last(rest)
    expect(done._tag === "Done" && done.output).toMatchObject({ hashed: 5, skipped: 1 })
    expect(done._tag === "Done" && (done.output as { duplicates: ReadonlyArray<{ paths: unknown }> }).duplicates[1]?.paths)
      .toEqual(["a.txt", "sub/b.txt"])
    expect(rest.flatMap((iteration) => iteration.logs).find((log) => log.level === "warn")?.message).toMatch(/^Skipped sub\/deep\/c\.txt: /)
  })

  it("fails with a structured error when the folder cannot be listed", async () => {
    const definition = await load(hashFiles)
    const missing = join(folder, "nope")
    const { result } = await runIteration(definition, { folder: missing })
    expect(result).toMatchObject({ _tag: "Error", error: { code: "FolderUnreadable", data: { folder: missing } } })
    expect(result._tag === "Error" && result.error.message).toMatch(/^Cannot list .*nope: ENOENT/)
  })
})
