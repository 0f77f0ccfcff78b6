/**
 * One daemon for a whole test file: registers vitest's beforeAll (a fresh
 * data dir, a daemon started on it, a connection to it) and afterAll (the
 * connection closed, the daemon stopped, the dir removed). `set` hands them
 * to the file's own bindings:
 *
 * ```ts
 * let c: Connection
 * let dir: string
 * daemonForFile((file) => ({ c, dir } = file))
 * ```
 *
 * A file's own beforeAll runs after this one, and its afterAll before it.
 */
import type { Connection } from "@tasklane/daemon/client"
import { afterAll, beforeAll } from "vitest"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "./DaemonProcess.ts"
import { connectTo } from "./TaskPolling.ts"

/** The file's daemon, its data dir and a connection to it. */
export interface FileDaemon {
  readonly daemon: DaemonProcess
  readonly c: Connection
  readonly dir: string
}

export const daemonForFile = (set: (file: FileDaemon) => void): void => {
  let dir: string | undefined
  let daemon: DaemonProcess | undefined
  let c: Connection | undefined
  beforeAll(async () => {
    dir = tempDataDir()
    daemon = await startDaemon({ dataDir: dir })
    c = await connectTo(daemon)
    set({ daemon, c, dir })
  })
  afterAll(async () => {
    await c?.close()
    await daemon?.stop()
    if (dir !== undefined) removeDataDir(dir)
  })
}
