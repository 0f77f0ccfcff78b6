/**
 * The cluster crash suite reads the outcome straight from the database, not
 * through a daemon: a PostgreSQL store instance of its own
 * (`PgEventStore.layer`, not the exclusive one, so it opens beside running
 * daemons), promise-shaped for the test. Reads only.
 */
import { EventStore, type Replay, type TaskEvent } from "@tasklane/core"
import { PgEventStore } from "@tasklane/core/postgres"
import { Effect, ManagedRuntime } from "effect"

/** A read-only view of the store at `url`; `close()` releases its connections. */
export const open = (url: string) => {
  const runtime = ManagedRuntime.make(PgEventStore.layer({ url, maxConnections: 2 }))
  const use = <A, E>(f: (store: EventStore.EventStore["Service"]) => Effect.Effect<A, E>): Promise<A> =>
    runtime.runPromise(Effect.gen(function*() {
      return yield* f(yield* EventStore.EventStore)
    }))
  return {
    head: () => use((store) => store.head),
    getTask: (taskId: string): Promise<Replay.TaskState | undefined> => use((store) => store.getTask(taskId as never)),
    /** The whole global log, read in pages of `page` events (each from the last position read, so a hole shows). */
    readLog: async (page = 5_000): Promise<Array<TaskEvent.RecordedEvent>> => {
      const log: Array<TaskEvent.RecordedEvent> = []
      for (;;) {
        const from = (log.at(-1)?.position ?? 0) + 1
        const events = await use((store) => store.readAll(from, page))
        log.push(...events)
        if (events.length < page) return log
      }
    },
    close: () => runtime.dispose(),
  }
}

/** An open store view. */
export type StoreReader = ReturnType<typeof open>
