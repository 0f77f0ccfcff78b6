#!/usr/bin/env node
// `pnpm start`: run Tasklane from a checkout. With an Electron binary (and,
// on Linux, a display) it opens the desktop app, which starts a background
// daemon itself. Without one it says so in one line and runs the daemon in
// the foreground in web mode (`tasklane daemon --http 127.0.0.1:PORT`), so the
// same UI opens in a browser; Ctrl-C stops it gracefully. It builds nothing:
// `pnpm install` builds the daemon, `pnpm --filter @tasklane/desktop build`
// the app (out/main, out/preload, out/renderer).
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { parseArgs } from "node:util"

const desktopDir = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const repoDir = resolve(desktopDir, "..", "..")
const daemonBin = join(repoDir, "apps", "daemon", "bin", "tasklane.mjs")
const pnpm = "npx -y pnpm@12.4.2"

const usage = `Usage: pnpm start [-- options]   (or: node apps/desktop/bin/start.mjs [options])

Opens the Tasklane desktop app; it starts a background daemon if none runs.
Where Electron is not available (no binary, or no display), runs the daemon in
the foreground in web mode instead and prints the URL of the same UI for your
browser (\`web UI: http://127.0.0.1:PORT/?token=…\`); Ctrl-C stops it.

Options:
  --data-dir DIR   data directory (default: $TASKLANE_HOME, else $XDG_DATA_HOME/tasklane,
                   else ~/.local/share/tasklane)
  --port N         web mode's port on 127.0.0.1 (default 4817; 0: a free port)
  --browser        use web mode even where Electron is available
  -h, --help       show this help

Environment: ELECTRON_EXEC_PATH overrides the Electron binary's location.
Nothing is built here: run \`${pnpm} install\` (daemon) and
\`${pnpm} --filter @tasklane/desktop build\` (app and web UI) first.
`

const fail = (message) => {
  console.error(`tasklane: ${message}`)
  process.exit(2)
}

let values
try {
  // `pnpm start -- --port 0` passes the "--" through.
  const args = process.argv.slice(2)
  ;({ values } = parseArgs({
    args: args[0] === "--" ? args.slice(1) : args,
    options: {
      "data-dir": { type: "string" },
      port: { type: "string" },
      browser: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  }))
} catch (error) {
  fail(`${error.message}\n\n${usage}`)
}
if (values.help) {
  process.stdout.write(usage)
  process.exit(0)
}
const port = values.port ?? "4817"
if (!/^\d+$/.test(port) || Number(port) > 65535) fail(`--port must be a number from 0 to 65535, got "${port}"`)

// Where the data directory is and whether a daemon serves it: the daemon
// package's Launcher, shared with the CLI and the desktop app. Plain Node runs
// this file, so it loads Launcher's build (made with the daemon's).
const launcherBundle = join(repoDir, "apps", "daemon", "dist", "launcher.mjs")
if (!existsSync(launcherBundle)) {
  fail(`the daemon is not built; run \`${pnpm} install\` (or \`${pnpm} --filter @tasklane/daemon build\`)`)
}
const Launcher = await import(pathToFileURL(launcherBundle).href)
const dataDir = Launcher.resolveDataDir({ dataDir: values["data-dir"] })
const files = Launcher.paths(dataDir)

/** The Electron binary, or why there is none; never triggers electron's download. */
const electronBinary = () => {
  if (process.env.ELECTRON_EXEC_PATH) {
    const path = process.env.ELECTRON_EXEC_PATH
    return existsSync(path) ? { path } : { reason: `no Electron binary at ${path} (ELECTRON_EXEC_PATH)` }
  }
  const electronDir = join(desktopDir, "node_modules", "electron")
  const pathFile = join(electronDir, "path.txt")
  if (!existsSync(pathFile)) return { reason: `no Electron binary: ${pathFile} is missing, its download did not happen` }
  const path = join(electronDir, "dist", readFileSync(pathFile, "utf8").trim())
  if (!existsSync(path)) return { reason: `no Electron binary at ${path}` }
  if (process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: "no display: DISPLAY and WAYLAND_DISPLAY are unset" }
  }
  return { path }
}

const built = (file) => existsSync(join(desktopDir, "out", file))
const needBuild = (what) =>
  fail(`${what} is not built (apps/desktop/out is missing it); build it with:\n  ${pnpm} --filter @tasklane/desktop build`)

/** Forward SIGINT/SIGTERM to the child once; a second Ctrl-C kills it. */
const supervise = (child, label) => {
  let stopping = false
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      if (!stopping) {
        stopping = true
        if (signal === "SIGINT") console.error(`\nstopping ${label}… (Ctrl-C again to force)`)
        child.kill(signal === "SIGHUP" ? "SIGTERM" : signal)
      } else {
        child.kill("SIGKILL")
      }
    })
  }
  child.on("error", (error) => fail(`cannot run ${label}: ${error.message}`))
  child.on("exit", (code, signal) => process.exit(code ?? (signal === "SIGINT" || signal === "SIGTERM" ? 0 : 1)))
}

/** The live pid in daemon.pid, if it can be read. */
const livePid = () => {
  try {
    return Launcher.readPid(files.pidFile)
  } catch {
    return undefined
  }
}

const electron = values.browser ? { reason: "--browser" } : electronBinary()

if (electron.path !== undefined) {
  if (!built("main/index.js") || !built("preload/index.cjs") || !built("renderer/index.html")) needBuild("The desktop app")
  const env = { ...process.env, TASKLANE_HOME: dataDir }
  delete env.ELECTRON_RUN_AS_NODE
  supervise(spawn(electron.path, [desktopDir], { stdio: "inherit", env }), "Electron")
} else {
  console.log(
    values.browser
      ? "Serving the Tasklane UI in your browser (--browser)."
      : `Electron is not available on this machine (${electron.reason}); serving the Tasklane UI in your browser instead.`,
  )
  if (!built("renderer/index.html")) needBuild("The web UI")
  if (!existsSync(join(repoDir, "apps", "daemon", "dist", "tasklane.mjs"))) {
    fail(`the daemon is not built; run \`${pnpm} install\` (or \`${pnpm} --filter @tasklane/daemon build\`)`)
  }
  if (await Launcher.answers(files.socket, 1000)) {
    const pid = livePid()
    const url = Launcher.readWebUrl(files)
    console.log(`A Tasklane daemon is already running for ${dataDir}${pid ? ` (pid ${pid})` : ""}.`)
    if (url !== undefined) {
      console.log(`web UI: ${url}`)
      process.exit(0)
    }
    console.log("It does not serve the web UI. Stop it and run this again:")
    console.log(`  node ${daemonBin} daemon stop --data-dir ${dataDir}`)
    process.exit(1)
  }
  const args = [daemonBin, "daemon", "--data-dir", dataDir, "--http", `127.0.0.1:${port}`]
  // Its own process group: Ctrl-C reaches only us, and we forward it once (a graceful stop).
  supervise(spawn(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"], detached: true }), "the daemon")
}
