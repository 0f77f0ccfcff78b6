/**
 * Test support for driving a real daemon through the typed client: connect,
 * read a task's recorded events, and poll a task until it reaches a status
 * (or any condition holds) with short intervals and a bounded timeout.
 * A poll that times out fails with the last state and history it saw, so a
 * hanging test says where the task got stuck.
 */
import { type Replay, type TaskEvent, TaskRpc } from "@tasklane/core"
import type { Connection } from "@tasklane/daemon/client"
import { connect } from "@tasklane/daemon/client"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "./DaemonProcess.ts"

/** A client connection to a test daemon. */
export const connectTo = (daemon: DaemonProcess): Promise<Connection> => connect(daemon.socketPath, { connectTimeout: 5_000 })

/**
 * A data directory whose daemon a test stops and starts again: `open()` starts
 * one and connects; `close()` (for afterAll) closes every connection, kills
 * every daemon it started and removes the directory.
 */
export const restartable = (args?: ReadonlyArray<string>) => {
  const dataDir = tempDataDir()
  const daemons: Array<DaemonProcess> = []
  const connections: Array<Connection> = []
  return {
    dataDir,
    daemons,
    connections,
    open: async () => {
      const daemon = await startDaemon(args === undefined ? { dataDir } : { dataDir, args })
      daemons.push(daemon)
      const connection = await connectTo(daemon)
      connections.push(connection)
      return { daemon, c: connection }
    },
    close: async () => {
      for (const connection of connections) await connection.close().catch(() => undefined)
      for (const daemon of daemons) await daemon.stop("SIGKILL")
      removeDataDir(dataDir)
    },
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A task's recorded events, in stream order. */
export const history = (c: Connection, taskId: string): Promise<ReadonlyArray<TaskEvent.EventEnvelope>> =>
  c.call((client) => client.History({ taskId: taskId as never })).then(TaskRpc.parseHistory)

/** The types of a task's recorded events, in stream order. */
export const eventTypes = async (c: Connection, taskId: string): Promise<Array<string>> =>
  (await history(c, taskId)).map((event) => event.type)

/** The task's current state. */
export const getTask = (c: Connection, taskId: string): Promise<Replay.TaskState> =>
  c.call((client) => client.GetTask({ taskId: taskId as never }))

/** Polls `probe` every `intervalMs` until it returns a value other than undefined; fails after `timeoutMs`. */
export const poll = async <A>(
  probe: () => Promise<A | undefined>,
  options: { readonly timeoutMs?: number; readonly intervalMs?: number; readonly what?: () => Promise<string> | string } = {},
): Promise<A> => {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) {
      const what = options.what === undefined ? "" : `: ${await options.what()}`
      throw new Error(`condition not met within ${options.timeoutMs ?? 10_000} ms${what}`)
    }
    await sleep(options.intervalMs ?? 25)
  }
}

const describeTask = (c: Connection, taskId: string) => async () => {
  const state = await getTask(c, taskId).catch((e) => ({ status: `unreadable (${String(e)})` }))
  const types = await eventTypes(c, taskId).catch(() => [])
  return `task ${taskId} is ${state.status}; history: ${types.join(", ")}`
}

/**
 * Waits until the task is in `status` (one of several, or any final status for
 * "final"); hook bookkeeping included when `settled` (no hook pending).
 */
export const waitFor = (
  c: Connection,
  taskId: string,
  status: Replay.TaskState["status"] | ReadonlyArray<Replay.TaskState["status"]> | "final",
  options: { readonly timeoutMs?: number; readonly settled?: boolean } = {},
): Promise<Replay.TaskState> => {
  const wanted: ReadonlyArray<string> = status === "final"
    ? ["done", "error", "aborted", "maxIterations"]
    : typeof status === "string" ? [status] : status
  return poll(
    async () => {
      const state = await getTask(c, taskId)
      if (!wanted.includes(state.status)) return undefined
      if (options.settled === true && state.context.pendingHook !== undefined) return undefined
      return state
    },
    { timeoutMs: options.timeoutMs ?? 10_000, what: describeTask(c, taskId) },
  )
}

/** The rejection of `promise` (fails the test if it resolves). */
export const rejection = async (promise: Promise<unknown>): Promise<any> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected a rejection, but the call succeeded")
}
