/**
 * One group commit of an event store, built append by append: a
 * {@link Group} validates each append against the state before it (the
 * committed view, or the group being written just before it), folds it with
 * the replay step, assigns gapless positions and stream versions and puts
 * the events into one write batch. Two appends to one stream in a group see
 * each other. A refused append (version conflict, refused transition,
 * unencodable event) takes no position and writes nothing; the others still
 * commit. Sealing the group adds each touched stream's projection changes
 * once (old state -> final state: summary put, stale index keys deleted, new
 * ones put, counters adjusted), so events and projections land in the same
 * batch. Schedule appends ({@link ScheduleJob}, already encoded) join the
 * same group: their records take the schedule log's next sequence numbers
 * and go into the same batch, beside the task log, with no projection.
 *
 * The {@link View} (head, counters, a bounded cache of stream states) is what
 * is durable; it changes only in {@link commit}, after the batch is written.
 *
 * Storage-neutral: a group writes {@link Records} (keys of RecordKeys),
 * which the LevelDB store writes as one batch. The PostgreSQL store gives it
 * none and maps the group's events, envelopes and states onto its tables.
 */
import { Schema, type Deferred } from "effect"
import type { AppendRequest, AppendResult } from "../EventStore.ts"
import { ConcurrencyConflict, type IdempotencyKeyTaken, InvalidTransition, StoreError } from "../StoreErrors.ts"
import * as Replay from "../Replay.ts"
import { encodeEnvelope, type RecordedEvent } from "../TaskEvent.ts"
import { taskStatuses, type TaskStatus } from "../TaskMachine.ts"
import * as Keys from "./RecordKeys.ts"

/** Where a group puts its records (keys of {@link Keys}): a LevelDB write batch. */
export interface Records {
  put(key: string, value: string): void
  del(key: string): void
}

/** Why an append was refused. */
export type AppendError = ConcurrencyConflict | InvalidTransition | IdempotencyKeyTaken | StoreError

/** An append waiting for the writer. */
export interface AppendJob {
  readonly _tag: "append"
  readonly request: AppendRequest
  readonly deferred: Deferred.Deferred<AppendResult, AppendError>
}

/** Schedule records waiting for the writer, encoded by the store; answers the sequence number of the last. */
export interface ScheduleJob {
  readonly _tag: "schedule"
  readonly encoded: ReadonlyArray<string>
  readonly deferred: Deferred.Deferred<number, StoreError>
}

/** The outcome of one append in a group. */
export type Outcome = { readonly _tag: "accepted"; readonly result: AppendResult } | { readonly _tag: "refused"; readonly error: AppendError }

/** A bounded map of stream states, least recently used first. `null` records a stream known not to exist. */
export class StateCache {
  readonly #entries = new Map<string, Replay.TaskState | null>()
  /**
   * A live iterator over the keys, at the least recently used one: every key
   * before it was evicted or set again (moved to the end). Evicting through a
   * fresh `keys()` would step over every deleted slot at the start of the
   * Map's table each time (V8 compacts them only when it rehashes), several
   * µs an eviction once the cache is full.
   */
  #oldest: Iterator<string> | undefined
  constructor(readonly capacity: number) {}
  /** The cached state, `null` when known absent, undefined when not cached. */
  get(stream: string): Replay.TaskState | null | undefined {
    return this.#entries.get(stream)
  }
  /** Caches a state, evicting the least recently used entries beyond capacity. */
  set(stream: string, state: Replay.TaskState | null): void {
    this.#entries.delete(stream)
    this.#entries.set(stream, state)
    while (this.#entries.size > this.capacity) {
      let next = this.#oldest?.next()
      if (next === undefined || next.done === true) {
        this.#oldest = this.#entries.keys()
        next = this.#oldest.next()
      }
      this.#entries.delete(next.value as string)
    }
  }
  /** Forgets everything (after a rebuild). */
  clear(): void {
    this.#entries.clear()
    this.#oldest = undefined
  }
}

/** What is durable: the head, the schedule log's head, the status counters and recently used stream states. */
export interface View {
  head: number
  scheduleHead: number
  counts: Record<TaskStatus, number>
  readonly cache: StateCache
}

/** Zero for every status. */
export const emptyCounts = (): Record<TaskStatus, number> =>
  Object.fromEntries(taskStatuses.map((status) => [status, 0])) as Record<TaskStatus, number>

const decodeState = Schema.decodeUnknownSync(Replay.TaskState)

/** Parses a stored task summary; a bad record is a StoreError. */
export const parseState = (operation: string, json: string): Replay.TaskState => {
  try {
    return decodeState(JSON.parse(json))
  } catch (cause) {
    throw new StoreError({ operation, reason: `stored task summary does not decode: ${String(cause)}` })
  }
}

/** Writes the projection changes of one stream (state before -> after) into the batch and the counters. */
export const writeProjections = (
  batch: Records,
  stream: string,
  before: Replay.TaskState,
  after: Replay.TaskState,
  counts: Record<TaskStatus, number>,
  claimIdempotencyKey: (key: string) => boolean,
): void => {
  batch.put(Keys.task(stream), JSON.stringify(after))
  if (!Keys.sameIndexRecords(before, after)) {
    // Usually only the status key changes; every record's value is the task id.
    const old = Keys.indexKeys(before)
    const now = Keys.indexKeys(after)
    for (const key of old) if (!now.includes(key)) batch.del(key)
    for (const key of now) if (!old.includes(key)) batch.put(key, after.context.taskId)
  }
  const was = Keys.countedStatus(before)
  const is = Keys.countedStatus(after)
  if (was !== is) {
    if (was !== undefined) counts[was] -= 1
    if (is !== undefined) counts[is] += 1
  }
  const key = after.context.idempotencyKey
  if (before.status === "untriggered" && key !== undefined && claimIdempotencyKey(key)) batch.put(Keys.idempotency(key), stream)
}

/** Writes the counters that changed; a zero counter has no key (so a rebuild writes the same records). */
export const writeCounts = (batch: Records, before: Record<TaskStatus, number>, after: Record<TaskStatus, number>): void => {
  for (const status of taskStatuses) {
    if (before[status] === after[status]) continue
    if (after[status] === 0) batch.del(Keys.count(status))
    else batch.put(Keys.count(status), String(after[status]))
  }
}

const matches = (expected: AppendRequest["expectedVersion"], actual: number): boolean =>
  expected === "any" || (expected === "noStream" ? actual === 0 : expected === actual)

/** Checks one append against `current` and folds it; its events get positions after `head`. */
const fold = (request: AppendRequest, current: Replay.TaskState, head: number): Outcome => {
  const { stream, expectedVersion, events } = request
  const version = current.context.version
  if (!matches(expectedVersion, version)) {
    return { _tag: "refused", error: new ConcurrencyConflict({ stream, expected: expectedVersion, actual: version }) }
  }
  const recorded = events.map((e, i): RecordedEvent => ({ id: e.id, stream, version: version + 1 + i, position: head + 1 + i, at: e.at, event: e.event }))
  const first = recorded[0]
  if (first !== undefined && version === 0 && first.event._tag === "TaskTriggered" && first.event.taskId !== stream) {
    const reason = `TaskTriggered names task ${first.event.taskId}, not the stream it is appended to`
    return { _tag: "refused", error: new InvalidTransition({ stream, position: first.position, state: current.status, event: first.event._tag, reason }) }
  }
  const next = Replay.replay(recorded, current)
  if (next instanceof Replay.ReplayError) {
    const { position, state, event, reason } = next
    return { _tag: "refused", error: new InvalidTransition({ stream, position, state, event, reason }) }
  }
  return { _tag: "accepted", result: { version: next.context.version, events: recorded, state: next } }
}

/** A sealed group: what to commit into the view once its batch is durable. */
export interface Sealed {
  readonly head: number
  readonly counts: Record<TaskStatus, number>
  readonly states: ReadonlyMap<string, Replay.TaskState | null>
  /** The schedule log's head after this group (undefined: it wrote no schedule record). */
  readonly scheduleHead: number | undefined
}

/** A group commit under construction, writing into `batch`. */
export class Group<B extends Records | undefined = Records> {
  /** Every append taken, in order, with its outcome. */
  readonly entries: Array<{ readonly job: AppendJob; readonly outcome: Outcome }> = []
  /** Accepted events in position order. */
  readonly events: Array<RecordedEvent> = []
  /** Their envelopes (TaskEvent.encodeEnvelope), in the same order. */
  readonly envelopes: Array<string> = []
  /** Each touched stream's state before this group (null: absent). */
  readonly before = new Map<string, Replay.TaskState | null>()
  /** Each stream's state after this group's accepted appends so far. */
  readonly after = new Map<string, Replay.TaskState>()
  /** Idempotency keys this group gives to its new tasks. */
  readonly claimed = new Set<string>()
  /** Schedule appends taken, in order, each with the sequence number of its last record. */
  readonly schedules: Array<{ readonly job: ScheduleJob; readonly seq: number }> = []

  constructor(
    /** Where the records go; none for a store that maps the events, envelopes and states onto its own tables (it does not `seal`). */
    readonly batch: B,
    /** The position before this group's first event. */
    readonly start: number,
  ) {}

  /** The position of the group's last event (so far). */
  get head(): number {
    return this.start + this.events.length
  }

  /** Whether the group has a stream's state (so `add` needs no `before` for it). */
  knows(stream: string): boolean {
    return this.before.has(stream)
  }

  /** Refuses one append without looking at it (a check the store made before folding). */
  refuse(job: AppendJob, error: AppendError): void {
    this.entries.push({ job, outcome: { _tag: "refused", error } })
  }

  /** Validates, folds and batches one append; `before` is the stream's state before this group if not known yet. */
  add(job: AppendJob, before: Replay.TaskState | null): Outcome {
    const { stream } = job.request
    if (!this.before.has(stream)) this.before.set(stream, before)
    const current = this.after.get(stream) ?? this.before.get(stream) ?? Replay.initial
    let outcome: Outcome
    try {
      outcome = fold(job.request, current, this.head)
    } catch (cause) {
      outcome = { _tag: "refused", error: new StoreError({ operation: "append", reason: `the events cannot be folded: ${String(cause)}` }) }
    }
    if (outcome._tag === "accepted" && outcome.result.events.length > 0) {
      try {
        const recorded = outcome.result.events
        const envelopes = recorded.map(encodeEnvelope)
        if (this.batch !== undefined) {
          for (let i = 0; i < recorded.length; i++) this.batch.put(Keys.log(recorded[i]!.position), envelopes[i]!)
          const first = recorded[0]!
          this.batch.put(Keys.streamEvent(stream, first.version), Keys.streamRun(first.position, recorded.length))
        }
        for (const e of recorded) this.events.push(e)
        for (const e of envelopes) this.envelopes.push(e)
        this.after.set(stream, outcome.result.state)
      } catch (cause) {
        outcome = { _tag: "refused", error: new StoreError({ operation: "append", reason: `event does not encode: ${String(cause)}` }) }
      }
    }
    this.entries.push({ job, outcome })
    return outcome
  }

  /** Batches one schedule append; `head` is the schedule log's head before this group (used by its first one). */
  addSchedule(job: ScheduleJob, head: number): void {
    let seq = this.schedules.at(-1)?.seq ?? head
    for (const record of job.encoded) {
      seq += 1
      this.batch?.put(Keys.schedule(seq), record)
    }
    this.schedules.push({ job, seq })
  }

  /** Idempotency keys of the tasks this group creates (to look up their owners before sealing). */
  newKeys(): Array<string> {
    const keys: Array<string> = []
    for (const [stream, after] of this.after) {
      const key = after.context.idempotencyKey
      if (key !== undefined && (this.before.get(stream) ?? null) === null) keys.push(key)
    }
    return keys
  }

  /** Each touched stream's state after this group (null: absent). */
  states(): Map<string, Replay.TaskState | null> {
    // Every touched stream has a `before`; its state is the `after`, if any append to it was accepted.
    const states = new Map<string, Replay.TaskState | null>()
    for (const [stream, before] of this.before) states.set(stream, this.after.get(stream) ?? before)
    return states
  }

  /** Adds the projection changes, counters and head to the batch; `taken` tells whether a key already has an owner. */
  seal(this: Group<Records>, counts: Record<TaskStatus, number>, taken: (key: string) => boolean): Sealed {
    const batch = this.batch
    const next = { ...counts }
    const claim = (key: string) => !taken(key) && !this.claimed.has(key) && (this.claimed.add(key), true)
    for (const [stream, after] of this.after) writeProjections(batch, stream, this.before.get(stream) ?? Replay.initial, after, next, claim)
    writeCounts(batch, counts, next)
    if (this.events.length > 0) batch.put(Keys.head, String(this.head))
    return { head: this.head, counts: next, states: this.states(), scheduleHead: this.schedules.at(-1)?.seq }
  }
}

/** Applies a durable group to the view. */
export const commit = (view: View, sealed: Sealed): void => {
  view.head = sealed.head
  view.counts = sealed.counts
  if (sealed.scheduleHead !== undefined) view.scheduleHead = sealed.scheduleHead
  for (const [stream, state] of sealed.states) view.cache.set(stream, state)
}
