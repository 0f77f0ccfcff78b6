/**
 * Branded identifiers and the UUIDv7 generator used for task and event ids.
 * UUIDv7 sorts by creation time, so ids double as a coarse time index.
 */
import { Schema } from "effect"

/** A task (= event stream) id. */
export const TaskId = Schema.String.pipe(Schema.brand("TaskId"))
export type TaskId = typeof TaskId.Type

/** A task definition id: camelCase, unique within a daemon. */
export const DefinitionId = Schema.String.pipe(Schema.brand("DefinitionId"))
export type DefinitionId = typeof DefinitionId.Type

/** An event id (UUIDv7). */
export const EventId = Schema.String.pipe(Schema.brand("EventId"))
export type EventId = typeof EventId.Type

const hex = (bytes: Uint8Array): string => {
  let out = ""
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0")
  return out
}

/**
 * A UUIDv7 string from a millisecond timestamp and 10 random bytes. Pure:
 * callers pass the time (Effect Clock) and the randomness.
 */
export const uuidv7 = (millis: number, random: Uint8Array): string => {
  const bytes = new Uint8Array(16)
  let ms = Math.max(0, Math.floor(millis))
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  bytes.set(random.subarray(0, 10), 6)
  bytes[6] = 0x70 | (bytes[6]! & 0x0f)
  bytes[8] = 0x80 | (bytes[8]! & 0x3f)
  const h = hex(bytes)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
