/**
 * Every `tasklane` command shown in README.md and docs/ parses with the real
 * CLI, so the docs cannot drift from it:
 *
 * - Commands in code blocks (`tasklane …`, `npx -y pnpm@12.4.2 tasklane …`,
 *   `node …/apps/daemon/bin/tasklane.mjs …`) are run for real against an
 *   empty data directory, where a command that parsed either does its work
 *   without a daemon (`init`, `daemon stop`, `--help`), or fails to reach one
 *   (exit 3), or fails on a file an earlier command would have written (exit
 *   1, or 2 saying "cannot read"); bad usage is exit 2, which fails the test. `daemon start` runs against a directory a real daemon
 *   serves, so it parses and stops at "already running"; the foreground
 *   `daemon` gets `--help` appended (it checks its flags strictly first).
 * - Command synopses in inline code (`tasklane trigger <definitionId>
 *   [--input JSON] …`) must name a real command, and every flag they show
 *   must be in that command's `--help`.
 */
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bin, type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"

const root = join(import.meta.dirname, "..", "..")

const markdownFiles = (): ReadonlyArray<string> => {
  const walk = (dir: string): ReadonlyArray<string> =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.name === "node_modules" ? [] : entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith(".md") ? [join(dir, entry.name)] : []
    )
  return [join(root, "README.md"), ...walk(join(root, "docs"))]
}

/** Shell words of a command line: quotes removed, a trailing `# comment` dropped. */
const words = (line: string): Array<string> => {
  const out: Array<string> = []
  let current: string | undefined
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1)
      current = (current ?? "") + line.slice(i + 1, end)
      i = end
    } else if (/\s/.test(ch)) {
      if (current !== undefined) out.push(current)
      current = undefined
    } else if (ch === "#" && current === undefined) {
      break
    } else {
      current = (current ?? "") + ch
    }
  }
  if (current !== undefined) out.push(current)
  return out
}

const invocation = /^(?:tasklane|npx -y pnpm@12\.4\.2 tasklane)\s+(.+)$|(?:^|\s)\S*apps\/daemon\/bin\/tasklane\.mjs\s+(.+)$/

interface Shown {
  readonly where: string
  readonly args: ReadonlyArray<string>
}

/** Commands in fenced code blocks (TypeScript and output blocks aside). */
const blockCommands = (): ReadonlyArray<Shown> =>
  markdownFiles().flatMap((file) =>
    Array.from(readFileSync(file, "utf8").matchAll(/```(\w*)\n([\s\S]*?)```/g)).filter(([, language]) => language !== "ts" && language !== "text")
      .flatMap(([, , body]) => body!.split("\n"))
      .flatMap((line) => {
        const match = invocation.exec(line.replace(/^\$ /, "").trim())
        return match === null ? [] : [{ where: `${relative(root, file)}: ${line.trim()}`, args: words(match[1] ?? match[2]!) }]
      })
  )

/** Synopses in inline code: `tasklane …` with at least one word after it. */
const inlineSynopses = (): ReadonlyArray<{ readonly where: string; readonly path: ReadonlyArray<string>; readonly flags: ReadonlyArray<string> }> =>
  markdownFiles().flatMap((file) =>
    Array.from(readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "").matchAll(/`(tasklane [^`]+)`/g), ([, span]) => {
      const tokens = span!.split(/\s+/).slice(1)
      const firstNonWord = tokens.findIndex((token) => !/^[a-z][a-z-]*$/.test(token))
      const path = firstNonWord < 0 ? tokens : tokens.slice(0, firstNonWord)
      const flags = Array.from(span!.matchAll(/(?:^|[\s[|])(--?[a-z][a-z-]*)/g), (m) => m[1]!)
      return { where: `${relative(root, file)}: ${span}`, path, flags }
    })
  )

const run = (args: ReadonlyArray<string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) =>
    execFile(process.execPath, [bin, ...args], { cwd, timeout: 30_000, env: { ...process.env, NO_COLOR: "1" } }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr }))
  )

/** Runs `tasks` at most `limit` at a time. */
const pooled = async <A>(tasks: ReadonlyArray<() => Promise<A>>, limit = 4): Promise<Array<A>> => {
  const results: Array<A> = []
  let next = 0
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < tasks.length) {
      const index = next++
      results[index] = await tasks[index]!()
    }
  }))
  return results
}

let scratch: string
let empty: string
let servedDir: string
let served: DaemonProcess

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "tasklane-doc-commands-"))
  empty = tempDataDir()
  servedDir = tempDataDir()
  served = await startDaemon({ dataDir: servedDir })
})

afterAll(async () => {
  await served?.stop("SIGKILL")
  removeDataDir(empty)
  removeDataDir(servedDir)
  rmSync(scratch, { recursive: true, force: true })
})

describe("commands shown in README.md and docs/", () => {
  it("finds them (the docs show commands of every kind)", () => {
    const shown = blockCommands().map((command) => command.args[0])
    for (const command of ["daemon", "trigger", "ls", "show", "logs", "init", "rm", "export", "replay", "abort"]) expect(shown, command).toContain(command)
    expect(inlineSynopses().length).toBeGreaterThan(20)
  })

  it("tells bad usage apart here: an unknown flag is exit 2, the foreground daemon's too", async () => {
    expect((await run(["ls", "--bogus", "--data-dir", empty], scratch)).code).toBe(2)
    expect((await run(["daemon", "--bogus", "--help"], scratch)).code).not.toBe(0)
  })

  it("every command in a code block parses with the real CLI", async () => {
    const commands = blockCommands()
    const outcomes = await pooled(commands.map((command, index) => async () => {
      const cwd = join(scratch, String(index), "here")
      mkdirSync(cwd, { recursive: true })
      const [first, second] = command.args
      const foreground = first === "daemon" && !["start", "stop", "status"].includes(second ?? "")
      const args = foreground
        ? [...command.args, "--help"]
        : [...command.args, "--data-dir", first === "daemon" && second === "start" ? servedDir : empty]
      const result = await run(args, cwd)
      const expected = foreground || command.args.includes("--help") || first === "init" || (first === "daemon" && second !== "status") ? [0] : [1, 3]
      // Files the docs' earlier commands would have written (`export -o`, `init`) are missing here: parsed, then refused.
      const missingFile = result.code === 2 &&
        (result.stderr.startsWith("tasklane: cannot read ") || result.stderr.startsWith("tasklane: no *.test.ts files under "))
      return expected.includes(result.code) || missingFile ? undefined : `${command.where}\n  exit ${result.code}: ${(result.stderr || result.stdout).trim().split("\n").slice(0, 6).join("\n  ")}`
    }))
    expect(outcomes.filter((outcome) => outcome !== undefined)).toEqual([])
  }, 120_000)

  it("every synopsis in inline code names a real command, and its flags are in that command's --help", async () => {
    const synopses = inlineSynopses()
    const helps = new Map<string, Promise<{ code: number; stdout: string }>>()
    const help = (path: ReadonlyArray<string>) => {
      const key = path.join(" ")
      if (!helps.has(key)) helps.set(key, run([...path, "--help"], scratch))
      return helps.get(key)!
    }
    /** The help of the longest leading run of words that names a command (`trigger hello` is `trigger` with an argument). */
    const commandHelp = async (words: ReadonlyArray<string>) => {
      for (let length = words.length; length >= 0; length--) {
        const path = words.slice(0, length)
        const { code, stdout } = await help(path)
        const foreground = path.length === 1 && path[0] === "daemon"
        const named = foreground ? stdout.startsWith("Usage: tasklane daemon [options]") : stdout.includes(`USAGE\n  tasklane ${path.join(" ")}`.trimEnd())
        if (code === 0 && named) return { length, stdout }
      }
      return { length: 0, stdout: "" }
    }
    const problems = await pooled(synopses.map((synopsis) => async () => {
      const { length, stdout } = await commandHelp(synopsis.path)
      if (synopsis.path.length > 0 && length === 0) return `${synopsis.where}\n  no such command`
      const missing = synopsis.flags.filter((flag) => !new RegExp(`(^|[\\s,])${flag}([\\s,]|$)`, "m").test(stdout))
      return missing.length === 0 ? undefined : `${synopsis.where}\n  not in --help: ${missing.join(", ")}`
    }))
    expect(problems.filter((problem) => problem !== undefined)).toEqual([])
  }, 120_000)
})
