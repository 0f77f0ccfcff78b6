/**
 * Redis: a private redis-server for the BullMQ side of the comparison.
 *
 * Finds `redis-server` (installing Debian's `redis-server` package with
 * apt-get if it is missing, saying so), starts it in the foreground on
 * 127.0.0.1 and a free port with a fresh temp dir as its working dir, waits
 * for PING, and stops it (SHUTDOWN NOSAVE, then SIGKILL if needed) and
 * removes the dir afterwards, also on error or SIGINT (see Cleanup.ts).
 *
 * Persistence: by default it loads Debian's shipped /etc/redis/redis.conf
 * (appendonly no, appendfsync everysec, RDB snapshots at Redis's default
 * `save 3600 1 300 100 60 10000`) and only overrides where it runs (port,
 * bind, dir, no daemonize, log to stdout). `fsync: true` adds
 * `appendonly yes appendfsync always` for a durable comparison. The settings
 * actually in force are read back with CONFIG GET and reported.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Redis as IORedis } from "ioredis"
import * as Cleanup from "./Cleanup.ts"
import { sleep } from "./Measure.ts"

const debianConf = "/etc/redis/redis.conf"

/** The path of redis-server, installing Debian's package if it is missing. */
export const ensureInstalled = (): string => {
  const found = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).stdout.trim()
  if (found !== "") return found
  console.error("redis-server not found: installing Debian's redis-server package (apt-get update && apt-get install -y redis-server)...")
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"]
  const run = (args: Array<string>) => execFileSync(sudo[0] ?? args[0]!, sudo.length > 0 ? args : args.slice(1), { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })
  run(["apt-get", "update"])
  run(["apt-get", "install", "-y", "--no-install-recommends", "redis-server"])
  // The package's service does not start without systemd; if it did, stop it: we run our own.
  spawnSync("sh", ["-c", "service redis-server stop >/dev/null 2>&1 || true"])
  const path = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).stdout.trim()
  if (path === "") throw new Error("apt-get install redis-server did not provide redis-server")
  console.error(`installed ${path}`)
  return path
}

/** A free TCP port on 127.0.0.1. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))))
    })
  })

/** A running private redis-server. */
export interface RedisServer {
  readonly port: number
  readonly pid: number
  readonly version: string
  /** Persistence settings in force (CONFIG GET), plus which config file was loaded. */
  readonly persistence: Record<string, string>
  readonly stop: () => Promise<void>
}

/** Starts redis-server; `fsync` turns on appendonly with appendfsync always. */
export const start = async (options: { readonly fsync: boolean }): Promise<RedisServer> => {
  const binary = ensureInstalled()
  const dir = mkdtempSync(join(tmpdir(), "tasklane-bench-redis-"))
  const port = await freePort()
  const conf = existsSync(debianConf) ? [debianConf] : []
  const args = [
    ...conf,
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir,
    "--daemonize", "no", "--supervised", "no", "--pidfile", join(dir, "redis.pid"), "--logfile", "",
    ...(options.fsync ? ["--appendonly", "yes", "--appendfsync", "always"] : []),
  ]
  console.error(`starting ${binary} on 127.0.0.1:${port} (dir ${dir}${conf.length > 0 ? `, config ${debianConf} as shipped` : ", built-in defaults"}${options.fsync ? ", appendonly yes appendfsync always" : ""})`)
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  child.stderr!.on("data", (chunk) => (stderr += chunk))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const stop = Cleanup.register(`redis-server :${port}`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const client = new IORedis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
      client.on("error", () => undefined)
      try {
        await client.connect()
        await client.call("SHUTDOWN", "NOSAVE").catch(() => undefined)
      } catch {
        child.kill("SIGTERM")
      }
      client.disconnect()
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000)
      await exited
      clearTimeout(killer)
    }
    rmSync(dir, { recursive: true, force: true })
  })
  const client = new IORedis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on("error", () => undefined) // connection refused while redis-server starts: retried below
  try {
    for (let attempt = 0; ; attempt++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${stderr}`)
      try {
        if (client.status !== "ready") await client.connect()
        if ((await client.ping()) === "PONG") break
      } catch (error) {
        if (attempt > 100) throw error
        client.disconnect()
        await sleep(50)
      }
    }
    const get = async (key: string) => ((await client.config("GET", key)) as Array<string>)[1] ?? ""
    const persistence: Record<string, string> = {
      config: conf[0] ?? "(built-in defaults)",
      appendonly: await get("appendonly"),
      appendfsync: await get("appendfsync"),
      save: await get("save"),
    }
    const info = await client.info("server")
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "?"
    return { port, pid: child.pid!, version, persistence, stop }
  } catch (error) {
    await stop()
    throw error
  } finally {
    client.disconnect()
  }
}
