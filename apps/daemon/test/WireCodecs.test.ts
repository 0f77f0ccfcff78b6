/**
 * internal/WireCodecs.ts against Effect's own JSON codecs: for every RPC of
 * the contract, exits of values generated from its success and error schemas,
 * and stream chunks of values generated from its chunk schema, encode to the
 * same JSON through both, or fail through both; values the compiled encoders
 * give up on (non-finite numbers, non-JSON `Json` fields, missing keys) are
 * Schema's to encode. The replies that matter for speed do compile.
 */
import { describe, expect, it } from "@effect/vitest"
import { Replay, TaskEvent, TaskRpc } from "@tasklane/core"
import { Arbitrary, Effect, Exit, Schema, SchemaIssue } from "effect"
import * as fc from "fast-check"
import { Rpc, RpcSchema, RpcSerialization } from "effect/rpc"
import * as WireCodecs from "../src/internal/WireCodecs.ts"

const fast = WireCodecs.codecFor(TaskRpc.TaskRpcs)
const stock = RpcSerialization.json.codecFor

/** The JSON both codecs give for `value`, or "failed". */
const encodeBoth = (schema: Schema.Top, value: unknown) =>
  Effect.gen(function*() {
    const run = (codec: Schema.Top) =>
      Effect.match(Schema.encodeUnknownEffect(codec as Schema.Codec<unknown, unknown>)(value), {
        onFailure: () => "failed",
        onSuccess: (encoded) => JSON.stringify(encoded),
      })
    return { fast: yield* run(fast(schema as never) as Schema.Top), stock: yield* run(stock(schema as never) as Schema.Top) }
  })

// RpcServer answers a bad payload with the issue in its default format.
const formatIssue = SchemaIssue.makeFormatterDefault()

/** What both codecs decode `encoded` to (as a value), or the message Schema gives for it. */
const decodeBoth = (schema: Schema.Top, encoded: unknown) =>
  Effect.gen(function*() {
    const run = (codec: Schema.Top) =>
      Effect.match(Schema.decodeUnknownEffect(codec as Schema.Codec<unknown, unknown>)(encoded), {
        onFailure: (error) => ({ failed: formatIssue(error.issue) }),
        onSuccess: (value) => ({ value }),
      })
    return { fast: yield* run(fast(schema as never) as Schema.Top), stock: yield* run(stock(schema as never) as Schema.Top) }
  })

const samples = <A>(schema: Schema.Top, count: number) =>
  Effect.orDie(Arbitrary.sampleEffect(Arbitrary.schema(schema) as Arbitrary.Arbitrary<A>, { count, seed: 12 }))

const rpcs = [...TaskRpc.TaskRpcs.requests.values()] as unknown as ReadonlyArray<Rpc.AnyWithProps>

/** A schema's generated values, or none when Effect cannot derive an arbitrary for it. */
const generated = (schema: Schema.Top, count: number) =>
  Effect.suspend(() => {
    try {
      return samples<unknown>(schema, count)
    } catch {
      return Effect.succeed([] as ReadonlyArray<unknown>)
    }
  })

const state: Replay.TaskState = {
  status: "triggered",
  context: {
    taskId: "019aa7b0-1234-7abc-8def-0123456789ab",
    definitionId: "noop",
    input: { a: [1, "x", null, true] },
    maxIterations: 1,
    iteration: 0,
    attempt: 0,
    nextIteration: 1,
    nextAttempt: 1,
    abortRequested: false,
    logCount: 0,
    createdAt: 1765000000000,
    updatedAt: 1765000000000,
    version: 1,
    position: 12345,
  } as Replay.TaskState["context"],
}

describe("WireCodecs.codecFor", () => {
  it("compiles the Trigger and GetTask replies and payloads and the Subscribe chunks", () => {
    for (const tag of ["Trigger", "GetTask", "Subscribe"]) expect(WireCodecs.compiles(TaskRpc.TaskRpcs.requests.get(tag)!.payloadSchema)).toBe(true)
    expect(WireCodecs.compiles(Replay.TaskState)).toBe(true)
    expect(WireCodecs.compiles(Schema.NonEmptyArray(TaskEvent.EventEnvelope))).toBe(true)
    for (const tag of ["Trigger", "GetTask"]) expect(WireCodecs.compiles(TaskRpc.TaskRpcs.requests.get(tag)!.successSchema)).toBe(true)
  })

  it.effect("encodes every RPC's exits, successes and failures, and reads them back, as Effect's JSON codec does", () =>
    Effect.gen(function*() {
      let compared = 0
      for (const rpc of rpcs) {
        const exitSchema = Rpc.exitSchema(rpc) as Schema.Top
        const streamed = RpcSchema.isStreamSchema(rpc.successSchema) ? rpc.successSchema : undefined
        if (streamed === undefined) {
          for (const value of yield* generated(rpc.successSchema, 50)) {
            const both = yield* encodeBoth(exitSchema, Exit.succeed(value))
            expect(both.fast, rpc._tag).toBe(both.stock)
            compared++
            // A client reads the reply back.
            if (both.stock !== "failed") {
              const read = yield* decodeBoth(exitSchema, JSON.parse(both.stock))
              expect(read.fast, rpc._tag).toStrictEqual(read.stock)
            }
          }
        }
        for (const error of yield* generated(rpc.errorSchema, 10)) {
          const both = yield* encodeBoth(exitSchema, Exit.fail(error))
          expect(both.fast, rpc._tag).toBe(both.stock)
        }
        const both = yield* encodeBoth(exitSchema, Exit.die(new Error("boom")))
        expect(both.fast).toBe(both.stock)
        for (const wire of fc.sample(fc.oneof(fc.jsonValue(), fc.record({ _tag: fc.constantFrom("Success", "Failure"), value: fc.jsonValue() })), { numRuns: 30, seed: 3 })) {
          const read = yield* decodeBoth(exitSchema, wire)
          expect(read.fast, `${rpc._tag} ${JSON.stringify(wire)}`).toStrictEqual(read.stock)
        }
        if (streamed !== undefined) {
          const chunk = Schema.NonEmptyArray(streamed.success)
          const values = yield* generated(streamed.success, 60)
          for (let i = 0; i + 3 <= values.length; i += 3) {
            const pair = yield* encodeBoth(chunk, values.slice(i, i + 3))
            expect(pair.fast, rpc._tag).toBe(pair.stock)
            compared++
          }
        }
      }
      expect(compared).toBeGreaterThan(500)
    }))

  it.effect("decodes every RPC's payloads as Effect's JSON codec does, and answers bad ones with Schema's message", () =>
    Effect.gen(function*() {
      let compiled = 0
      for (const rpc of rpcs) {
        if (WireCodecs.compiles(rpc.payloadSchema)) compiled++
        const encodeStock = Schema.encodeUnknownEffect(stock(rpc.payloadSchema as never) as Schema.Codec<unknown, unknown>)
        for (const value of yield* generated(rpc.payloadSchema, 50)) {
          // What a client sends: Schema's JSON, through JSON text.
          const wire = JSON.parse(JSON.stringify(yield* Effect.orDie(encodeStock(value))))
          const both = yield* decodeBoth(rpc.payloadSchema, wire)
          expect(both.fast, rpc._tag).toStrictEqual(both.stock)
        }
        // Hostile payloads: any JSON, and objects with the payload's keys (and others) holding any JSON.
        const keys = rpc.payloadSchema.ast._tag === "Objects" ? rpc.payloadSchema.ast.propertySignatures.map((p) => String(p.name)) : []
        const hostile = fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom(...keys, "extra", "_tag"), fc.jsonValue()))
        for (const wire of fc.sample(hostile, { numRuns: 200, seed: 7 })) {
          const both = yield* decodeBoth(rpc.payloadSchema, wire)
          expect(both.fast, `${rpc._tag} ${JSON.stringify(wire)}`).toStrictEqual(both.stock)
        }
      }
      expect(compiled).toBeGreaterThan(5)
    }))

  it.effect("leaves what it is not sure of to Schema: non-finite numbers, non-JSON values, missing or extra keys, checks", () =>
    Effect.gen(function*() {
      const trigger = Rpc.exitSchema(TaskRpc.TaskRpcs.requests.get("Trigger")!) as Schema.Top
      const variants: ReadonlyArray<unknown> = [
        state,
        { ...state, context: { ...state.context, createdAt: Number.NaN } },
        { ...state, context: { ...state.context, position: Number.POSITIVE_INFINITY } },
        { ...state, context: { ...state.context, input: { when: new Date(0) } } },
        { ...state, context: { ...state.context, input: { gone: undefined } } },
        { ...state, context: { ...state.context, output: [1, Number.NaN] } },
        { ...state, context: { ...state.context, name: undefined, extra: "dropped" } },
        { ...state, context: { ...state.context, forkedFrom: { taskId: state.context.taskId, iteration: 2, more: 1 } } },
        { ...state, context: { ...state.context, error: { message: "m", data: { x: 1 } }, failureReason: "thrown" } },
        { ...state, context: { ...state.context, failureReason: "no such reason" } },
        { ...state, status: "nonsense" },
        { status: "done", context: { ...state.context, taskId: undefined } },
        { status: "done" },
      ]
      for (const value of variants) {
        const both = yield* encodeBoth(trigger, Exit.succeed(value))
        expect(both.fast).toBe(both.stock)
      }
      // A check is Schema's to run: a chunk with a value out of bounds fails as Schema fails it.
      const bounded = Schema.NonEmptyArray(Schema.Struct({ n: Schema.Number.check(Schema.isGreaterThanOrEqualTo(0)) }))
      expect(yield* encodeBoth(bounded, [{ n: 1 }, { n: -1 }])).toEqual({ fast: "failed", stock: "failed" })
      expect(yield* encodeBoth(bounded, [{ n: 1 }])).toEqual({ fast: "[{\"n\":1}]", stock: "[{\"n\":1}]" })
    }))
})
