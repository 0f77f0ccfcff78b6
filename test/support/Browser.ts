/**
 * The one place that decides which Chromium drives the UI tests, the UI
 * measurement scripts (test/ui/measure*.ts) and the bench's PNG chart, and
 * launches it headless.
 *
 * Lookup (`TASKLANE_BROWSER` unset or `auto`):
 *   1. `$CHROMIUM_PATH` (an error if it names no file: it was asked for);
 *   2. a system Chromium (`/usr/bin/chromium`, `/usr/bin/chromium-browser`);
 *   3. the packaged one: `@sparticuz/chromium`, a dependency of this package,
 *      ships a Linux x64 Chromium inside its npm package, so `pnpm install`
 *      brings a browser. `TASKLANE_BROWSER=system` or `=packaged` forces one.
 *
 * The packaged browser is stored compressed (`bin/chromium.br`, Brotli; the
 * NSS and expat libraries it links in `bin/al2023.tar.br`, fonts in
 * `bin/fonts.tar.br`). The first lookup unpacks those three into
 * `node_modules/.cache/tasklane-chromium/<version>/` (about 190 MB, a few
 * seconds), into a staging folder renamed into place, so concurrent test
 * files neither see half a binary nor unpack twice for good. The package's
 * own `executablePath()` is not used: it unpacks into the shared `os.tmpdir()`
 * (`/tmp/chromium`, swiftshader libraries loose in `/tmp`) and returns a
 * binary another process may still be writing. The browser then runs with
 * `LD_LIBRARY_PATH` at the packaged libraries (so a machine without libnss3
 * runs it) and a fontconfig file that adds the packaged fonts to the
 * system's, if any. Only Linux x64: elsewhere the lookup says to install
 * Chromium or set `CHROMIUM_PATH`.
 */
import { execFileSync } from "node:child_process"
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { basename, dirname, join, normalize } from "node:path"
import { pipeline } from "node:stream/promises"
import { fileURLToPath } from "node:url"
import { brotliDecompressSync, createBrotliDecompress } from "node:zlib"
import { Schema } from "effect"
import { type Browser, chromium, type LaunchOptions } from "playwright-core"

const root = join(import.meta.dirname, "..", "..")

/** Where a Chromium came from. */
export type Source = "CHROMIUM_PATH" | "system" | "packaged"

/** A Chromium to run: its binary and the environment it needs on top of the process's. */
export interface Found {
  readonly source: Source
  readonly executablePath: string
  readonly env: Readonly<Record<string, string>>
}

/** No usable Chromium: `tried` says what was looked at and why each was not used. */
export class BrowserNotFound extends Schema.TaggedError<BrowserNotFound>()("BrowserNotFound", {
  tried: Schema.Array(Schema.String),
}) {
  override get message() {
    return `no Chromium to run: ${this.tried.join("; ")}. Set CHROMIUM_PATH to a Chromium binary, or install one (Debian: apt-get install chromium)`
  }
}

/** The packaged browser could not be unpacked. */
export class BrowserUnpackError extends Schema.TaggedError<BrowserUnpackError>()("BrowserUnpackError", {
  directory: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `cannot unpack the packaged Chromium into ${this.directory}: ${this.reason}`
  }
}

/** The flags every headless launch gets: quiet, offline and sandbox-free (containers run as root). */
export const headlessArgs: ReadonlyArray<string> = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run",
]

/** System locations looked at, in order. */
export const systemCandidates: ReadonlyArray<string> = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]

const packagedRoot = (): string => {
  // The package exports only its entry (…/build/esm/index.js, next to a package.json of its own).
  let dir = dirname(fileURLToPath(import.meta.resolve("@sparticuz/chromium")))
  while (!existsSync(join(dir, "bin", "chromium.br"))) {
    if (dirname(dir) === dir) throw new Error("@sparticuz/chromium has no bin/chromium.br")
    dir = dirname(dir)
  }
  return dir
}

/** Unpacks a ustar archive (regular files and folders only) under `target`. */
const untar = (archive: Buffer, target: string): void => {
  for (let offset = 0; offset + 512 <= archive.length;) {
    const field = (start: number, length: number) => archive.toString("utf8", offset + start, offset + start + length).replace(/\0.*$/s, "")
    const name = field(0, 100)
    if (name === "") break
    const size = parseInt(field(124, 12).trim() || "0", 8)
    const type = field(156, 1) || "0"
    const path = normalize(join(field(345, 155), name))
    if (path.startsWith("..") || path.startsWith("/")) throw new Error(`unsafe path in archive: ${path}`)
    const data = offset + 512
    if (type === "5") mkdirSync(join(target, path), { recursive: true })
    else if (type === "0") {
      mkdirSync(dirname(join(target, path)), { recursive: true })
      writeFileSync(join(target, path), archive.subarray(data, data + size), { mode: parseInt(field(100, 8).trim() || "644", 8) })
    } else throw new Error(`unsupported entry type ${JSON.stringify(type)} for ${path}`)
    offset = data + Math.ceil(size / 512) * 512
  }
}

const fontsConf = (fontDir: string, cacheDir: string) =>
  `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<!-- Written by test/support/Browser.ts: the system's fonts (if any) and the packaged ones. -->
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>${fontDir}</dir>
  <cachedir>${cacheDir}</cachedir>
</fontconfig>
`

/** The folder the packaged browser of this installation is (or will be) unpacked into. */
export const packagedDirectory = (): string => {
  const { version } = JSON.parse(readFileSync(join(packagedRoot(), "package.json"), "utf8")) as { version: string }
  return join(root, "node_modules", ".cache", "tasklane-chromium", version)
}

/** Removes staging folders of unpackings whose process died (killed mid-way): 190 MB each. */
const removeAbandoned = (directory: string): void => {
  for (const name of readdirSync(dirname(directory))) {
    const pid = Number(/\.partial-(\d+)-/.exec(name)?.[1])
    if (!name.startsWith(`${basename(directory)}.partial-`) || pid === process.pid) continue
    try {
      process.kill(pid, 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") rmSync(join(dirname(directory), name), { recursive: true, force: true })
    }
  }
}

/**
 * Unpacks the packaged browser unless it already is (then it returns at
 * once); says on stderr how long the first unpacking took. Returns its folder.
 */
export const unpackPackaged = async (): Promise<string> => {
  const directory = packagedDirectory()
  if (existsSync(join(directory, "chromium"))) return directory
  const bin = join(packagedRoot(), "bin")
  const staging = `${directory}.partial-${process.pid}-${Date.now()}`
  const started = performance.now()
  try {
    mkdirSync(staging, { recursive: true })
    await pipeline(createReadStream(join(bin, "chromium.br")), createBrotliDecompress(), createWriteStream(join(staging, "chromium"), { mode: 0o755 }))
    untar(brotliDecompressSync(readFileSync(join(bin, "al2023.tar.br"))), join(staging, "al2023"))
    untar(brotliDecompressSync(readFileSync(join(bin, "fonts.tar.br"))), staging)
    writeFileSync(join(staging, "fonts.conf"), fontsConf(join(directory, "fonts"), join(directory, "fonts-cache")))
  } catch (error) {
    rmSync(staging, { recursive: true, force: true })
    throw new BrowserUnpackError({ directory, reason: error instanceof Error ? error.message : String(error) })
  }
  removeAbandoned(directory)
  try {
    renameSync(staging, directory)
    process.stderr.write(`unpacked the packaged Chromium into ${directory} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
  } catch {
    // Another process unpacked it first (the rename found a non-empty folder): use theirs.
    rmSync(staging, { recursive: true, force: true })
    if (!existsSync(join(directory, "chromium"))) throw new BrowserUnpackError({ directory, reason: "the unpacked folder vanished" })
  }
  return directory
}

const packaged = async (): Promise<Found> => {
  const directory = await unpackPackaged()
  return {
    source: "packaged",
    executablePath: join(directory, "chromium"),
    env: { LD_LIBRARY_PATH: join(directory, "al2023", "lib"), FONTCONFIG_FILE: join(directory, "fonts.conf") },
  }
}

const packagedUnavailable = (): string | undefined => {
  if (process.platform !== "linux" || process.arch !== "x64") return `the packaged Chromium is Linux x64 only (this is ${process.platform} ${process.arch})`
  try {
    packagedRoot()
    return undefined
  } catch {
    return "the packaged Chromium (@sparticuz/chromium) is not installed: run pnpm install"
  }
}

/** What to look at; defaults are the process's environment and {@link systemCandidates}. */
export interface FindOptions {
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  readonly systemCandidates?: ReadonlyArray<string> | undefined
}

/** Finds the Chromium to run (see the module comment for the order); unpacks the packaged one if it is chosen. */
export const find = async (options: FindOptions = {}): Promise<Found> => {
  const env = options.env ?? process.env
  const mode = env["TASKLANE_BROWSER"] || "auto"
  if (mode !== "auto" && mode !== "system" && mode !== "packaged") {
    throw new BrowserNotFound({ tried: [`TASKLANE_BROWSER must be auto, system or packaged, not ${JSON.stringify(mode)}`] })
  }
  const tried: Array<string> = []
  const fromEnv = env["CHROMIUM_PATH"]
  if (mode === "auto" && fromEnv) {
    if (existsSync(fromEnv)) return { source: "CHROMIUM_PATH", executablePath: fromEnv, env: {} }
    throw new BrowserNotFound({ tried: [`CHROMIUM_PATH is ${fromEnv}, which does not exist`] })
  }
  if (mode !== "packaged") {
    const system = (options.systemCandidates ?? systemCandidates).find((path) => existsSync(path))
    if (system !== undefined) return { source: "system", executablePath: system, env: {} }
    tried.push(`no system Chromium at ${(options.systemCandidates ?? systemCandidates).join(" or ")}`)
  }
  if (mode !== "system") {
    const unavailable = packagedUnavailable()
    if (unavailable === undefined) return packaged()
    tried.push(unavailable)
  }
  throw new BrowserNotFound({ tried })
}

/** The environment to start `found` with: this process's plus what it needs. */
export const processEnv = (found: Found): Record<string, string> => ({
  ...Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined)),
  ...found.env,
})

/** Where the browser came from, its version and path (`packaged Chromium 143.0.7499.0 at …`): for logs and reports. */
export const describe = (found: Found): string => {
  let version = ""
  try {
    version = ` ${execFileSync(found.executablePath, ["--version"], { env: processEnv(found), encoding: "utf8" }).trim()}`
  } catch {
    // Only for the description.
  }
  return `${found.source}${version} at ${found.executablePath}`
}

/** Launches the found (or given) Chromium headless through playwright-core with {@link headlessArgs}. */
export const launch = async (options: Omit<LaunchOptions, "executablePath" | "env"> & { readonly found?: Found } = {}): Promise<Browser> => {
  const { found: given, args = [], ...rest } = options
  const found = given ?? await find()
  return chromium.launch({
    ...rest,
    executablePath: found.executablePath,
    env: processEnv(found),
    args: [...headlessArgs, ...args],
  })
}
