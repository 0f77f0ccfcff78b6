import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Keys from "../src/internal/RecordKeys.ts"

describe("RecordKeys.hex", () => {
  it("writes the digits of toString(16), zero-padded to the width, for every safe integer", () => {
    const reference = (value: number, width: number) => value.toString(16).padStart(width, "0")
    for (const value of [0, 1, 0xffffff, 0x1000000, 0x3fffffff, 0x40000000, 2 ** 32 - 1, 2 ** 32, 2 ** 48 - 1, 2 ** 48, Number.MAX_SAFE_INTEGER]) {
      for (const width of [8, 12]) expect(Keys.hex(value, width)).toBe(reference(value, width))
    }
    fc.assert(fc.property(fc.maxSafeNat(), fc.constantFrom(8, 12), (value, width) => Keys.hex(value, width) === reference(value, width)))
  })
})
