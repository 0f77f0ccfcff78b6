// Builds the desktop app with electron-vite: out/main, out/preload and
// out/renderer (the UI that Electron loads and that the daemon's web mode
// serves to browsers). Needs no Electron binary. Run by `pnpm install`
// (postinstall) and by the test suite's global setup.
import { execFileSync } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const cli = join(dirname(createRequire(import.meta.url).resolve("electron-vite/package.json")), "bin", "electron-vite.js")
execFileSync(process.execPath, [cli, "build", "--logLevel", "warn"], { cwd: here, stdio: "inherit" })
