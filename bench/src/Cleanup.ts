/**
 * Cleanup: one process-wide list of things to undo (stop redis-server, kill
 * the daemon and the BullMQ worker, remove temp dirs), run once in reverse
 * order on normal exit, on error, and on SIGINT/SIGTERM, so an interrupted
 * `pnpm bench` leaves no server running and no temp dir behind.
 */
type Undo = () => Promise<void> | void

const undos: Array<{ readonly name: string; readonly undo: Undo }> = []
let installed = false

/** Registers `undo`; returns a function that runs it now and unregisters it. */
export const register = (name: string, undo: Undo): (() => Promise<void>) => {
  installSignalHandlers()
  const entry = { name, undo }
  undos.push(entry)
  return async () => {
    const i = undos.indexOf(entry)
    if (i < 0) return
    undos.splice(i, 1)
    await undo()
  }
}

/** Runs every registered undo, newest first; errors are printed, not thrown. */
export const runAll = async (): Promise<void> => {
  while (undos.length > 0) {
    const { name, undo } = undos.pop()!
    try {
      await undo()
    } catch (error) {
      console.error(`cleanup ${name} failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
}

const installSignalHandlers = () => {
  if (installed) return
  installed = true
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping servers and removing temp dirs...`)
      void runAll().finally(() => process.exit(130))
    })
  }
}
