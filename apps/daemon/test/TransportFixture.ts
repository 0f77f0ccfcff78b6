/**
 * Shared fixture for the transport tests: a real server on a real unix socket
 * in a fresh temp dir, serving `TaskRpcs` with small in-test handlers.
 *
 * The handlers are fakes on purpose: these tests are about the socket, the
 * framing and the RPC plumbing, not about tasks (RpcHandlers.ts and the
 * daemon's integration tests cover the real ones). Info answers fixed data,
 * GetTask fails with UnknownTask, Logs streams three lines (with `follow`,
 * a fourth once `release` is completed), Definitions dies.
 */
import { TaskRpc } from "@tasklane/core"
import { Deferred, Effect, Layer, Scope, Stream } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as DataDir from "../src/DataDir.ts"
import * as Server from "../src/Server.ts"

/** A fresh data dir under the OS temp dir (short: unix socket paths must stay under 104 bytes). */
export const makeTempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "tl-"))),
  (directory) => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true })),
)

/** The fixed answer of the fake Info handler. */
export const info = (dataDir: string) =>
  new TaskRpc.DaemonInfo({
    version: "0.0.0-test",
    pid: process.pid,
    dataDir,
    startedAt: 1_700_000_000_000,
    head: 42,
    concurrency: 2,
    running: 0,
    queued: 1,
    counts: { done: 3 },
  })

const line = (taskId: string, version: number) =>
  new TaskRpc.LogLine({ taskId: taskId as never, version, at: 1_700_000_000_000 + version, level: "info", message: `line ${version}` })

const unsupported = () => Effect.fail(new TaskRpc.DaemonError({ reason: "not served by the transport fixture" }))

/** In-test handlers for `TaskRpcs` (see the module comment). */
export const handlers = (dataDir: string, release: Deferred.Deferred<void>) =>
  TaskRpc.TaskRpcs.toLayer({
    Definitions: () => Effect.die(new Error("handler bug (deliberate)")),
    Trigger: unsupported,
    TriggerMany: unsupported,
    ValidateInput: ({ definitionId }) => Effect.fail(new TaskRpc.UnknownDefinition({ definitionId })),
    Abort: unsupported,
    GetTask: ({ taskId }) => Effect.fail(new TaskRpc.UnknownTask({ taskId })),
    ListTasks: unsupported,
    History: unsupported,
    Logs: ({ taskId, follow }) => {
      const lines = Stream.make(1, 2, 3).pipe(Stream.map((version) => line(taskId, version)))
      return follow
        ? Stream.concat(lines, Stream.fromEffect(Effect.as(Deferred.await(release), line(taskId, 4))))
        : lines
    },
    Subscribe: () => Stream.fail(new TaskRpc.DaemonError({ reason: "not served by the transport fixture" })),
    Prune: unsupported,
    DeleteTask: unsupported,
    Info: () => Effect.succeed(info(dataDir)),
    ScheduleAdd: unsupported,
    ScheduleList: unsupported,
    SchedulePause: unsupported,
    ScheduleResume: unsupported,
    ScheduleRemove: unsupported,
    ScheduleTriggerNow: unsupported,
    ScheduleHistory: unsupported,
  })

/** A running server in `directory` (made 0700); stops when the scope closes. */
export const startServerAt = (directory: string) => Effect.gen(function* () {
  const paths = yield* DataDir.ensure(directory)
  const release = yield* Deferred.make<void>()
  yield* Layer.build(Server.layer({ socketPath: paths.socket }).pipe(Layer.provide(handlers(paths.directory, release))))
  return { paths, socketPath: paths.socket, release }
})

/** A running server in a fresh temp data dir; stops when the scope closes. */
export const startServer = Effect.flatMap(makeTempDir, startServerAt)

/** Start a server in its own scope, to stop it before the test ends. */
export const startServerIn = (scope: Scope.Scope) => Scope.provide(startServer, scope)

/** What a raw client saw: the reply lines, and whether the server closed the connection. */
export interface RawResult {
  readonly lines: ReadonlyArray<Record<string, unknown>>
  readonly closedByServer: boolean
}

/**
 * Write `data` on a raw connection and collect reply lines until `expectLines`
 * arrived, the server closed, or `waitMs` passed.
 */
export const rawExchange = (socketPath: string, data: string | Buffer, expectLines = 1, waitMs = 2_000) =>
  Effect.callback<RawResult>((resume) => {
    const conn = Net.createConnection({ path: socketPath })
    let buffer = ""
    const lines: Array<Record<string, unknown>> = []
    const finish = (closedByServer: boolean) => {
      clearTimeout(timer)
      conn.removeAllListeners()
      conn.on("error", () => {})
      conn.destroy()
      resume(Effect.succeed({ lines, closedByServer }))
    }
    const timer = setTimeout(() => finish(false), waitMs)
    conn.on("data", (chunk) => {
      buffer += chunk.toString("utf8")
      let index: number
      while ((index = buffer.indexOf("\n")) !== -1) {
        lines.push(JSON.parse(buffer.slice(0, index)))
        buffer = buffer.slice(index + 1)
      }
      if (lines.length >= expectLines) finish(false)
    })
    conn.on("error", () => finish(true))
    conn.on("close", () => finish(true))
    conn.on("connect", () => conn.write(data))
  })

/** A well-formed Info request line, as Effect's client would encode it. */
export const infoRequest = (id: string) =>
  JSON.stringify({ _tag: "Request", id, tag: "Info", payload: null, headers: [] }) + "\n"

/** Leave a socket file nobody listens on, as a daemon killed with SIGKILL does. */
export const leaveStaleSocket = (socketPath: string): void => {
  ChildProcess.spawnSync(process.execPath, [
    "-e",
    `require("net").createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, "SIGKILL"))`,
  ])
  if (!Fs.statSync(socketPath).isSocket()) throw new Error(`no stale socket at ${socketPath}`)
}
