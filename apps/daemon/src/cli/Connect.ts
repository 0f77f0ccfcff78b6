/**
 * The CLI's way to the daemon: the data directory and socket from the global
 * flags (`--data-dir`, `$TASKLANE_HOME`, `--socket`), a scoped typed
 * client for one command's run, failing fast with `DaemonUnreachable`, and
 * how much input a request may carry.
 */
import { TaskRpc } from "@tasklane/core"
import { Effect } from "effect"
import * as Client from "../Client.ts"
import * as DataDir from "../DataDir.ts"
import { DataDirFlag, opt, SocketFlag } from "./Output.ts"

/** Most bytes of task input one request may carry: the daemon's request limit less room for the RPC envelope, ids, names and keys. */
export const maxInputBytes = TaskRpc.maxRequestBytes - 64 * 1024

/** The data directory the global flags point at. */
export const dataDir = Effect.map(DataDirFlag, (flag) => DataDir.resolveDirectory({ dataDir: opt(flag) }))

/** The socket the global flags point at. */
export const socketPath = Effect.gen(function*() {
  const socket = opt(yield* SocketFlag)
  return socket ?? DataDir.paths(yield* dataDir).socket
})

/** Runs `use` with a client connected to the daemon; the connection closes afterwards. */
export const withClient = <A, E, R>(use: (client: Client.TaskClient) => Effect.Effect<A, E, R>) =>
  Effect.scoped(
    Effect.gen(function*() {
      const client = yield* Client.make({ socketPath: yield* socketPath })
      return yield* use(client)
    }),
  )
