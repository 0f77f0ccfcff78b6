/**
 * The pure Result constructors, the guard the runner applies to `run`'s answer,
 * and how errors become plain data.
 */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { TaskDefinition } from "../src/index.ts"

const { Result } = TaskDefinition

describe("Result constructors", () => {
  it("treat a lone string given to done as the message", () => {
    expect(Result.done()).toEqual({ _tag: "Done" })
    expect(Result.done({ n: 1 })).toEqual({ _tag: "Done", output: { n: 1 } })
    expect(Result.done("ok")).toEqual({ _tag: "Done", message: "ok" })
    expect(Result.done("ok", "text output")).toEqual({ _tag: "Done", message: "ok", output: "text output" })
  })

  it("build continue with an optional absolute wake time", () => {
    expect(Result.continue({ page: 2 })).toEqual({ _tag: "Continue", input: { page: 2 } })
    expect(Result.continue({ page: 2 }, 1234)).toEqual({ _tag: "Continue", input: { page: 2 }, wakeAt: 1234 })
  })

  it("produce JSON-safe plain data", () => {
    const results = [Result.done("m", { a: 1 }), Result.continue({ b: 2 }, 5), Result.error("bad"), Result.aborted()]
    expect(JSON.parse(JSON.stringify(results))).toEqual(results)
  })
})

describe("Result.is", () => {
  it("accepts every well-formed result", () => {
    for (const result of [Result.done(), Result.continue(undefined), Result.error("x"), Result.aborted()]) {
      expect(Result.is(result)).toBe(true)
    }
  })

  it("rejects what a buggy run might return", () => {
    for (const value of [undefined, null, "done", { _tag: "Finished" }, { _tag: "Continue" }, { _tag: "Error" }]) {
      expect(Result.is(value)).toBe(false)
    }
    expect(Result.is({ _tag: "Continue", input: 1, wakeAt: "soon" })).toBe(false)
  })
})

describe("Result.error and toErrorInfo", () => {
  it("keeps a message, an Error's stack and code, or structured details", () => {
    expect(Result.error("boom")).toEqual({ _tag: "Error", error: { message: "boom" } })
    const thrown = Object.assign(new TypeError("bad type"), { code: "E_TYPE" })
    const info = Result.error(thrown).error
    expect(info).toMatchObject({ message: "bad type", code: "E_TYPE" })
    expect(info.stack).toContain("TypeError: bad type")
    expect(Result.error({ message: "quota", code: "Q", data: [1] }).error).toEqual({ message: "quota", code: "Q", data: [1] })
  })

  it("names an Effect tagged error by its tag", () => {
    class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { key: Schema.String }) {
      override get message() {
        return `no ${this.key}`
      }
    }
    expect(TaskDefinition.toErrorInfo(new NotFound({ key: "a" }))).toMatchObject({ message: "no a", code: "NotFound" })
  })

  it("describes thrown non-errors", () => {
    expect(TaskDefinition.toErrorInfo(42)).toEqual({ message: "42" })
    expect(TaskDefinition.toErrorInfo(undefined)).toEqual({ message: "undefined" })
    expect(TaskDefinition.toErrorInfo({ reason: "x" })).toEqual({ message: "Unknown error", data: { reason: "x" } })
    expect(TaskDefinition.toErrorInfo(new Error(""))).toMatchObject({ message: "Error" })
  })
})
