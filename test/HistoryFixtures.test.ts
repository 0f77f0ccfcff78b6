/**
 * The checked-in histories (test/fixtures/histories) replay to their known
 * states through the stored-envelope decoder and the shared fold; the
 * corrupted one fails with a ReplayError naming where.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Replay, TaskEvent } from "@tasklane/core"
import { describe, expect, it } from "vitest"

const dir = join(import.meta.dirname, "fixtures", "histories")
const files = readdirSync(dir).filter((f) => f.endsWith(".json"))
const load = (file: string) => JSON.parse(readFileSync(join(dir, file), "utf8"))

describe("history fixtures", () => {
  it("has valid and corrupted fixtures", () => {
    expect(files.filter((f) => f.startsWith("corrupted-")).length).toBeGreaterThan(0)
    expect(files.filter((f) => !f.startsWith("corrupted-")).length).toBeGreaterThanOrEqual(4)
  })

  for (const file of files.filter((f) => !f.startsWith("corrupted-"))) {
    it(`${file} replays to its recorded state`, () => {
      const fixture = load(file)
      const state = Replay.replay(fixture.events.map(TaskEvent.fromEnvelope))
      expect(state).not.toBeInstanceOf(Replay.ReplayError)
      expect(JSON.parse(JSON.stringify(state))).toEqual(fixture.expected)
    })
  }

  for (const file of files.filter((f) => f.startsWith("corrupted-"))) {
    it(`${file} fails with a ReplayError at the corrupted event`, () => {
      const fixture = load(file)
      const result = Replay.replay(fixture.events.map(TaskEvent.fromEnvelope))
      expect(result).toBeInstanceOf(Replay.ReplayError)
      expect(result).toMatchObject(fixture.expectedError)
    })
  }

  it("an envelope from a newer schema version is a typed decode error", () => {
    const [first] = load("done-after-three-iterations.json").events
    expect(() => TaskEvent.fromEnvelope({ ...first, v: 99 })).toThrow(TaskEvent.EventDecodeError)
    expect(() => TaskEvent.fromEnvelope({ ...first, type: "NoSuchEvent" })).toThrow(/NoSuchEvent/)
  })
})
