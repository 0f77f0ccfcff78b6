/**
 * The schedule log's records as every store keeps them: ScheduleEvent JSON,
 * numbered gapless from 1. Encoded before they reach a store's writer (one
 * record that does not encode fails its whole append, so nothing is
 * written) and checked when read back (a hole or a record that does not
 * decode is a StoreError naming it).
 */
import { Effect, Schema } from "effect"
import { ScheduleEvent } from "../ScheduleEvent.ts"
import { StoreError } from "../StoreErrors.ts"

const encodeOne = Schema.encodeUnknownSync(Schema.fromJsonString(ScheduleEvent))
const decodeOne = Schema.decodeUnknownSync(Schema.fromJsonString(ScheduleEvent))
const firstLine = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause)).split("\n")[0]!

/** The records as stored text, or a StoreError naming the first that does not encode. */
export const encode = (records: ReadonlyArray<ScheduleEvent>): Effect.Effect<ReadonlyArray<string>, StoreError> =>
  Effect.try({
    try: () =>
      records.map((record, i) => {
        try {
          return encodeOne(record)
        } catch (cause) {
          throw new StoreError({ operation: "appendSchedule", reason: `schedule record ${i + 1} of ${records.length} does not encode: ${firstLine(cause)}` })
        }
      }),
    catch: (cause) => (cause instanceof StoreError ? cause : new StoreError({ operation: "appendSchedule", reason: firstLine(cause) })),
  })

/** Decodes `(seq, record)` pairs in seq order; throws a StoreError at a hole or a record that does not decode. */
export const decode = (entries: ReadonlyArray<readonly [seq: number, record: string]>): Array<ScheduleEvent> =>
  entries.map(([seq, record], i) => {
    if (seq !== i + 1) throw new StoreError({ operation: "readSchedules", reason: `schedule record ${i + 1} is missing from the schedule log (found ${seq})` })
    try {
      return decodeOne(record)
    } catch (cause) {
      throw new StoreError({ operation: "readSchedules", reason: `stored schedule record ${seq} does not decode: ${firstLine(cause)}` })
    }
  })
