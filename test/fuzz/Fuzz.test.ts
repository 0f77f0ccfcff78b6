/**
 * Seeded fuzzing of the REAL daemon (its built-in examples plus the
 * integration fixture config), complementing the transport-only fuzz in
 * apps/daemon/test/Server.test.ts:
 *
 * 1. Random task inputs (arbitrary JSON and near-miss objects) against every
 *    definition with an input schema: each Trigger either creates a real task
 *    or fails with a typed InvalidInput whose issues each carry a path and a
 *    message; a batch of refused triggers stores nothing.
 * 2. Random malformed RPC frames on a raw socket (truncated requests, wrong
 *    payload types for every RPC, unknown tags, random bytes and invalid
 *    UTF-8, long strings, deep nesting): each gets an error reply or a clean
 *    close, the daemon stays up and stored data does not change.
 *
 * The seed is printed; rerun a failure with FUZZ_SEED=<seed>.
 */
import type { Ids } from "@tasklane/core"
import { TaskRpc } from "@tasklane/core"
import { Cause, Effect, Exit, Schema } from "effect"
import fc from "fast-check"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest"
import type { Connection } from "@tasklane/daemon/client"
import * as CsvToJsonl from "../../apps/daemon/src/examples/CsvToJsonl.ts"
import * as Demo from "../../apps/daemon/src/examples/Demo.ts"
import * as HashFiles from "../../apps/daemon/src/examples/HashFiles.ts"
import { type DaemonProcess, fixtureConfig, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { connectTo, history, poll, waitFor } from "../support/TaskPolling.ts"

const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31
console.log(`[fuzz] seed ${seed} (rerun with FUZZ_SEED=${seed})`)

let daemon: DaemonProcess
let c: Connection
let work: string
let taskId: Ids.TaskId

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "tl-fuzz-"))
  mkdirSync(join(work, "folder", "sub"), { recursive: true })
  writeFileSync(join(work, "folder", "a.txt"), "same")
  writeFileSync(join(work, "folder", "sub", "b.txt"), "same")
  writeFileSync(join(work, "folder", "c.txt"), "other!")
  writeFileSync(join(work, "in.csv"), "a,b\n1,2\n3,4\n")
  daemon = await startDaemon({
    dataDir: tempDataDir(),
    args: ["--config", fixtureConfig, "--abort-grace", "1", "--shutdown-grace", "2"],
  })
  c = await connectTo(daemon)
  taskId = (await c.call((client) => client.Trigger({ definitionId: "counter", input: { n: 0, target: 2 } }))).context.taskId
  await waitFor(c, taskId, "done")
})

afterAll(async () => {
  await c?.close()
  if (daemon !== undefined) {
    await daemon.stop("SIGKILL")
    removeDataDir(daemon.dataDir)
  }
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

/** The daemon process is alive and a fresh typed client gets Info. */
const assertAlive = async () => {
  expect(daemon.child.exitCode, daemon.output()).toBeNull()
  expect(daemon.child.signalCode).toBeNull()
  const fresh = await connectTo(daemon)
  try {
    const info = await fresh.call((client) => client.Info())
    expect(info.pid).toBe(daemon.child.pid)
    return info
  } finally {
    await fresh.close()
  }
}

const callExit = <A, E>(use: (client: Connection["client"]) => Effect.Effect<A, E>) => Effect.runPromiseExit(use(c.client))

// ---------------------------------------------------------------------------
// 1. Random task inputs
// ---------------------------------------------------------------------------

/** Per definition: a valid input, the keys it must have, and values out of range per key. */
interface Shape {
  readonly valid: () => Record<string, unknown>
  readonly required: ReadonlyArray<string>
  /** Values of the right JSON type but outside the schema (or of the wrong type). */
  readonly outOfRange: Record<string, ReadonlyArray<unknown>>
}

const shapes: Record<string, Shape> = {
  hashFiles: {
    valid: () => ({ folder: join(work, "folder"), algorithm: "sha1", minSize: 1, batchFiles: 1, batchBytes: 10 }),
    required: ["folder"],
    outOfRange: {
      folder: [""],
      algorithm: ["sha512", "", "SHA256"],
      minSize: [-1, 0.5, -1e308],
      batchFiles: [0, -3, 2.5],
      batchBytes: [0, -1, 0.1],
      cursor: [{ files: -1 }, { files: 0, bytes: 0, candidates: 0, hashed: 0, skipped: 0, pending: [{ size: -1, paths: [] }], digests: [] }],
    },
  },
  csvToJsonl: {
    valid: () => ({ source: join(work, "in.csv"), target: join(work, `out-${Math.random().toString(36).slice(2)}.jsonl`), delimiter: ";", header: false, chunkRows: 1 }),
    required: ["source", "target"],
    outOfRange: {
      source: [""],
      target: [""],
      delimiter: ["", "ab", "\"", "\n", "é"],
      chunkRows: [0, -1, 1.5],
      cursor: [{ offset: -1, rows: 0, targetBytes: 0 }, { offset: 0.5, rows: 0, targetBytes: 0 }],
    },
  },
  demo: {
    valid: () => ({ steps: 2, delaySeconds: 0 }),
    required: [],
    outOfRange: {
      steps: [0, 101, 1.5, -1, 1e9],
      delaySeconds: [-0.1, 61, 1e308],
      failAt: [0, -1, 1.5, 1000],
      done: [-1, 0.5],
    },
  },
  validated: {
    valid: () => ({ name: "n", count: 3, tags: ["a"] }),
    required: ["name", "count", "tags"],
    outOfRange: {
      name: [""],
      count: [0, 11, 2.5, -1, 1e300],
      tags: [[1], [null], ["a", {}]],
    },
  },
}

const definitionIds = Object.keys(shapes)

/** The fixture config's `validated` input schema (test/fixtures/daemon/tasklane.config.ts), restated. */
const ValidatedInput = Schema.Struct({
  name: Schema.String.check(Schema.isMinLength(1)),
  count: Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 10 })),
  tags: Schema.Array(Schema.String),
})

/** Oracle: does the schema accept the input as it arrives over the wire (after a JSON round trip)? */
const schemas: Record<string, Schema.Top> = {
  hashFiles: HashFiles.Input,
  csvToJsonl: CsvToJsonl.Input,
  demo: Demo.Input,
  validated: ValidatedInput,
}
const acceptedLocally = (definitionId: string, input: unknown): boolean =>
  Exit.isSuccess(Schema.decodeUnknownExit(schemas[definitionId] as Schema.Codec<unknown, unknown>)(JSON.parse(JSON.stringify(input) ?? "null")))

/** A JSON value whose type differs from `value`'s. */
const wrongTypeOf = (value: unknown): fc.Arbitrary<unknown> => {
  const kind = value === null ? "null" : Array.isArray(value) ? "array" : typeof value
  const all: Array<[string, fc.Arbitrary<unknown>]> = [
    ["string", fc.string({ maxLength: 20 })],
    ["number", fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))],
    ["boolean", fc.boolean()],
    ["null", fc.constant(null)],
    ["array", fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 })],
    ["object", fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })],
  ]
  return fc.oneof(...all.filter(([k]) => k !== kind).map(([, arb]) => arb))
}

type Mutation =
  | { readonly kind: "wrongType"; readonly key: string; readonly value: unknown }
  | { readonly kind: "outOfRange"; readonly key: string; readonly value: unknown }
  | { readonly kind: "missing"; readonly key: string }
  | { readonly kind: "extra"; readonly key: string; readonly value: unknown }

/** Mutations that must make the input invalid. */
const invalidMutation = (shape: Shape): fc.Arbitrary<Mutation> => {
  const template = shape.valid()
  const options: Array<fc.Arbitrary<Mutation>> = [
    fc.constantFrom(...Object.keys(template)).chain((key) =>
      wrongTypeOf(template[key]).map((value): Mutation => ({ kind: "wrongType", key, value }))
    ),
    fc.constantFrom(...Object.keys(shape.outOfRange)).chain((key) =>
      fc.constantFrom(...shape.outOfRange[key]!).map((value): Mutation => ({ kind: "outOfRange", key, value }))
    ),
  ]
  if (shape.required.length > 0) options.push(fc.constantFrom(...shape.required).map((key): Mutation => ({ kind: "missing", key })))
  return fc.oneof(...options)
}

/** Mutations that may or may not make the input invalid (extra keys, valid-or-not edits). */
const anyMutation = (shape: Shape): fc.Arbitrary<Mutation> =>
  fc.oneof(
    invalidMutation(shape),
    fc.record({
      kind: fc.constant("extra" as const),
      key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom("__proto__", "constructor", "cursor", "toString")),
      value: fc.jsonValue({ maxDepth: 3 }),
    }),
  )

const apply = (shape: Shape, mutations: ReadonlyArray<Mutation>): Record<string, unknown> => {
  const input: Record<string, unknown> = shape.valid()
  for (const m of mutations) {
    if (m.kind === "missing") delete input[m.key]
    else Object.defineProperty(input, m.key, { value: m.value, enumerable: true, writable: true, configurable: true })
  }
  return input
}

/**
 * Keeps triggered work harmless: any path-like string the task would touch is
 * pointed into the temp dir (a random folder could be `/`, a random target a
 * file of the repository).
 */
const harmless = (definitionId: string, input: unknown): unknown => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return input
  const copy: Record<string, unknown> = { ...input }
  const redirect = (key: string, to: string) => {
    if (typeof copy[key] === "string" && copy[key] !== "") copy[key] = to
  }
  if (definitionId === "hashFiles") redirect("folder", join(work, "folder"))
  if (definitionId === "csvToJsonl") {
    redirect("source", join(work, "in.csv"))
    redirect("target", join(work, `out-${Math.random().toString(36).slice(2)}.jsonl`))
  }
  return copy
}

const anyInput = (definitionId: string) =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.array(anyMutation(shapes[definitionId]!), { minLength: 0, maxLength: 3 }).map((ms) => apply(shapes[definitionId]!, ms)),
  )

const refusedInput = (definitionId: string) =>
  fc.oneof(
    // Never an object, so never a struct.
    fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string(), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 })),
    fc.tuple(invalidMutation(shapes[definitionId]!), fc.array(anyMutation(shapes[definitionId]!), { maxLength: 2 })).map(
      ([bad, others]) => {
        // The invalid mutation goes last so nothing undoes it.
        const extra = others.filter((m) => m.kind === "extra" && m.key !== (bad as { key: string }).key && !(m.key in shapes[definitionId]!.outOfRange) && !(m.key in shapes[definitionId]!.valid()))
        return apply(shapes[definitionId]!, [...extra, bad])
      },
    ),
  )

interface Outcome {
  readonly definitionId: string
  readonly input: unknown
  readonly taskId?: Ids.TaskId
}

/** Triggers once and checks the outcome is a real task or a well-formed InvalidInput. */
const triggerChecked = async (definitionId: string, rawInput: unknown): Promise<Outcome> => {
  const input = harmless(definitionId, rawInput)
  const what = `${definitionId} with ${JSON.stringify(input)} (seed ${seed})`
  const exit = await callExit((client) => client.Trigger({ definitionId, input }))
  expect(Exit.isSuccess(exit), `daemon and schema disagree on ${what}`).toBe(acceptedLocally(definitionId, input))
  if (Exit.isSuccess(exit)) {
    const state = exit.value
    expect(state.context.definitionId, what).toBe(definitionId)
    const again = await c.call((client) => client.GetTask({ taskId: state.context.taskId }))
    expect(again.context.taskId, what).toBe(state.context.taskId)
    const aborted = await callExit((client) => client.Abort({ taskId: state.context.taskId, message: "fuzz" }))
    if (Exit.isFailure(aborted)) expect(Cause.squash(aborted.cause), what).toBeInstanceOf(TaskRpc.NotAllowed)
    return { definitionId, input, taskId: state.context.taskId }
  }
  const error = Cause.squash(exit.cause)
  expect(error, `${what}: ${String(error)}`).toBeInstanceOf(TaskRpc.InvalidInput)
  const invalid = error as TaskRpc.InvalidInput
  expect(invalid.definitionId, what).toBe(definitionId)
  expect(invalid.issues.length, what).toBeGreaterThan(0)
  for (const issue of invalid.issues) {
    expect(Array.isArray(issue.path), what).toBe(true)
    for (const key of issue.path) expect(["string", "number"], what).toContain(typeof key)
    expect(typeof issue.message, what).toBe("string")
    expect(issue.message.length, what).toBeGreaterThan(0)
  }
  expect(invalid.message, what).toContain(definitionId)
  return { definitionId, input }
}

/** Waits until every task it is given is final and the daemon runs and queues nothing (Info.running/queued 0). */
const settle = async (ids: ReadonlyArray<Ids.TaskId>) => {
  for (const id of ids) await waitFor(c, id, "final", { timeoutMs: 15_000, settled: true })
  return poll(async () => {
    const info = await c.call((client) => client.Info())
    return info.running === 0 && info.queued === 0 ? info : undefined
  }, {
    timeoutMs: 10_000,
    what: async () => `the daemon is not idle: ${JSON.stringify(await c.call((client) => client.Info()))} (seed ${seed})`,
  })
}

describe("random task inputs against every schema", () => {
  it("each trigger makes a real task or fails with a typed InvalidInput; the daemon survives", async () => {
    const samples = definitionIds.flatMap((definitionId, index) =>
      fc.sample(anyInput(definitionId), { numRuns: 120, seed: seed + index }).map((input) => ({ definitionId, input }))
    )
    const outcomes: Array<Outcome> = []
    for (const { definitionId, input } of samples) outcomes.push(await triggerChecked(definitionId, input))
    const started = outcomes.flatMap((outcome) => (outcome.taskId === undefined ? [] : [outcome.taskId]))
    const refused = outcomes.length - started.length
    console.log(`[fuzz] inputs: ${outcomes.length} triggers, ${started.length} accepted (aborted), ${refused} refused`)
    // Every definition saw both outcomes (the near-miss generator keeps valid inputs coming).
    for (const definitionId of definitionIds) {
      const mine = outcomes.filter((o) => o.definitionId === definitionId)
      expect(mine.some((o) => o.taskId === undefined), definitionId).toBe(true)
    }
    await settle(started)
    await assertAlive()
  }, 40_000)

  it("random trigger options (delay, name, idempotency key) store a task whose wake time is a finite number", async () => {
    const options = fc.record({
      delaySeconds: fc.oneof(
        fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(0, 5e-324, 1, 1e7, 1e16, 1e300, Number.MAX_VALUE),
      ),
      name: fc.string({ maxLength: 40 }),
      idempotencyKey: fc.string({ maxLength: 20 }).map((key) => `fuzz-${seed}-${key}`),
    }, { requiredKeys: [] })
    const started: Array<Ids.TaskId> = []
    // A failed check must not leave a delayed task behind for the next tests.
    onTestFailed(async () => {
      for (const id of started) await callExit((client) => client.Abort({ taskId: id }))
    })
    for (const option of fc.sample(options, { numRuns: 60, seed: seed + 50 })) {
      const what = `${JSON.stringify(option)} (seed ${seed})`
      const state = await c.call((client) => client.Trigger({ definitionId: "validated", input: shapes.validated!.valid(), ...option }))
      started.push(state.context.taskId)
      const wakeAt = state.context.wakeAt
      if (wakeAt !== undefined) expect(Number.isFinite(wakeAt), what).toBe(true)
      const again = await c.call((client) => client.GetTask({ taskId: state.context.taskId }))
      expect(again.context.taskId, what).toBe(state.context.taskId)
      const aborted = await callExit((client) => client.Abort({ taskId: state.context.taskId }))
      if (Exit.isFailure(aborted)) expect(Cause.squash(aborted.cause), what).toBeInstanceOf(TaskRpc.NotAllowed)
    }
    await settle(started)
    await assertAlive()
  }, 30_000)

  it("a batch of refused triggers stores nothing", async () => {
    const before = await settle([])
    const storedBefore = await history(c, taskId)
    const samples = definitionIds.flatMap((definitionId, index) =>
      fc.sample(refusedInput(definitionId), { numRuns: 40, seed: seed + 100 + index }).map((input) => ({ definitionId, input }))
    )
    for (const { definitionId, input } of samples) {
      const outcome = await triggerChecked(definitionId, input)
      expect(outcome.taskId, `expected a refusal for ${definitionId} with ${JSON.stringify(outcome.input)} (seed ${seed})`).toBeUndefined()
    }
    const after = await assertAlive()
    expect(after.head).toBe(before.head)
    expect(after.counts).toEqual(before.counts)
    expect(await history(c, taskId)).toEqual(storedBefore)
  }, 30_000)
})

// ---------------------------------------------------------------------------
// 2. Malformed RPC frames on the raw socket
// ---------------------------------------------------------------------------

interface Exchange {
  readonly replies: Array<Record<string, any>>
  readonly closed: boolean
  readonly sentinel: boolean
}

const SENTINEL = "sentinel"
const sentinelLine = JSON.stringify({ _tag: "Request", id: SENTINEL, tag: "Info", payload: null, headers: [] }) + "\n"

/**
 * Sends `data` on a fresh raw connection (then, unless `hangUp`, a newline and
 * an Info request with id "sentinel"), and collects replies until the sentinel
 * is answered, the daemon closes, or `waitMs` passes.
 */
const exchange = (data: Buffer, hangUp: boolean, expectId?: string, waitMs = 5_000): Promise<Exchange> =>
  new Promise((resolve) => {
    const socket = Net.createConnection({ path: daemon.socketPath })
    const replies: Array<Record<string, any>> = []
    let buffer = ""
    let settled = false
    let sentinelSeen = false
    let resent = false
    const answered = () =>
      expectId === undefined || replies.some((reply) => reply._tag === "Defect" || (reply._tag === "Exit" && reply.requestId === expectId))
    const finish = (closed: boolean, sentinel: boolean) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.removeAllListeners("data")
      socket.on("error", () => undefined)
      socket.destroy()
      resolve({ replies, closed, sentinel })
    }
    const timer = setTimeout(() => finish(false, sentinelSeen), waitMs)
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8")
      for (let index = buffer.indexOf("\n"); index !== -1; index = buffer.indexOf("\n")) {
        const reply = JSON.parse(buffer.slice(0, index))
        buffer = buffer.slice(index + 1)
        if (reply._tag === "Exit" && reply.requestId === SENTINEL) sentinelSeen = true
        else replies.push(reply)
      }
      // Requests on one connection run concurrently: the sentinel may be answered first.
      if (sentinelSeen && answered()) return finish(false, true)
      // A line that is not JSON drops the rest of its read, sentinel included (documented in Server.ts: the
      // connection-level Defect stands for those requests). Ask again: the connection must have resynchronised.
      if (!hangUp && !resent && replies.some((reply) => reply._tag === "Defect" && reply.defect?.name === "NdjsonDecodeError")) {
        resent = true
        socket.write(sentinelLine)
      }
    })
    socket.on("error", () => finish(true, sentinelSeen))
    socket.on("close", () => finish(true, sentinelSeen))
    socket.on("end", () => finish(true, sentinelSeen))
    socket.on("connect", () => {
      if (hangUp) socket.end(data)
      else socket.write(Buffer.concat([data, Buffer.from("\n" + sentinelLine)]))
    })
  })

/** A valid request for each RPC, against the pre-created task where one is needed. */
const validPayloads = (): Record<string, Record<string, unknown> | null> => ({
  Definitions: { includePrivate: false },
  Trigger: { definitionId: "validated", input: { name: "x", count: 2, tags: [] }, name: "n", delaySeconds: 0, idempotencyKey: "k", parentId: taskId },
  Abort: { taskId, message: "m" },
  GetTask: { taskId },
  ListTasks: { status: "done", definitionId: "counter", parentId: taskId, limit: 5, cursor: "c" },
  History: { taskId, fromVersion: 1 },
  Logs: { taskId, follow: false },
  Subscribe: { fromPosition: 0 },
  DeleteTask: { taskId },
  Info: null,
})

const requestLine = (id: string, tag: unknown, payload: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ _tag: "Request", id, tag, payload, headers: [], ...extra })

const required = ["taskId", "definitionId"]

/** Wrong-typed values per field: never a value the field accepts. */
const wrongFor = (field: string, value: unknown): fc.Arbitrary<unknown> => {
  const special: Record<string, ReadonlyArray<unknown>> = {
    delaySeconds: [-1, -0.001, -1e308],
    limit: [0, 1001, -5, 1e9],
    status: ["finished", "", "DONE"],
  }
  // A null in an optional field counts as absent (the JSON codec maps null to undefined), so it is no wrong value there.
  const wrong = required.includes(field) ? wrongTypeOf(value) : wrongTypeOf(value).filter((v) => v !== null)
  return special[field] === undefined ? wrong : fc.oneof(wrong, fc.constantFrom(...special[field]!))
}

type Frame =
  | { readonly kind: "truncated"; readonly data: Buffer; readonly newline: boolean }
  | { readonly kind: "wrongType"; readonly data: Buffer; readonly id: string; readonly rpc: string; readonly field: string }
  | { readonly kind: "unknownTag"; readonly data: Buffer }
  | { readonly kind: "randomBytes"; readonly data: Buffer; readonly id?: string }
  | { readonly kind: "long"; readonly data: Buffer; readonly id: string }
  | { readonly kind: "deep"; readonly data: Buffer; readonly id?: string }

const frames = (): fc.Arbitrary<Frame> => {
  const payloads = validPayloads()
  const rpcs = Object.keys(payloads)
  const truncated = fc.tuple(fc.constantFrom(...rpcs), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.boolean()).map(
    ([rpc, at, newline]): Frame => {
      const full = Buffer.from(requestLine("1", rpc, payloads[rpc]))
      return { kind: "truncated", data: full.subarray(0, Math.floor(at * full.length)), newline }
    },
  )
  const fields = rpcs.flatMap((rpc) =>
    payloads[rpc] === null ? [] : Object.keys(payloads[rpc]!).filter((f) => f !== "input").map((field) => ({ rpc, field }))
  )
  const wrongType = fc.constantFrom(...fields).chain(({ rpc, field }) =>
    wrongFor(field, payloads[rpc]![field]).map((value): Frame => ({
      kind: "wrongType",
      rpc,
      field,
      id: "2",
      data: Buffer.from(requestLine("2", rpc, { ...payloads[rpc], [field]: value })),
    }))
  )
  // A payload that is not an object at all.
  const wrongPayload = fc.constantFrom(...rpcs.filter((rpc) => rpc !== "Info")).chain((rpc) =>
    fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 2 })).map(
      (payload): Frame => ({ kind: "wrongType", rpc, field: "(payload)", id: "3", data: Buffer.from(requestLine("3", rpc, payload)) }),
    )
  )
  const unknownTag = fc.oneof(
    fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !rpcs.includes(s)).map((tag): Frame => ({
      kind: "unknownTag",
      data: Buffer.from(requestLine("4", tag, {})),
    })),
    fc.string({ maxLength: 30 }).filter((s) => !["Request", "Interrupt", "Ack", "Ping", "Eof"].includes(s)).map((tag): Frame => ({
      kind: "unknownTag",
      data: Buffer.from(JSON.stringify({ _tag: tag, id: "4", tag: "Info", payload: null })),
    })),
  )
  const randomBytes = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 512 }).map((bytes): Frame => ({ kind: "randomBytes", data: Buffer.from(bytes) })),
    // Invalid UTF-8 inside an otherwise plausible request.
    fc.constantFrom(
      Uint8Array.from([0xc3, 0x28]),
      Uint8Array.from([0xff, 0xfe, 0xfd]),
      Uint8Array.from([0xe2, 0x82]),
      Uint8Array.from([0xf0, 0x90, 0x80]),
      Uint8Array.from([0xed, 0xa0, 0x80]),
    ).map((bad): Frame => ({
      kind: "randomBytes",
      id: "5",
      data: Buffer.concat([Buffer.from('{"_tag":"Request","id":"5","tag":"GetTask","payload":{"taskId":"'), bad, Buffer.from('"},"headers":[]}')]),
    })),
  )
  return fc.oneof(
    { arbitrary: truncated, weight: 3 },
    { arbitrary: wrongType, weight: 4 },
    { arbitrary: wrongPayload, weight: 1 },
    { arbitrary: unknownTag, weight: 2 },
    { arbitrary: randomBytes, weight: 3 },
  )
}

/** A few big frames, built by hand: long strings (a few MiB, under the 16 MiB limit) and deep nesting. */
const bigFrames = (): ReadonlyArray<Frame> => {
  const mib = 1024 * 1024
  const long = "\u00e9x".repeat(mib) // 3 MiB of UTF-8
  const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
  const nestedObject = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth)
  const raw = (id: string, tag: string, payloadJson: string) =>
    Buffer.from(`{"_tag":"Request","id":${JSON.stringify(id)},"tag":${JSON.stringify(tag)},"payload":${payloadJson},"headers":[]}`)
  return [
    { kind: "long", id: "10", data: Buffer.from(requestLine("10", "GetTask", { taskId: long })) },
    { kind: "long", id: "11", data: Buffer.from(requestLine("11", "Trigger", { definitionId: long, input: {} })) },
    { kind: "long", id: "12", data: Buffer.from(requestLine("12", "Trigger", { definitionId: "validated", input: { name: long, count: 0, tags: [long] } })) },
    { kind: "long", id: "13", data: Buffer.from(requestLine("13", long, {})) },
    { kind: "long", id: "14", data: Buffer.from(requestLine("14", "History", { taskId, fromVersion: long })) },
    { kind: "deep", id: "20", data: raw("20", "GetTask", `{"taskId":${nested(5_000)}}`) },
    { kind: "deep", id: "21", data: raw("21", "GetTask", `{"taskId":${nested(100_000)}}`) },
    { kind: "deep", id: "22", data: raw("22", "Trigger", `{"definitionId":"validated","input":${nested(100_000)}}`) },
    { kind: "deep", id: "23", data: raw("23", "Trigger", `{"definitionId":"validated","input":{"name":"n","count":1,"tags":${nested(50_000)}}}`) },
    { kind: "deep", id: "24", data: raw("24", "Trigger", `{"definitionId":"hashFiles","input":${nestedObject(50_000)}}`) },
    { kind: "deep", id: "25", data: raw("25", "ListTasks", `{"definitionId":${nestedObject(100_000)}}`) },
    { kind: "deep", data: Buffer.from(nested(200_000)) },
    { kind: "deep", id: "26", data: Buffer.from(`{"_tag":"Request","id":"26","tag":"Info","payload":null,"headers":${nested(100_000)}}`) },
  ]
}

const isError = (reply: Record<string, any>) =>
  reply._tag === "Defect" || (reply._tag === "Exit" && reply.exit?._tag === "Failure")

/** Checks the daemon's answer to one frame; returns a problem description or undefined. */
const judge = (frame: Frame, result: Exchange): string | undefined => {
  const nonErrors = result.replies.filter((reply) => !isError(reply) && reply._tag !== "Pong")
  if (nonErrors.length > 0) return `non-error replies ${JSON.stringify(nonErrors).slice(0, 500)}`
  if (frame.kind === "truncated" && !frame.newline) {
    return result.closed ? undefined : "no clean close after a truncated frame and a hang-up"
  }
  if (!result.closed && !result.sentinel) return "neither answered the sentinel nor closed (hung connection)"
  if (result.closed) return undefined // a clean close is an acceptable answer
  if ("id" in frame && frame.id !== undefined) {
    const exit = result.replies.find((reply) => reply._tag === "Exit" && reply.requestId === frame.id)
    const defect = result.replies.find((reply) => reply._tag === "Defect")
    if (exit === undefined && defect === undefined) return `no error reply for request ${frame.id}`
  } else if (frame.data.toString("utf8").trim() !== "" && result.replies.length === 0) {
    return "no error reply"
  }
  return undefined
}

const describeFrame = (frame: Frame) => {
  const text = frame.data.length > 300 ? `${frame.data.subarray(0, 200).toString("utf8")}… (${frame.data.length} bytes)` : frame.data.toString("utf8")
  return `${frame.kind}${"rpc" in frame ? ` ${frame.rpc}.${frame.field}` : ""}: ${JSON.stringify(text)}`
}

describe("malformed RPC frames on the real socket", () => {
  let before: { history: unknown; head: number; tasks: number }

  beforeAll(async () => {
    const info = await settle([])
    const page = await c.call((client) => client.ListTasks({ limit: 1000 }))
    before = { history: await history(c, taskId), head: info.head, tasks: page.tasks.length }
  })

  it("random frames get an error reply or a clean close, and the daemon stays up", async () => {
    const sampled = fc.sample(frames(), { numRuns: 1000, seed: seed + 200 })
    const problems: Array<string> = []
    const counts: Record<string, number> = {}
    for (let start = 0; start < sampled.length; start += 16) {
      const batch = sampled.slice(start, start + 16)
      const results = await Promise.all(batch.map((frame) => exchange(frame.data, frame.kind === "truncated" && !frame.newline, "id" in frame ? frame.id : undefined)))
      batch.forEach((frame, index) => {
        counts[frame.kind] = (counts[frame.kind] ?? 0) + 1
        const problem = judge(frame, results[index]!)
        if (problem !== undefined) problems.push(`${describeFrame(frame)} -> ${problem}`)
      })
    }
    console.log(`[fuzz] frames: ${JSON.stringify(counts)}`)
    expect(problems, `seed ${seed}`).toEqual([])
    expect(daemon.child.exitCode, daemon.output()).toBeNull()
  }, 40_000)

  it("long strings and deep nesting get an error reply or a clean close", async () => {
    const problems: Array<string> = []
    // One at a time: keeps memory modest on both ends.
    for (const frame of bigFrames()) {
      const result = await exchange(frame.data, false, "id" in frame ? frame.id : undefined, 10_000)
      const problem = judge(frame, result)
      if (problem !== undefined) problems.push(`${describeFrame(frame)} -> ${problem}`)
      expect(daemon.child.exitCode, `${describeFrame(frame)}\n${daemon.output().slice(-3000)}`).toBeNull()
    }
    expect(problems).toEqual([])
  }, 40_000)

  it("afterwards the daemon still serves a fresh typed client and stored data is unchanged", async () => {
    const info = await assertAlive()
    expect(info.head).toBe(before.head)
    const fresh = await connectTo(daemon)
    try {
      expect(await history(fresh, taskId)).toEqual(before.history)
      const page = await fresh.call((client) => client.ListTasks({ limit: 1000 }))
      expect(page.tasks).toHaveLength(before.tasks)
      expect((await fresh.call((client) => client.GetTask({ taskId }))).status).toBe("done")
    } finally {
      await fresh.close()
    }
  })
})

describe("stored data after the fuzzing", () => {
  it("the daemon restarts on its data dir, replays everything and serves the same data", async () => {
    const before = await settle([])
    const storedHistory = await history(c, taskId)
    const page = await c.call((client) => client.ListTasks({ limit: 1000 }))
    await c.close()
    expect(await daemon.stop("SIGTERM")).toBe(0)
    daemon = await startDaemon({
      dataDir: daemon.dataDir,
      args: ["--config", fixtureConfig, "--abort-grace", "1", "--shutdown-grace", "2"],
    })
    c = await connectTo(daemon)
    const info = await assertAlive()
    expect(info.head).toBe(before.head)
    expect(info.counts).toEqual(before.counts)
    expect(await history(c, taskId)).toEqual(storedHistory)
    const after = await c.call((client) => client.ListTasks({ limit: 1000 }))
    expect(after.tasks.map((task) => task.context.taskId)).toEqual(page.tasks.map((task) => task.context.taskId))
  })
})
