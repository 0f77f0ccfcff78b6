/**
 * Follows the event log in-process for good, for observers that derive
 * their figures from committed events (Metrics, Tracing): from `from`,
 * chunk by chunk into `onChunk`; a failed subscription (a store error) is
 * logged and resumed after the last event handed over, a second later.
 */
import type { EventStore, TaskEvent } from "@tasklane/core"
import { Effect, Stream } from "effect"

export const followLog = (
  store: EventStore.EventStore["Service"],
  from: number,
  label: string,
  onChunk: (events: ReadonlyArray<TaskEvent.RecordedEvent>) => Effect.Effect<void>,
): Effect.Effect<void> =>
  Effect.gen(function*() {
    let next = from
    for (;;) {
      const exit = yield* store.subscribe(next).pipe(
        Stream.runForEachArray((events) => {
          next = events[events.length - 1]!.position + 1
          return onChunk(events)
        }),
        Effect.exit,
      )
      if (exit._tag === "Success") return
      yield* Effect.logWarning(`${label}: the event subscription failed; resuming at position ${next} in 1 s`, exit.cause)
      yield* Effect.sleep("1 second")
    }
  })
