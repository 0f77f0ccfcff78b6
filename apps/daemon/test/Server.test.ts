/**
 * The unix-socket transport end to end: a real server (Server.layer) on a
 * real socket in a temp dir, the real typed client (Client.make), and raw
 * `net` connections for input no well-behaved client would send. The
 * handlers are in-test fakes (TransportFixture.ts): this suite is about the
 * transport, not about tasks.
 */
import { describe, expect, it } from "@effect/vitest"
import { TaskRpc } from "@tasklane/core"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Scope, Stream } from "effect"
import fc from "fast-check"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Client from "../src/Client.ts"
import * as DataDir from "../src/DataDir.ts"
import * as Server from "../src/Server.ts"
import { handlers, info, infoRequest, rawExchange, startServer, startServerIn } from "./TransportFixture.ts"

const taskId = "task-1" as TaskRpc.LogLine["taskId"]

/** A fresh typed client can still call Info: the server survived whatever came before. */
const stillServes = (socketPath: string, dataDir: string) =>
  Effect.gen(function* () {
    const client = yield* Client.make({ socketPath })
    expect(yield* client.Info()).toEqual(info(dataDir))
  })

describe("Server over a unix socket", () => {
  it.live("answers a typed call with the decoded success value", () =>
    Effect.gen(function* () {
      const { socketPath, paths } = yield* startServer
      const client = yield* Client.make({ socketPath })
      const answer = yield* client.Info()
      expect(answer).toBeInstanceOf(TaskRpc.DaemonInfo)
      expect(answer).toEqual(info(paths.directory))
    }))

  it.live("delivers a typed error as an instance of its class", () =>
    Effect.gen(function* () {
      const { socketPath } = yield* startServer
      const client = yield* Client.make({ socketPath })
      const error = yield* Effect.flip(client.GetTask({ taskId }))
      expect(error).toBeInstanceOf(TaskRpc.UnknownTask)
      expect(error).toMatchObject({ _tag: "UnknownTask", taskId })
      expect(error.message).toBe(`no task with id "${taskId}"`)
    }))

  it.live("delivers a stream in order", () =>
    Effect.gen(function* () {
      const { socketPath } = yield* startServer
      const client = yield* Client.make({ socketPath })
      const lines = yield* Stream.runCollect(client.Logs({ taskId }))
      expect(Array.from(lines, (line) => line.message)).toEqual(["line 1", "line 2", "line 3"])
      expect(lines[0]).toBeInstanceOf(TaskRpc.LogLine)
    }))

  it.live("a handler defect fails only its own call, not a stream on the same connection", () =>
    Effect.gen(function* () {
      const { socketPath, release } = yield* startServer
      const client = yield* Client.make({ socketPath })
      const firstLine = yield* Deferred.make<void>()
      const follow = yield* client.Logs({ taskId, follow: true }).pipe(
        Stream.tap(() => Deferred.succeed(firstLine, undefined)),
        Stream.runCollect,
        Effect.forkChild,
      )
      yield* Deferred.await(firstLine)
      const died = yield* Effect.exit(client.Definitions({}))
      expect(Exit.isFailure(died) && Cause.hasDies(died.cause)).toBe(true)
      yield* Deferred.succeed(release, undefined)
      const lines = yield* Fiber.join(follow)
      expect(lines.map((line) => line.version)).toEqual([1, 2, 3, 4])
    }))

  it.live("socket is 0600 inside a 0700 data dir, and is removed when the server stops", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const { socketPath, paths } = yield* startServerIn(scope)
      expect(Fs.statSync(socketPath).mode & 0o777).toBe(0o600)
      expect(Fs.statSync(paths.directory).mode & 0o777).toBe(0o700)
      yield* Scope.close(scope, Exit.void)
      expect(Fs.existsSync(socketPath)).toBe(false)
    }))

  it.live("a second server on the same socket fails with DaemonAlreadyRunning and leaves the first serving", () =>
    Effect.gen(function* () {
      const { socketPath, paths, release } = yield* startServer
      const second = yield* Effect.flip(
        Layer.build(Server.layer({ socketPath }).pipe(Layer.provide(handlers(paths.directory, release)))),
      )
      expect(second).toBeInstanceOf(DataDir.DaemonAlreadyRunning)
      expect((second as DataDir.DaemonAlreadyRunning).directory).toBe(paths.directory)
      yield* stillServes(socketPath, paths.directory)
    }))
})

describe("Server on malformed input", () => {
  const request = (fields: Record<string, unknown>) =>
    JSON.stringify({ _tag: "Request", id: "7", headers: [], ...fields }) + "\n"

  const cases: ReadonlyArray<{
    readonly name: string
    readonly data: string
    readonly reply: (line: Record<string, unknown>) => void
  }> = [
    {
      name: "a line that is not JSON",
      data: "hello, daemon\n",
      reply: (line) => expect(line).toMatchObject({ _tag: "Defect", defect: { name: "NdjsonDecodeError" } }),
    },
    {
      name: "truncated JSON ended by a newline",
      data: '{"_tag":"Request","id":"7","tag":"In\n',
      reply: (line) => expect(line).toMatchObject({ _tag: "Defect", defect: { name: "NdjsonDecodeError" } }),
    },
    {
      name: "JSON that is not an object",
      data: "null\n",
      reply: (line) => expect(line).toEqual({ _tag: "Defect", defect: "Unknown request tag: undefined" }),
    },
    {
      name: "an unknown message _tag",
      data: '{"_tag":"Hello"}\n',
      reply: (line) => expect(line).toEqual({ _tag: "Defect", defect: "Unknown request tag: Hello" }),
    },
    {
      name: "a request without an id",
      data: '{"_tag":"Request","tag":"Info","payload":null}\n',
      reply: (line) => expect(line).toEqual({ _tag: "Defect", defect: "Invalid request id: undefined" }),
    },
    {
      name: "a request id that cannot be printed",
      data: request({ id: { toString: false }, tag: "Info", payload: null }),
      reply: (line) => expect(line).toEqual({ _tag: "Defect", defect: "Invalid request id: null" }),
    },
    {
      name: "a message _tag that is not a string",
      data: '{"_tag":{"toString":false}}\n',
      reply: (line) => expect(line).toEqual({ _tag: "Defect", defect: "Unknown request tag: undefined" }),
    },
    {
      name: "an RPC tag that is not a string",
      data: request({ tag: { toString: false }, payload: null }),
      reply: (line) =>
        expect(line).toMatchObject({
          _tag: "Exit",
          requestId: "7",
          exit: { _tag: "Failure", cause: [{ _tag: "Die", defect: "Unknown request tag: (invalid tag)" }] },
        }),
    },
    {
      name: "an unknown RPC tag",
      data: request({ tag: "FormatDisk", payload: {} }),
      reply: (line) =>
        expect(line).toEqual({
          _tag: "Exit",
          requestId: "7",
          exit: { _tag: "Failure", cause: [{ _tag: "Die", defect: "Unknown request tag: FormatDisk" }] },
        }),
    },
    {
      name: "a payload of the wrong shape",
      data: request({ tag: "GetTask", payload: { taskId: 5 } }),
      reply: (line) =>
        expect(line).toMatchObject({
          _tag: "Exit",
          requestId: "7",
          exit: { _tag: "Failure", cause: [{ _tag: "Die", defect: expect.stringContaining("Expected string") }] },
        }),
    },
    {
      name: "headers that are not [name, value] pairs",
      data: request({ tag: "Info", payload: null, headers: [5] }),
      reply: (line) =>
        expect(line).toMatchObject({
          _tag: "Exit",
          requestId: "7",
          exit: { _tag: "Failure", cause: [{ _tag: "Die", defect: "Unknown request tag: Info (invalid headers)" }] },
        }),
    },
  ]

  for (const { name, data, reply } of cases) {
    it.live(`answers ${name} with an error, keeps the connection and serves new ones`, () =>
      Effect.gen(function* () {
        const { socketPath, paths } = yield* startServer
        // The bad line, then (in a later write) a good one on the same connection.
        const result = yield* rawExchange(socketPath, data, 1)
        expect(result.closedByServer).toBe(false)
        expect(result.lines).toHaveLength(1)
        reply(result.lines[0]!)
        const sameConnection = yield* Effect.callback<ReadonlyArray<string>>((resume) => {
          const conn = Net.createConnection({ path: socketPath })
          let text = ""
          conn.on("data", (chunk) => {
            text += chunk
            const lines = text.split("\n").filter(Boolean)
            if (lines.length === 2) {
              conn.destroy()
              resume(Effect.succeed(lines))
            }
          })
          conn.on("connect", () => {
            conn.write(data)
            setTimeout(() => conn.write(infoRequest("8")), 50)
          })
        })
        expect(JSON.parse(sameConnection[1]!)).toMatchObject({ _tag: "Exit", requestId: "8", exit: { _tag: "Success" } })
        yield* stillServes(socketPath, paths.directory)
      }))
  }

  it.live("a truncated frame followed by a hang-up costs only that connection", () =>
    Effect.gen(function* () {
      const { socketPath, paths } = yield* startServer
      yield* Effect.callback<void>((resume) => {
        const conn = Net.createConnection({ path: socketPath }, () => conn.end('{"_tag":"Request","id":"1","ta'))
        conn.on("close", () => resume(Effect.void))
      })
      yield* stillServes(socketPath, paths.directory)
    }))

  it.live("closes a connection that sends more than the frame limit without a newline", () =>
    Effect.gen(function* () {
      const { socketPath, paths } = yield* startServer
      const limit = Server.defaultMaxFrameBytes
      // Offer 4x the limit with backpressure: the server must hang up well before reading it all.
      const sent = yield* Effect.callback<number>((resume) => {
        const conn = Net.createConnection({ path: socketPath })
        const chunk = Buffer.alloc(1024 * 1024, "a")
        let written = 0
        const pump = () => {
          while (written < 4 * limit) {
            written += chunk.length
            if (!conn.write(chunk)) return void conn.once("drain", pump)
          }
        }
        conn.on("connect", pump)
        conn.on("error", () => {})
        conn.on("close", () => resume(Effect.succeed(written)))
      })
      expect(sent).toBeGreaterThan(limit)
      expect(sent).toBeLessThan(2 * limit)
      yield* stillServes(socketPath, paths.directory)
    }))

  it.live("random envelopes never make the server drop a connection", () =>
    Effect.gen(function* () {
      const { socketPath, paths } = yield* startServer
      const anything = fc.oneof(
        fc.jsonValue(),
        fc.constantFrom("Info", "GetTask", "Logs", "7", "__proto__", { toString: false }, { valueOf: 1 }),
      )
      const envelope = fc.record(
        {
          // No "Eof": it asks the server to end the connection once idle, so a close is the right answer.
          _tag: fc.constantFrom("Request", "Interrupt", "Ack", "Ping", "Exit", "Chunk"),
          id: anything,
          tag: anything,
          payload: anything,
          headers: anything,
          requestId: anything,
          discard: anything,
          isNotification: anything,
        },
        { requiredKeys: ["_tag"] },
      )
      const line = fc.oneof(envelope.map((value) => JSON.stringify(value)), fc.jsonValue().map((value) => JSON.stringify(value)), fc.string())
      const samples = fc.sample(fc.array(line, { minLength: 1, maxLength: 4 }), { numRuns: 300, seed: 4242 })
      const results = yield* Effect.forEach(
        samples,
        (lines) => rawExchange(socketPath, lines.join("\n") + "\n", Number.POSITIVE_INFINITY, 150),
        { concurrency: 20 },
      )
      const dropped = samples.filter((_, index) => results[index]!.closedByServer)
      expect(dropped).toEqual([])
      yield* stillServes(socketPath, paths.directory)
    }), 30_000)
})
