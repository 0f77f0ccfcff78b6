/**
 * The newest committed events a PostgreSQL store instance knows, one run of
 * consecutive positions ending at `end`, so that its subscribers read them
 * here instead of each querying the log after every commit: the writer adds
 * its own groups as they commit, and one reader fetches what other nodes
 * committed. Bounded: beyond `capacity` the oldest fall out, and a
 * subscriber that far behind reads the log. Plain code.
 */
import type { RecordedEvent } from "../TaskEvent.ts"

export class RecentEvents {
  #events: Array<RecordedEvent> = []
  /** The position before the first event held. */
  #start: number

  constructor(
    readonly capacity: number,
    /** The head when the store opened: the run starts after it. */
    head: number,
  ) {
    this.#start = head
  }

  /** The last position of the run (the start, while it holds nothing). */
  get end(): number {
    return this.#start + this.#events.length
  }

  /**
   * Adds events in position order that continue the run (those at or before
   * `end` are skipped); answers false, adding nothing, when they leave a gap
   * after `end` (events the run has not seen come before them).
   */
  add(events: ReadonlyArray<RecordedEvent>): boolean {
    let i = 0
    while (i < events.length && events[i]!.position <= this.end) i++
    if (i < events.length && events[i]!.position !== this.end + 1) return false
    for (; i < events.length; i++) this.#events.push(events[i]!)
    if (this.#events.length > 2 * this.capacity) this.#drop(this.#events.length - this.capacity)
    return true
  }

  /**
   * Starts a new run with `events` (the log read after `end` found a gap:
   * positions pruned away), or, with none, an empty run ending at `head`.
   */
  restart(events: ReadonlyArray<RecordedEvent>, head: number): void {
    this.#events = [...events]
    this.#start = events.length > 0 ? events[0]!.position - 1 : head
  }

  /**
   * Up to `limit` events from `position`: [] when the run has not reached it
   * yet, undefined when it is before the run (read the log).
   */
  from(position: number, limit: number): ReadonlyArray<RecordedEvent> | undefined {
    if (position <= this.#start) return undefined
    const index = position - this.#start - 1
    return index >= this.#events.length ? [] : this.#events.slice(index, index + limit)
  }

  #drop(n: number): void {
    this.#events = this.#events.slice(n)
    this.#start += n
  }
}
