import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Replay from "../src/Replay.ts"
import { StateCache } from "../src/internal/AppendGroup.ts"

/** The reference: a list of keys, least recently set first. */
const reference = (capacity: number) => {
  let keys: Array<string> = []
  const values = new Map<string, Replay.TaskState | null>()
  return {
    set: (stream: string, state: Replay.TaskState | null) => {
      keys = [...keys.filter((key) => key !== stream), stream]
      values.set(stream, state)
      while (keys.length > capacity) values.delete(keys.shift()!)
    },
    clear: () => {
      keys = []
      values.clear()
    },
    get: (stream: string) => values.get(stream),
  }
}

describe("StateCache", () => {
  it("keeps the most recently set streams up to its capacity, evicting the least recently set", () => {
    const op = fc.oneof(
      { weight: 8, arbitrary: fc.tuple(fc.constant("set" as const), fc.integer({ min: 0, max: 40 }), fc.boolean()) },
      { weight: 1, arbitrary: fc.tuple(fc.constant("clear" as const), fc.constant(0), fc.constant(false)) },
    )
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.array(op, { maxLength: 400 }), (capacity, ops) => {
        const cache = new StateCache(capacity)
        const model = reference(capacity)
        for (const [kind, n, known] of ops) {
          if (kind === "clear") {
            cache.clear()
            model.clear()
            continue
          }
          const state = known ? Replay.initial : null
          cache.set(`s${n}`, state)
          model.set(`s${n}`, state)
          for (let k = 0; k <= 40; k++) expect(cache.get(`s${k}`)).toBe(model.get(`s${k}`))
        }
      }),
    )
  })
})
