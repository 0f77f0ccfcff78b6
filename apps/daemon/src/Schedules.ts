/**
 * The schedules service: adds, lists, pauses, resumes and removes recurring
 * schedules, fires their due slots, and answers a schedule's history.
 *
 * Storage: every change is a `ScheduleEvent` record in the event store's
 * schedule log (`EventStore.appendSchedule`), durable before the call
 * returns; records are appended one at a time, in the order they are applied
 * here. A removed schedule's records stay, so `history` answers for any id
 * that ever had a record (ending in its removal); an id with none is
 * `UnknownSchedule`.
 *
 * Lifecycle: the layer reads the schedule log (importing the file of an
 * earlier version once, `ScheduleLog.importFile`), folds it into the current
 * schedules and forks one loop into the layer's scope. Each round the loop
 * asks `Schedule.dueSlots` (pure) for every active schedule, fires the due
 * slots oldest first, then sleeps until the earliest next slot (at most 1 s,
 * so schedules added or resumed meanwhile are seen within a second). Closing
 * the scope stops the loop.
 *
 * Firing a slot triggers the definition with the schedule's input and the
 * idempotency key `schedule:<id>:<ISO slot>`, then records the slot as
 * fired. A crash between the two leaves the slot due at the next start; its
 * trigger then finds the task the key already owns, so a slot never runs
 * twice. While the task of the schedule's last firing has not finished, a
 * slot is recorded as skipped (`overlap: "skip"`), fired anyway (`allow`), or
 * recorded as held (`queue`, `Schedule.onSlotDue`). Each round first releases
 * a held slot whose task has finished (`Schedule.releaseQueued`): it fires
 * with its own slot's idempotency key, so it too fires at most once across a
 * crash. While a slot is held the loop wakes every 250 ms to see the task
 * finish; a paused schedule keeps its held slot and releases it after
 * resuming. A slot whose trigger is
 * refused (input no longer valid, definition gone) is recorded with the
 * error and not retried; a storage failure is retried next round.
 *
 * Declared schedules: a definition's `schedules` are brought in step at
 * every start, before the loop runs ({@link declaredId} is each one's stable
 * id, `<definition id>.<name>`). One that is new is created; one whose cron,
 * zone, input, overlap or catch-up changed is updated (paused state, cursor
 * and held slot kept; a new cron or zone fires no slot from before it); one
 * that no loaded definition declares any more (the definition dropped it, or
 * is gone) is removed, its pause with it. A declared schedule's input is
 * checked against its definition's input schema here: invalid input fails
 * the start with `InvalidDefinition` naming the class and the schedule. A
 * user may pause, resume, trigger and remove a declared schedule; one removed
 * by hand comes back at the next start while the definition declares it.
 *
 * In a cluster every node serves the schedules RPCs, and the log is shared:
 * a node reads the records other nodes appended before it answers, before it
 * appends, and at each round, so every node shows the same schedules. Only
 * one node fires slots: the live node whose id sorts first (when it dies,
 * the next one takes over within a lease); the idempotency keys make a slot
 * fired by two nodes during a handover run once.
 */
import { randomBytes } from "node:crypto"
import { Clock, Context, type Cron, Duration, Effect, Layer, Result, Semaphore } from "effect"
import { EventStore, type Replay, Schedule, ScheduleEvent, type StoreErrors, TaskMachine, TaskRpc } from "@tasklane/core"
import type { Ids } from "@tasklane/core"
import { TaskDefinition } from "@tasklane/tasks"
import { Cluster } from "./Cluster.ts"
import { Registry } from "./Registry.ts"
import * as ScheduleLog from "./ScheduleLog.ts"
import * as TaskErrors from "./TaskErrors.ts"
import { Tasks, type TriggerError } from "./Tasks.ts"

/** What ScheduleAdd asks for. */
export interface AddRequest {
  readonly definitionId: string
  readonly cron: string
  readonly tz?: string | undefined
  readonly input?: unknown
  readonly name?: string | undefined
  readonly overlap?: Schedule.Overlap | undefined
  readonly catchUp?: Schedule.CatchUp | undefined
}

/** The schedules service. */
export class Schedules extends Context.Service<
  Schedules,
  {
    /** Validates (cron, zone, input) and stores a new schedule. */
    readonly add: (
      request: AddRequest,
    ) => Effect.Effect<
      Schedule.ScheduleInfo,
      TaskRpc.InvalidInput | TaskErrors.InvalidField | TaskErrors.DefinitionNotFound | TaskErrors.StorageFailed
    >
    /** Every schedule, oldest first, with its next due time, next runs and latest firings (with their tasks' status). */
    readonly list: Effect.Effect<ReadonlyArray<Schedule.ScheduleInfo>>
    readonly pause: (id: string) => Effect.Effect<Schedule.ScheduleInfo, Schedule.UnknownSchedule | TaskErrors.StorageFailed>
    readonly resume: (id: string) => Effect.Effect<Schedule.ScheduleInfo, Schedule.UnknownSchedule | TaskErrors.StorageFailed>
    readonly remove: (id: string) => Effect.Effect<void, Schedule.UnknownSchedule | TaskErrors.StorageFailed>
    /** Triggers the schedule's definition now, outside its slots. */
    readonly triggerNow: (id: string) => Effect.Effect<Replay.TaskState, Schedule.UnknownSchedule | TriggerError>
    /** Every record of the schedule, oldest first (a removed schedule's too, ending in its removal). */
    readonly history: (id: string) => Effect.Effect<ReadonlyArray<ScheduleEvent.ScheduleEvent>, Schedule.UnknownSchedule | TaskErrors.StorageFailed>
  }
>()("@tasklane/daemon/Schedules") {}

/** Where an earlier version kept the schedules (`<data dir>/schedules.jsonl`), to import once. */
export interface Options {
  readonly legacyFile?: string
}

const invalid = (field: string, reason: string) => new TaskErrors.InvalidField({ field, reason })

/** The stable id of the schedule `name` declared by definition `definitionId`. */
export const declaredId = (definitionId: string, name: string): string => `${definitionId}.${name}`

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

const storeError = (what: string) => (e: StoreErrors.StoreError) => TaskErrors.storageFailed(e, what)

/** The live service over the event store's schedule log and the task service. */
export const layer = (options: Options = {}) =>
  Layer.effect(
    Schedules,
    Effect.gen(function*() {
      const tasks = yield* Tasks
      const store = yield* EventStore.EventStore
      const cluster = yield* Cluster
      const shared = cluster.membership !== undefined
      const stored = yield* store.readSchedules.pipe(Effect.mapError(storeError("cannot read the schedule log")))
      const records = options.legacyFile === undefined ? stored : yield* ScheduleLog.importFile(options.legacyFile, store, stored)
      let schedules = ScheduleEvent.fold(records)
      // The latest firing records per schedule (newest last), for ScheduleList's `recentFirings`.
      const firings = new Map<string, Array<ScheduleEvent.ScheduleFired | ScheduleEvent.ScheduleTriggered>>()
      const remember = (entry: ScheduleEvent.ScheduleEvent) => {
        if (entry._tag === "ScheduleRemoved") return void firings.delete(entry.id)
        if (entry._tag !== "ScheduleFired" && entry._tag !== "ScheduleTriggered") return
        const kept = firings.get(entry.id) ?? []
        kept.push(entry)
        if (kept.length > Schedule.listedFirings) kept.shift()
        firings.set(entry.id, kept)
      }
      for (const entry of records) remember(entry)
      // Ids are never reused, removed ones included: a new schedule must not inherit an old one's idempotency keys.
      // The exception is a declared schedule's stable id, re-created when declared again after a removal: its
      // cursor starts at its new creation, after every slot the removed one handled, so no key repeats.
      const usedIds = new Set(records.map((entry) => entry.id))

      const applyOne = (entry: ScheduleEvent.ScheduleEvent) => {
        schedules = ScheduleEvent.apply(schedules, entry)
        remember(entry)
        usedIds.add(entry.id)
        if (entry._tag === "ScheduleUpdated") crons.delete(entry.id)
      }
      // Records of the shared log applied here so far (cluster mode: others append too).
      let applied = records.length
      /** Applies what other nodes appended since (cluster mode; alone, every record is this node's own). */
      const refresh = shared
        ? Effect.flatMap(store.readSchedules.pipe(Effect.mapError(storeError("cannot read the schedule log"))), (all) =>
          Effect.sync(() => {
            for (const entry of all.slice(applied)) applyOne(entry)
            applied = Math.max(applied, all.length)
          }))
        : Effect.void

      // One record at a time: each is applied here in the order the store numbered them.
      const writing = yield* Semaphore.make(1)
      const record = (entry: ScheduleEvent.ScheduleEvent) =>
        writing.withPermits(1)(
          shared
            ? Effect.andThen(store.appendSchedule([entry]).pipe(Effect.mapError(storeError("cannot write the schedule log"))), refresh)
            : store.appendSchedule([entry]).pipe(
              Effect.mapError(storeError("cannot write the schedule log")),
              Effect.tap(() =>
                Effect.sync(() => {
                  applyOne(entry)
                  applied++
                })
              ),
              Effect.asVoid,
            ),
        )
      /** `effect` on the schedules as the shared log has them now. */
      const current = <A, E, R>(effect: Effect.Effect<A, E, R>) => (shared ? Effect.andThen(writing.withPermits(1)(refresh), effect) : effect)
      /** Whether this node fires slots: alone always; in a cluster, the live node whose id sorts first. */
      const firesSlots = shared
        ? Effect.map(cluster.nodes, (nodes) => nodes.filter((n) => n.live).map((n) => n.id).sort()[0] === cluster.nodeId)
        : Effect.succeed(true)

      // Parsed once per schedule. A stored cron was checked at add; one that no longer parses (a zone gone from
      // this Node's ICU data) is undefined: the schedule is listed without a next run and does not fire.
      const crons = new Map<string, Cron.Cron | undefined>()
      const cronOf = (state: ScheduleEvent.ScheduleState) => {
        if (!crons.has(state.id)) crons.set(state.id, Result.getOrUndefined(Schedule.parseCron(state.cron, state.tz)))
        return crons.get(state.id)
      }
      const dueOf = (state: ScheduleEvent.ScheduleState, now: number) => {
        const cron = cronOf(state)
        return cron === undefined ? undefined : Schedule.dueSlots({ ...state, cron }, now)
      }

      const info = (state: ScheduleEvent.ScheduleState, now: number) =>
        new Schedule.ScheduleInfo({
          ...state,
          source: state.source ?? "user",
          ...(state.paused ? {} : { nextDue: dueOf(state, now)?.nextDue }),
        })

      /** A firing record as clients see it, with its task's current status. */
      const firingOf = (entry: ScheduleEvent.ScheduleFired | ScheduleEvent.ScheduleTriggered) =>
        Effect.gen(function*() {
          const status = entry.taskId === undefined
            ? undefined
            : yield* tasks.get(entry.taskId as Ids.TaskId).pipe(
              Effect.map((task) => task.status),
              // A firing whose task is gone (deleted, pruned) is listed without a status; so is one whose task could not be read.
              Effect.catch((error) =>
                Effect.as(error._tag === "TaskNotFound" ? Effect.void : Effect.logDebug(`schedule ${entry.id}: status of task ${entry.taskId} left out`, error), undefined)
              ),
            )
          const outcome = entry._tag === "ScheduleTriggered"
            ? "manual"
            : entry.queued === true
            ? "queued"
            : entry.skipped !== undefined
            ? "skipped"
            : entry.error !== undefined
            ? "refused"
            : "fired"
          return new Schedule.Firing({
            at: entry.at,
            outcome,
            ...(entry._tag === "ScheduleFired" ? { slot: entry.slot } : {}),
            ...(entry.taskId === undefined ? {} : { taskId: entry.taskId }),
            ...(status === undefined ? {} : { status }),
            ...(entry._tag === "ScheduleFired" && entry.error !== undefined ? { error: entry.error } : {}),
          })
        })

      /** A schedule as ScheduleList reports it: with its next runs and latest firings. */
      const listed = (state: ScheduleEvent.ScheduleState, now: number) =>
        Effect.gen(function*() {
          const cron = state.paused ? undefined : cronOf(state)
          const recentFirings = yield* Effect.forEach([...(firings.get(state.id) ?? [])].reverse(), firingOf)
          return new Schedule.ScheduleInfo({
            ...info(state, now),
            recentFirings,
            ...(cron === undefined ? {} : { nextRuns: Schedule.nextSlots(cron, now, Schedule.listedNextRuns) }),
          })
        })

      const existing = (id: string) =>
        Effect.suspend(() => {
          const state = schedules.get(id)
          return state === undefined ? Effect.fail(new Schedule.UnknownSchedule({ scheduleId: id })) : Effect.succeed(state)
        })

      const withInfo = (id: string) => Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.map(existing(id), (state) => info(state, now)))

      const add = (request: AddRequest) =>
        Effect.gen(function*() {
          const parsed = Schedule.parseCron(request.cron, request.tz)
          if (Result.isFailure(parsed)) return yield* invalid(parsed.failure.field, parsed.failure.reason)
          if (request.name !== undefined && request.name.length > TaskRpc.maxNameLength) {
            return yield* invalid("name", `the schedule name is ${request.name.length} characters long; at most ${TaskRpc.maxNameLength} are allowed`)
          }
          const input = request.input ?? {}
          yield* tasks.validateInput(request.definitionId, input)
          let id = ""
          do id = `s${randomBytes(5).toString("hex")}`
          while (usedIds.has(id))
          usedIds.add(id)
          const at = yield* Clock.currentTimeMillis
          yield* record(
            new ScheduleEvent.ScheduleCreated({
              id,
              at,
              definitionId: request.definitionId,
              cron: request.cron,
              input,
              overlap: request.overlap ?? "skip",
              catchUp: request.catchUp ?? "one",
              ...(request.name === undefined ? {} : { name: request.name }),
              ...(request.tz === undefined ? {} : { tz: request.tz }),
            }),
          )
          return yield* Effect.orDie(withInfo(id))
        })

      const setPaused = (id: string, paused: boolean) =>
        Effect.gen(function*() {
          const state = yield* existing(id)
          if (state.paused !== paused) {
            const at = yield* Clock.currentTimeMillis
            yield* record(paused ? new ScheduleEvent.SchedulePaused({ id, at }) : new ScheduleEvent.ScheduleResumed({ id, at }))
          }
          return yield* withInfo(id)
        })

      const triggerOf = (state: ScheduleEvent.ScheduleState, idempotencyKey: string) =>
        tasks.trigger({
          definitionId: state.definitionId,
          input: state.input,
          name: state.name ?? `schedule ${state.id}`,
          idempotencyKey,
          allowPrivate: true,
        })

      /** Whether the schedule's last task is still unfinished (overlap). */
      const busy = (state: ScheduleEvent.ScheduleState) =>
        state.lastTaskId === undefined
          ? Effect.succeed(false)
          : tasks.get(state.lastTaskId as Ids.TaskId).pipe(
            Effect.map((task) => !TaskMachine.isFinal(task.status)),
            Effect.catchTag("TaskNotFound", () => Effect.succeed(false)),
          )

      /** Handles one due slot by the overlap decision and records it; a storage failure leaves it due. */
      const fire = (state: ScheduleEvent.ScheduleState, slot: number) =>
        Effect.gen(function*() {
          const at = yield* Clock.currentTimeMillis
          const isBusy = state.overlap === "allow" ? false : yield* busy(state)
          switch (Schedule.onSlotDue(state.overlap, isBusy, state.queuedSlot !== undefined)) {
            case "skip":
              return yield* record(new ScheduleEvent.ScheduleFired({ id: state.id, at, slot, skipped: "overlap" }))
            case "queue":
              return yield* record(new ScheduleEvent.ScheduleFired({ id: state.id, at, slot, queued: true }))
            case "fire":
              return yield* trigger(state, slot)
          }
        })

      /** Triggers the slot's task and records the firing (with the task, or the refusal). */
      const trigger = (state: ScheduleEvent.ScheduleState, slot: number) =>
        Effect.gen(function*() {
          const at = yield* Clock.currentTimeMillis
          const fired = yield* Effect.result(triggerOf(state, Schedule.idempotencyKey(state.id, slot)))
          if (Result.isFailure(fired) && fired.failure._tag === "StorageFailed") return yield* fired.failure
          if (Result.isFailure(fired)) {
            yield* Effect.logWarning(`schedule ${state.id}: slot ${new Date(slot).toISOString()} not fired: ${fired.failure.message}`)
            return yield* record(new ScheduleEvent.ScheduleFired({ id: state.id, at, slot, error: fired.failure.message }))
          }
          return yield* record(new ScheduleEvent.ScheduleFired({ id: state.id, at, slot, taskId: fired.success.context.taskId }))
        })

      /** One round: fires every due slot; answers how long to sleep. */
      const round = Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        let wake = now + 1000
        if (!(yield* firesSlots)) return 1000
        yield* writing.withPermits(1)(refresh)
        for (const state of schedules.values()) {
          if (state.paused) continue
          if (state.queuedSlot !== undefined) {
            const released = Schedule.releaseQueued(state.queuedSlot, yield* busy(state))
            if (released === undefined) wake = Math.min(wake, now + 250)
            else yield* trigger(state, released)
          }
          const due = dueOf(state, now)
          if (due === undefined) continue
          wake = Math.min(wake, due.nextDue)
          for (const slot of due.slots) {
            const current = schedules.get(state.id)
            if (current === undefined || current.paused) break
            yield* fire(current, slot)
          }
        }
        return Math.max(0, wake - (yield* Clock.currentTimeMillis))
      })

      /** Creates, updates and removes declared schedules to match the loaded definitions (see the module header). */
      const syncDeclared = Effect.gen(function*() {
        const registry = yield* Registry
        const declared = new Set<string>()
        for (const { definition } of registry.all) {
          for (const declaration of definition.schedules) {
            const id = declaredId(definition.id, declaration.name)
            const input = declaration.input ?? {}
            yield* tasks.validateInput(definition.id, input).pipe(
              Effect.mapError((error) =>
                new TaskDefinition.InvalidDefinition({
                  className: definition.className,
                  id: definition.id,
                  reasons: [`schedule "${declaration.name}" has invalid input: ${error.message}`],
                })
              ),
            )
            declared.add(id)
            usedIds.add(id)
            const settings = {
              cron: declaration.cron,
              input,
              overlap: declaration.overlap ?? "skip",
              catchUp: declaration.catchUp ?? "one",
              ...(declaration.tz === undefined ? {} : { tz: declaration.tz }),
            } as const
            const current = schedules.get(id)
            const at = yield* Clock.currentTimeMillis
            if (current === undefined) {
              yield* record(
                new ScheduleEvent.ScheduleCreated({ id, at, definitionId: definition.id, name: declaration.name, source: "definition", ...settings }),
              )
              yield* Effect.logInfo(`schedules: ${id} declared by ${definition.className}: created`)
            } else if (
              current.cron !== settings.cron || current.tz !== declaration.tz || !sameJson(current.input, settings.input) ||
              current.overlap !== settings.overlap || current.catchUp !== settings.catchUp
            ) {
              yield* record(new ScheduleEvent.ScheduleUpdated({ id, at, ...settings }))
              yield* Effect.logInfo(`schedules: ${id} declared by ${definition.className}: updated`)
            }
          }
        }
        for (const state of schedules.values()) {
          if (state.source !== "definition" || declared.has(state.id)) continue
          yield* record(new ScheduleEvent.ScheduleRemoved({ id: state.id, at: yield* Clock.currentTimeMillis }))
          yield* Effect.logInfo(`schedules: ${state.id} is no longer declared by ${state.definitionId}: removed`)
        }
      })
      yield* syncDeclared

      const loop = Effect.forever(
        round.pipe(
          Effect.catch((error) => Effect.as(Effect.logError(`schedules: ${error.message}; retrying`, error), 1000)),
          Effect.flatMap((millis) => Effect.sleep(Duration.millis(millis))),
        ),
      )
      yield* Effect.forkScoped(loop)

      return {
        add: (request) => current(add(request)),
        // A listing shows what this node has when the shared log cannot be read.
        list: Effect.andThen(
          current(Effect.void).pipe(Effect.catch((error) => Effect.logWarning(`schedules: listed without other nodes' latest changes: ${error.message}`))),
          Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.forEach([...schedules.values()], (state) => listed(state, now))),
        ),
        pause: (id) => current(setPaused(id, true)),
        resume: (id) => current(setPaused(id, false)),
        remove: (id) =>
          current(Effect.gen(function*() {
            yield* existing(id)
            yield* record(new ScheduleEvent.ScheduleRemoved({ id, at: yield* Clock.currentTimeMillis }))
          })),
        triggerNow: (id) =>
          current(Effect.gen(function*() {
            const state = yield* existing(id)
            const at = yield* Clock.currentTimeMillis
            const task = yield* triggerOf(state, `schedule:${id}:now:${new Date(at).toISOString()}`)
            yield* record(new ScheduleEvent.ScheduleTriggered({ id, at, taskId: task.context.taskId }))
            return task
          })),
        history: (id) =>
          store.readSchedules.pipe(
            Effect.mapError(storeError("cannot read the schedule log")),
            Effect.map((all) => all.filter((entry) => entry.id === id)),
            Effect.filterOrFail((own) => own.length > 0, () => new Schedule.UnknownSchedule({ scheduleId: id })),
          ),
      }
    }),
  )
