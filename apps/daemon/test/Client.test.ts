/**
 * The Node client against a real server on a unix socket (in-test handlers,
 * see TransportFixture.ts): failing fast when no daemon answers, the promise
 * wrapper, and riding out a daemon restart.
 */
import { describe, expect, it } from "@effect/vitest"
import { TaskRpc } from "@tasklane/core"
import { Effect, Exit, Layer, Schedule, Scope } from "effect"
import * as Path from "node:path"
import * as Client from "../src/Client.ts"
import { info, leaveStaleSocket, makeTempDir, startServer, startServerAt } from "./TransportFixture.ts"

const expectUnreachable = (socketPath: string, reason: string) =>
  Effect.gen(function* () {
    const started = Date.now()
    const error = yield* Effect.flip(Client.make({ socketPath }))
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(error).toBeInstanceOf(Client.DaemonUnreachable)
    expect(error).toMatchObject({ socketPath, reason: expect.stringContaining(reason) })
    expect(error.message).toContain(socketPath)
    expect(error.message).toContain("tasklane daemon")
    expect(error.message).toContain("pnpm start")
  })

describe("Client", () => {
  it.live("fails fast with DaemonUnreachable when there is no socket file", () =>
    Effect.gen(function* () {
      const directory = yield* makeTempDir
      yield* expectUnreachable(Path.join(directory, "daemon.sock"), "no socket file")
    }))

  it.live("fails fast with DaemonUnreachable on a stale socket file", () =>
    Effect.gen(function* () {
      const socketPath = Path.join(yield* makeTempDir, "daemon.sock")
      leaveStaleSocket(socketPath)
      yield* expectUnreachable(socketPath, "nothing listens")
    }))

  it.live("layer fails to build with DaemonUnreachable", () =>
    Effect.gen(function* () {
      const socketPath = Path.join(yield* makeTempDir, "daemon.sock")
      const error = yield* Effect.flip(Layer.build(Client.layer({ socketPath })))
      expect(error).toBeInstanceOf(Client.DaemonUnreachable)
    }))

  it.live("connect: promise wrapper resolves values and rejects with typed errors", () =>
    Effect.gen(function* () {
      const { socketPath, paths } = yield* startServer
      const daemon = yield* Effect.promise(() => Client.connect(socketPath))
      const answer = yield* Effect.promise(() => daemon.call((client) => client.Info()))
      expect(answer).toEqual(info(paths.directory))
      const rejected = yield* Effect.promise(() =>
        daemon.call((client) => client.GetTask({ taskId: "nope" as TaskRpc.LogLine["taskId"] })).then(
          () => undefined,
          (error: unknown) => error,
        ))
      expect(rejected).toBeInstanceOf(TaskRpc.UnknownTask)
      yield* Effect.promise(() => daemon.close())
      const missing = yield* Effect.promise(() =>
        Client.connect(Path.join(paths.directory, "nothing.sock")).then(() => undefined, (error: unknown) => error))
      expect(missing).toBeInstanceOf(Client.DaemonUnreachable)
    }))

  it.live("calls fail (not hang) while the daemon is down and succeed again after it restarts", () =>
    Effect.gen(function* () {
      const directory = yield* makeTempDir
      const first = yield* Scope.make()
      const { socketPath } = yield* Scope.provide(startServerAt(directory), first)
      const client = yield* Client.make({ socketPath })
      expect(yield* client.Info()).toEqual(info(directory))

      yield* Scope.close(first, Exit.void)
      const down = yield* Effect.flip(client.Info().pipe(Effect.timeout("2 seconds")))
      expect(down._tag).toBe("RpcClientError")

      yield* startServerAt(directory)
      // Effect's socket protocol redials with backoff (0.5 s, growing to 5 s).
      const again = yield* client.Info().pipe(Effect.retry(Schedule.spaced("100 millis")), Effect.timeout("10 seconds"))
      expect(again).toEqual(info(directory))
    }), 20_000)
})
