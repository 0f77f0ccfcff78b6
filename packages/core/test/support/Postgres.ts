/**
 * A private PostgreSQL cluster for tests: Debian's server binaries
 * (`/usr/lib/postgresql/<major>/bin`), `initdb` into a fresh temp directory,
 * started by `pg_ctl` on a free loopback port with its unix socket inside
 * that directory, and stopped and deleted by `stop`. No mock database.
 *
 * fsync stays on: the store's durability is what the tests are about; the
 * rest of the settings are small (a test cluster, beside other processes).
 * PostgreSQL refuses to run as root, so as root the binaries run as the
 * `postgres` OS user (Debian's package creates it) and the directory is
 * chowned to it. Missing binaries fail loudly, naming the package: CI
 * installs it (.ci/run), so a silent skip would hide a broken setup.
 *
 * Lifecycle: `start()` once per test file (beforeAll), `createDatabase()`
 * for each test that wants an empty database, `restart()` to cut every
 * client off as a crash of the server would, `stop()` in afterAll.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"

const run = promisify(execFile)

/** A running private cluster. */
export interface Cluster {
  /** The server's loopback port. */
  readonly port: number
  /** A connection URL for a database of this cluster (user `postgres`, trust auth on loopback). */
  readonly url: (database: string) => string
  /** Creates an empty database and answers its URL. */
  readonly createDatabase: () => Promise<string>
  /** Runs one SQL statement with psql against a database (test assertions and fault injection). */
  readonly psql: (database: string, sql: string) => Promise<string>
  /**
   * Stops the server (`immediate`: like a crash, no checkpoint; clients are cut
   * off at once) and starts it again on the same port and directory, after
   * `downMs` if given. The data survives; crash recovery replays the WAL.
   */
  readonly restart: (options?: { readonly mode?: "smart" | "fast" | "immediate"; readonly downMs?: number }) => Promise<void>
  /** What the server logged so far (with `log_statement` set on a database: its statements). */
  readonly log: () => string
  /** Stops the server and deletes its directory. */
  readonly stop: () => Promise<void>
}

/** The server binaries: PostgreSQL 15 preferred, else the newest installed major version. */
export const findBinaries = (): string => {
  const root = "/usr/lib/postgresql"
  const majors = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb"))) : []
  if (majors.length === 0) {
    throw new Error(
      "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb): install Debian's `postgresql` package " +
        "(apt-get install --no-install-recommends postgresql); .ci/run does this on CI",
    )
  }
  const major = majors.includes("15") ? "15" : majors.sort((a, b) => Number(b) - Number(a))[0]!
  return path.join(root, major, "bin")
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

const isRoot = process.getuid?.() === 0

/** Runs a server binary, as the `postgres` user when we are root. */
const runAs = async (binary: string, args: ReadonlyArray<string>) => {
  const [file, argv] = isRoot ? ["runuser", ["-u", "postgres", "--", binary, ...args]] : [binary, [...args]]
  try {
    return (await run(file, argv, { maxBuffer: 16 * 1024 * 1024 })).stdout
  } catch (cause) {
    const error = cause as { readonly stderr?: string; readonly message: string }
    throw new Error(`${path.basename(binary)} failed: ${error.stderr?.trim() || error.message}`)
  }
}

const settings = [
  "listen_addresses=127.0.0.1",
  "fsync=on",
  "synchronous_commit=on",
  "max_connections=60",
  "shared_buffers=32MB",
  "max_wal_size=256MB",
  "wal_level=minimal",
  "max_wal_senders=0",
  "log_min_messages=warning",
]

let databases = 0

/** initdb + pg_ctl start in a fresh temp directory. */
export const start = async (): Promise<Cluster> => {
  const bin = findBinaries()
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "tasklane-pg-"))
  const data = path.join(directory, "data")
  if (isRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]).catch(() => {
      throw new Error("running as root, but there is no `postgres` OS user to run PostgreSQL as (Debian's `postgresql` package creates it)")
    })
    const uid = Number(stdout.trim())
    const { stdout: gid } = await run("id", ["-g", "postgres"])
    fs.chownSync(directory, uid, Number(gid.trim()))
  }
  const port = await freePort()
  const stop = async () => {
    await runAs(path.join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "immediate", "-w"]).catch(() => undefined)
    fs.rmSync(directory, { recursive: true, force: true })
  }
  const options = ["-p", String(port), "-k", directory, ...settings.flatMap((s) => ["-c", s])].join(" ")
  const startServer = () =>
    runAs(path.join(bin, "pg_ctl"), ["start", "-D", data, "-w", "-t", "60", "-l", path.join(directory, "server.log"), "-o", options])
  try {
    // --no-sync: the cluster's initial files need no fsync (a test cluster is thrown away); the server runs with fsync on.
    await runAs(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
    await startServer()
  } catch (cause) {
    const log = fs.existsSync(path.join(directory, "server.log")) ? fs.readFileSync(path.join(directory, "server.log"), "utf8") : ""
    await stop()
    throw new Error(`${(cause as Error).message}${log ? `\nserver log:\n${log}` : ""}`)
  }
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`
  const psql = (database: string, sql: string) =>
    runAs(path.join(bin, "psql"), ["-h", directory, "-p", String(port), "-U", "postgres", "-d", database, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
  return {
    port,
    url,
    psql,
    restart: async ({ mode = "fast", downMs = 0 } = {}) => {
      await runAs(path.join(bin, "pg_ctl"), ["stop", "-D", data, "-m", mode, "-w"])
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs))
      await startServer()
    },
    createDatabase: async () => {
      const name = `t${process.pid}_${++databases}`
      await psql("postgres", `CREATE DATABASE ${name}`)
      return url(name)
    },
    log: () => fs.readFileSync(path.join(directory, "server.log"), "utf8"),
    stop,
  }
}
