/**
 * DaemonFlags: the one table behind the foreground daemon's parser and
 * `--help` (main.ts) and `tasklane daemon start`'s flags and pass-through
 * (cli/CommandsDaemon.ts). What `daemon start` passes on, the daemon parses
 * to the same settings.
 */
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import * as DaemonFlags from "../src/DaemonFlags.ts"
import { parseOptions } from "../src/main.ts"

describe("DaemonFlags", () => {
  it("refuses an empty --node-id", () => {
    expect(() => parseOptions(["--node-id", ""])).toThrow('--node-id must be a non-empty name on one line, got ""')
    expect(() => parseOptions(["--node-id", "a\nb"])).toThrow("--node-id must be a non-empty name on one line")
  })

  it("passes every daemon start flag through to arguments the daemon parses to the same settings", () => {
    const args = DaemonFlags.startArgs({
      store: "postgres://tasklane:pw@db:5432/tasks",
      "node-id": "node-7",
      lease: 6,
      config: "conf/tasklane.config.ts",
      tasks: ["tasks-a", "/abs/tasks-b"],
      concurrency: 3,
      isolation: "inline",
      "worker-memory": 256,
      "no-examples": true,
      "abort-grace": 2.5,
      "shutdown-grace": 4,
      http: "127.0.0.1:0",
      "http-ui": "ui",
      metrics: "9464",
      "otlp-endpoint": "http://127.0.0.1:4318",
      "accept-store-damage": true,
    }, "/work")
    // Every start flag is in there, each once (--tasks once per folder).
    for (const row of DaemonFlags.startRows) expect(args.filter((arg) => arg === `--${row.name}`).length, row.name).toBe(row.name === "tasks" ? 2 : 1)
    const options = parseOptions(["--data-dir", "/data", ...args])
    if (options === "help") throw new Error("parsed as --help")
    expect(options).toMatchObject({
      dataDir: "/data",
      store: { _tag: "postgres", url: "postgres://tasklane:pw@db:5432/tasks" },
      nodeId: "node-7",
      leaseSeconds: 6,
      // The config path is passed as given: the daemon runs in the CLI's working directory.
      configPath: "conf/tasklane.config.ts",
      taskDirs: ["/work/tasks-a", "/abs/tasks-b"],
      concurrency: 3,
      isolation: "inline",
      workerMemoryMb: 256,
      examples: false,
      abortGraceSeconds: 2.5,
      shutdownGraceSeconds: 4,
      web: { uiDir: "/work/ui" },
      metrics: { port: 9464 },
      otlp: { endpoint: "http://127.0.0.1:4318" },
      acceptStoreDamage: true,
    })
  })

  it("passes nothing for flags not given", () => {
    expect(DaemonFlags.startArgs({ config: undefined, tasks: [], "no-examples": false, concurrency: undefined })).toEqual([])
    const options = parseOptions(["--data-dir", "/data"])
    if (options === "help") throw new Error("parsed as --help")
    expect(options).toMatchObject({ taskDirs: [], examples: true, acceptStoreDamage: false, web: undefined, metrics: undefined })
    // The one default the table holds as a number, and says in its help.
    expect(options.shutdownGraceSeconds).toBe(DaemonFlags.row("shutdown-grace").default)
    expect(DaemonFlags.row("shutdown-grace").help.join(" ")).toContain(`(default ${options.shutdownGraceSeconds})`)
  })

  it("makes path flags absolute against the working directory", () => {
    expect(DaemonFlags.startArgs({ "http-ui": "out/renderer" }, "/repo")).toEqual(["--http-ui", Path.join("/repo", "out/renderer")])
  })

  it("lists every flag in --help, each with its value's placeholder, and takes them strictly", () => {
    const help = DaemonFlags.optionsHelp()
    for (const row of DaemonFlags.rows) {
      const synopsis = `--${row.name}${"metavar" in row ? ` ${row.metavar}` : ""}`
      expect(help.split("\n").some((line) => line.startsWith(`  ${synopsis} `)), synopsis).toBe(true)
    }
    expect(help).toContain("-h, --help")
    expect(parseOptions(["-h"])).toBe("help")
    expect(() => parseOptions(["--bogus"])).toThrow(/bogus/)
    expect(() => parseOptions(["--concurrency", "0"])).toThrow("--concurrency must be a positive number")
    expect(() => parseOptions(["--isolation", "fork"])).toThrow("--isolation must be worker or inline")
  })
})
