/**
 * The command side of the daemon: trigger, abort and every lifecycle command
 * the runner issues go through here. A command is decided against the task's
 * current projection (`Lifecycle.decide`) and appended with that projection's
 * version as the expected version; a concurrent writer (an abort arriving
 * while the runner records a result) makes the append conflict, and the
 * command is decided again on the fresh state. Nothing is stored for a
 * refused trigger (invalid input, onBeforeTrigger threw, unknown definition).
 *
 * Errors are the command side's own (`TaskErrors`; invalid input stays
 * `TaskRpc.InvalidInput`): a store failure is `StorageFailed` with the
 * store's error as its cause. Callers inside the daemon match on them; the
 * edges (`WireErrors`) turn them into the contract's wire errors.
 *
 * Hot path: a trigger without an idempotency key, parent or onBeforeTrigger,
 * and every command the runner records, run as short Effect pipelines over
 * synchronous steps (no generators: each costs microseconds per call); the
 * rare paths keep `Effect.gen`.
 */
import { randomFillSync } from "node:crypto"
import { Clock, Context, Effect, Layer } from "effect"
import { EventStore, Ids, Lifecycle, Replay, StoreErrors, TaskMachine, TaskRpc } from "@tasklane/core"
import type { TaskEvent } from "@tasklane/core"
import { TaskDefinition, WakeAt } from "@tasklane/tasks/host"
import { Cluster } from "./Cluster.ts"
import { Isolation } from "./Isolation.ts"
import { Registry, type Entry } from "./Registry.ts"
import { allTasks } from "./internal/AllTasks.ts"
import { Slots } from "./Slots.ts"
import * as TaskErrors from "./TaskErrors.ts"

/** A trigger request, from a client or from a running task (child). */
export interface TriggerRequest {
  readonly definitionId: string
  readonly input: unknown
  readonly name?: string | undefined
  readonly delaySeconds?: number | undefined
  readonly idempotencyKey?: string | undefined
  readonly parentId?: Ids.TaskId | undefined
  readonly forkedFrom?: { readonly taskId: Ids.TaskId; readonly iteration: number } | undefined
  /** Clients may not trigger private definitions; running tasks may. */
  readonly allowPrivate?: boolean | undefined
}

/** What a trigger can fail with (the RPC edge maps it to `TaskRpc.TriggerError`). */
export type TriggerError =
  | TaskRpc.InvalidInput
  | TaskErrors.InvalidField
  | TaskErrors.DefinitionNotFound
  | TaskErrors.TriggerVetoed
  | TaskErrors.TaskNotFound
  | TaskErrors.ActionNotAllowed
  | TaskErrors.StorageFailed

/** One `triggerMany` item that was refused; nothing was stored for it. */
export interface ItemRefused {
  readonly _tag: "TriggerItemRefused"
  readonly error: TriggerError
}

/** The outcome of one `triggerMany` item, at the item's index. */
export type TriggerOutcome = TaskRpc.Triggered | ItemRefused

/** The task service. */
export class Tasks extends Context.Service<
  Tasks,
  {
    /** Validates and stores a new task (or returns the one with the same idempotency key). */
    readonly trigger: (request: TriggerRequest) => Effect.Effect<Replay.TaskState, TriggerError>
    /** Many triggers in one go, answered per item in order (see `TaskRpc`'s TriggerMany); fails only when there are too many. */
    readonly triggerMany: (
      requests: ReadonlyArray<TriggerRequest>,
    ) => Effect.Effect<ReadonlyArray<TriggerOutcome>, TaskErrors.BatchTooLarge>
    /** Checks input against the definition's schema as a trigger would, without onBeforeTrigger and without storing anything. */
    readonly validateInput: (definitionId: string, input: unknown) => Effect.Effect<void, TaskRpc.InvalidInput | TaskErrors.DefinitionNotFound>
    /** Decides and records a lifecycle command on an existing task. */
    readonly execute: (
      taskId: Ids.TaskId,
      command: Lifecycle.Command,
    ) => Effect.Effect<Replay.TaskState, Lifecycle.CommandRejected | TaskErrors.TaskNotFound | TaskErrors.StorageFailed>
    /** Aborts a task and, recursively, its children that have not finished. */
    readonly abort: (
      taskId: Ids.TaskId,
      message: string | undefined,
    ) => Effect.Effect<Replay.TaskState, TaskErrors.ActionNotAllowed | TaskErrors.TaskNotFound | TaskErrors.StorageFailed>
    /** The task's current state. */
    readonly get: (taskId: Ids.TaskId) => Effect.Effect<Replay.TaskState, TaskErrors.TaskNotFound | TaskErrors.StorageFailed>
    /** The task's state as commands are first decided on (the store's `getTaskToAppend`: in a cluster, possibly older than the stored one). */
    readonly getToAppend: (taskId: Ids.TaskId) => Effect.Effect<Replay.TaskState, TaskErrors.TaskNotFound | TaskErrors.StorageFailed>
  }
>()("@tasklane/daemon/Tasks") {}

// Random bytes for ids come from a pool refilled 4 KiB at a time (one call per ~400 ids).
const pool = new Uint8Array(4096)
let poolOffset = pool.length
const randomBytes = (n: number): Uint8Array => {
  if (poolOffset + n > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  poolOffset += n
  return pool.subarray(poolOffset - n, poolOffset)
}

/** Events with their ids and time, ready to append (plain code: a batch stamps all its items without a yield in between). */
const stamp = (events: ReadonlyArray<TaskEvent.TaskEvent>, at: number): ReadonlyArray<TaskEvent.NewEvent> =>
  events.map((event) => ({ id: Ids.uuidv7(at, randomBytes(10)) as Ids.EventId, at, event }))

/** The state after an append's first event (its TaskTriggered), from the state before it. */
const stateAfterTrigger = (appended: EventStore.AppendResult): Replay.TaskState => {
  const state = Replay.replay(appended.events.slice(0, 1))
  return state instanceof Replay.ReplayError ? appended.state : state
}

/** The live task service over the event store and the registry; a trigger that starts at once records this daemon's node (cluster mode). */
export const layer = Layer.effect(
  Tasks,
  Effect.gen(function*() {
    const store = yield* EventStore.EventStore
    const { nodeId } = yield* Cluster
    const registry = yield* Registry
    const isolation = yield* Isolation
    const slots = yield* Slots
    const clock = yield* Clock.Clock
    const now = () => clock.currentTimeMillisUnsafe()
    const inFlightKeys = new Map<string, Promise<unknown>>()

    const found = (taskId: Ids.TaskId) => (state: Replay.TaskState | undefined) =>
      state === undefined || state.context.deleted === true ? Effect.fail(new TaskErrors.TaskNotFound({ taskId })) : Effect.succeed(state)

    const get = (taskId: Ids.TaskId): Effect.Effect<Replay.TaskState, TaskErrors.TaskNotFound | TaskErrors.StorageFailed> =>
      Effect.matchEffect(store.getTask(taskId), { onFailure: (error) => Effect.fail(TaskErrors.storageFailed(error)), onSuccess: found(taskId) })

    const getToAppend = (taskId: Ids.TaskId): Effect.Effect<Replay.TaskState, TaskErrors.TaskNotFound | TaskErrors.StorageFailed> =>
      Effect.matchEffect(store.getTaskToAppend(taskId), { onFailure: (error) => Effect.fail(TaskErrors.storageFailed(error)), onSuccess: found(taskId) })

    /**
     * Decides `command` on the task's state and appends its events. The first
     * try decides on the state the store keeps for appending (in a cluster,
     * possibly older than the stored one); a conflicting writer, or a decision
     * that appends nothing (a refusal, nothing to do), decides again on the
     * stored state.
     */
    const execute = (
      taskId: Ids.TaskId,
      command: Lifecycle.Command,
      attempt = 1,
    ): Effect.Effect<Replay.TaskState, Lifecycle.CommandRejected | TaskErrors.TaskNotFound | TaskErrors.StorageFailed> =>
      Effect.flatMap(
        attempt === 1 ? getToAppend(taskId) : get(taskId),
        (state) => {
          const options = registry.get(state.context.definitionId)?.decideOptions ?? {}
          const events = Lifecycle.decide(state, command, options)
          const appendsNothing = events instanceof Lifecycle.CommandRejected || events.length === 0
          if (appendsNothing && attempt === 1) return execute(taskId, command, 2)
          if (events instanceof Lifecycle.CommandRejected) return Effect.fail(events)
          if (events.length === 0) return Effect.succeed(state)
          const request = { stream: taskId, expectedVersion: state.context.version, events: stamp(events, now()) }
          return Effect.matchEffect(store.append(request), {
            onSuccess: (appended) => Effect.succeed(appended.state),
            onFailure: (error) =>
              error._tag === "ConcurrencyConflict" && attempt < 20 ? execute(taskId, command, attempt + 1) : Effect.fail(TaskErrors.storageFailed(error)),
          })
        },
      )

    /** The definition and the decoded input, or why the input is refused; no side effects. */
    const checkInput = (
      request: Pick<TriggerRequest, "definitionId" | "input" | "allowPrivate">,
    ): Effect.Effect<{ readonly entry: Entry; readonly input: unknown }, TaskErrors.DefinitionNotFound | TaskRpc.InvalidInput> => {
      const entry = registry.get(request.definitionId)
      if (entry === undefined || (entry.definition.isPrivate && request.allowPrivate !== true)) {
        return Effect.fail(new TaskErrors.DefinitionNotFound({ definitionId: request.definitionId }))
      }
      if (TaskRpc.nestsDeeperThan(request.input, TaskRpc.maxInputDepth)) {
        const message = `the input is nested deeper than ${TaskRpc.maxInputDepth} levels`
        return Effect.fail(new TaskRpc.InvalidInput({ definitionId: request.definitionId, issues: [{ path: [], message }] }))
      }
      return Effect.map(TaskDefinition.decodeInput(entry.definition.task, request.input), (input) => ({ entry, input }))
    }

    /** The checks that need the store or task code: the parent and fork source exist, onBeforeTrigger agrees. */
    const checkRelations = (request: TriggerRequest, entry: Entry, input: unknown) =>
      Effect.gen(function*() {
        if (request.parentId !== undefined) yield* get(request.parentId)
        if (request.forkedFrom !== undefined) yield* get(request.forkedFrom.taskId)
        if (entry.definition.task.onBeforeTrigger === undefined) return
        const refused = yield* isolation.beforeTrigger(entry.definition, {
          input: { decoded: input, raw: request.input },
          name: request.name,
          parentId: request.parentId,
        })
        if (refused !== undefined) return yield* new TaskErrors.TriggerVetoed({ definitionId: entry.definition.id, reason: refused })
      })

    const validate = (request: TriggerRequest): Effect.Effect<{ readonly entry: Entry; readonly encoded: unknown }, TriggerError> => {
      if (request.name !== undefined && request.name.length > TaskRpc.maxNameLength) {
        const reason = `the task name is ${request.name.length} characters long; at most ${TaskRpc.maxNameLength} are allowed`
        return Effect.fail(new TaskErrors.InvalidField({ field: "name", reason }))
      }
      return Effect.flatMap(checkInput(request), ({ entry, input }) => {
        const encode = Effect.map(TaskDefinition.encodeInput(entry.definition.task, input), (encoded) => ({ entry, encoded }))
        const related = request.parentId !== undefined || request.forkedFrom !== undefined || entry.definition.task.onBeforeTrigger !== undefined
        return related ? Effect.andThen(checkRelations(request, entry, input), encode) : encode
      })
    }

    /** The task that owns this idempotency key, if any; a key whose task was deleted is refused. */
    const owner = (key: string) =>
      Effect.gen(function*() {
        const existing = yield* store.findByIdempotencyKey(key).pipe(Effect.mapError((error) => TaskErrors.storageFailed(error)))
        // A key stays with its first task for good: after that task is deleted the key is refused, not reused.
        if (existing?.context.deleted === true) {
          return yield* new TaskErrors.ActionNotAllowed({
            taskId: existing.context.taskId,
            status: existing.status,
            reason: `its idempotency key "${key}" cannot be reused after the task was deleted`,
          })
        }
        return existing
      })

    /** A validated trigger with its new task id, ready to be admitted and appended (nothing stored yet). */
    const plan = (request: TriggerRequest) =>
      Effect.map(validate(request), ({ entry, encoded }) => {
        const at = now()
        const taskId = Ids.uuidv7(at, randomBytes(10)) as Ids.TaskId
        const wakeAt = request.delaySeconds ? WakeAt.storableWakeAt(at + request.delaySeconds * 1000) : undefined
        const command: Lifecycle.Command & { readonly _tag: "Trigger" } = {
          _tag: "Trigger",
          taskId,
          definitionId: entry.definition.id as Ids.DefinitionId,
          input: encoded,
          maxIterations: entry.definition.maxIterations,
          ...(request.name === undefined ? {} : { name: request.name }),
          ...(request.parentId === undefined ? {} : { parentId: request.parentId }),
          ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey }),
          ...(wakeAt === undefined ? {} : { wakeAt }),
          ...(request.forkedFrom === undefined ? {} : { forkedFrom: request.forkedFrom }),
        }
        return command
      })

    type Planned = Effect.Success<ReturnType<typeof plan>>

    /**
     * Decides a planned trigger's events, taking a slot for it when one is free
     * and nobody waits for one (the first iteration then starts in the
     * trigger's own commit). Synchronous, so a batch decides all its items
     * against the same slots without anything in between.
     */
    const admit = (command: Planned, mayAdmit: boolean) => {
      const definitionId = command.definitionId as string
      // In a cluster a definition's own limit is counted across the nodes, by the claims: such a task waits for one.
      const clusterLimited = nodeId !== undefined && registry.get(definitionId)?.definition.concurrency !== undefined
      const admitted = mayAdmit && !clusterLimited && command.wakeAt === undefined && slots.waiting() === 0 && slots.free(definitionId)
      const events = Lifecycle.decide(Replay.initial, admitted ? { ...command, start: true, node: nodeId } : command)
      // Refused only if the decider and the planner disagree: a fault of the daemon, reported as one.
      if (events instanceof Lifecycle.CommandRejected) return TaskErrors.storageFailed(events)
      if (admitted) {
        slots.take(definitionId)
        slots.admitted.set(command.taskId, definitionId)
      }
      return { command, events, admitted }
    }

    /** The task that owns `key` (another node's trigger took it first). */
    const ownerOf = (key: string) =>
      Effect.flatMap(store.findByIdempotencyKey(key), (state) =>
        state === undefined
          ? Effect.fail(new StoreErrors.StoreError({ operation: "trigger", reason: `the idempotency key "${key}" has an owner that cannot be found` }))
          : Effect.succeed(state))

    /**
     * Appends an admitted trigger, its events stamped `at`; a failed append
     * gives its slot back. A trigger with an idempotency key must own it: when
     * another trigger took the key first (on another node of a cluster), the
     * answer is that task (`existing`), and nothing of this one is stored.
     */
    const appendAdmitted = ({ command, events, admitted }: Exclude<ReturnType<typeof admit>, TaskErrors.StorageFailed>, at: number) =>
      store.append({
        stream: command.taskId,
        expectedVersion: "noStream",
        events: stamp(events, at),
        fresh: true,
        ...(command.idempotencyKey === undefined ? {} : { uniqueKey: true }),
      }).pipe(
        Effect.tapError(() =>
          Effect.sync(() => {
            if (!admitted) return
            slots.admitted.delete(command.taskId)
            slots.release(command.definitionId)
          })
        ),
        Effect.map((appended) => ({ _tag: "created" as const, appended, admitted })),
        Effect.catchTag("IdempotencyKeyTaken", (taken) => Effect.map(ownerOf(taken.key), (state) => ({ _tag: "existing" as const, state }))),
        Effect.mapError((error) => TaskErrors.storageFailed(error)),
      )

    /** Plans, admits and appends a new task; the caller sees it as triggered (its start, if any, is the scheduler's business). */
    const create = (request: TriggerRequest) =>
      Effect.flatMap(plan(request), (command) => {
        const decided = admit(command, true)
        if (decided instanceof TaskErrors.StorageFailed) return Effect.fail(decided)
        return Effect.map(appendAdmitted(decided, now()), (done) =>
          done._tag === "existing" ? done.state : done.admitted ? stateAfterTrigger(done.appended) : done.appended.state)
      })

    /** A new task, or the one that already owns the request's idempotency key. */
    const store_ = (request: TriggerRequest) => {
      const key = request.idempotencyKey
      if (key === undefined) return create(request)
      return Effect.flatMap(owner(key), (existing) => (existing !== undefined ? Effect.succeed(existing) : create(request)))
    }

    /**
     * Holds idempotency keys for one trigger or batch: waits while another
     * holds any of them, then takes them all at once (so two batches never
     * wait on each other), and gives them back when `use` ends.
     */
    const holdingKeys = <A, E>(keys: ReadonlyArray<string>, use: Effect.Effect<A, E>): Effect.Effect<A, E> => {
      if (keys.length === 0) return use
      const busy = () => keys.flatMap((key) => inFlightKeys.get(key) ?? [])
      return Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          for (let pending = busy(); pending.length > 0; pending = busy()) {
            yield* restore(Effect.promise(() => Promise.all(pending.map((p) => p.catch(() => undefined)))))
          }
          let release!: () => void
          const held = new Promise<void>((resolve) => (release = resolve))
          for (const key of keys) inFlightKeys.set(key, held)
          return yield* restore(use).pipe(Effect.ensuring(Effect.sync(() => {
            for (const key of keys) inFlightKeys.delete(key)
            release()
          })))
        })
      )
    }

    // Two triggers with the same idempotency key at once: the second waits for the first and returns its task.
    const trigger = (request: TriggerRequest): Effect.Effect<Replay.TaskState, TriggerError> =>
      holdingKeys(request.idempotencyKey === undefined ? [] : [request.idempotencyKey], Effect.suspend(() => store_(request)))

    const triggered = (taskId: Ids.TaskId, version: number, existing: boolean): TriggerOutcome =>
      new TaskRpc.Triggered({ taskId, version, existing })
    const refused = (error: TriggerError): TriggerOutcome => ({ _tag: "TriggerItemRefused", error })

    /**
     * Many triggers: each item checked in order exactly as `trigger` checks it
     * (a key already used earlier in the batch answers with that item's task),
     * then admitted in one synchronous pass (slots for the first items while
     * slots are free and nothing waits; after the first that must wait, the
     * rest wait too, in order), then all appended at once so the store's
     * group commit takes them together.
     */
    const triggerMany = (requests: ReadonlyArray<TriggerRequest>) =>
      Effect.gen(function*() {
        if (requests.length > TaskRpc.maxTriggersPerRequest) {
          return yield* new TaskErrors.BatchTooLarge({ count: requests.length, max: TaskRpc.maxTriggersPerRequest })
        }
        const keys = [...new Set(requests.flatMap((r) => r.idempotencyKey ?? []))]
        return yield* holdingKeys(keys, Effect.gen(function*() {
          const outcomes: Array<TriggerOutcome | undefined> = new Array(requests.length)
          /** For an item whose key an earlier item of this batch planned: that item's index. */
          const sameAs = new Map<number, number>()
          const firstWithKey = new Map<string, number>()
          const planned: Array<readonly [number, Planned]> = []
          for (const [i, request] of requests.entries()) {
            const key = request.idempotencyKey
            const earlier = key === undefined ? undefined : firstWithKey.get(key)
            if (earlier !== undefined) {
              sameAs.set(i, earlier)
              continue
            }
            const existing = key === undefined ? undefined : yield* Effect.result(owner(key))
            if (existing?._tag === "Failure") {
              outcomes[i] = refused(existing.failure)
              continue
            }
            if (existing?.success !== undefined) {
              outcomes[i] = triggered(existing.success.context.taskId, existing.success.context.version, true)
              continue
            }
            const command = yield* Effect.result(plan(request))
            if (command._tag === "Failure") {
              outcomes[i] = refused(command.failure)
              continue
            }
            planned.push([i, command.success])
            if (key !== undefined) firstWithKey.set(key, i)
          }
          let mayAdmit = true
          const decided = planned.map(([i, command]) => {
            const one = admit(command, mayAdmit)
            if (!(one instanceof TaskErrors.StorageFailed) && !one.admitted && command.wakeAt === undefined) mayAdmit = false
            return [i, one] as const
          })
          // Each append only queues its request for the writer, so all of them wait for the same few group commits.
          const at = now()
          yield* Effect.forEach(decided, ([i, one]) => {
            if (one instanceof TaskErrors.StorageFailed) return Effect.sync(() => void (outcomes[i] = refused(one)))
            return appendAdmitted(one, at).pipe(
              Effect.match({
                onFailure: (error) => void (outcomes[i] = refused(error)),
                onSuccess: (done) =>
                  void (outcomes[i] = done._tag === "existing"
                    ? triggered(done.state.context.taskId, done.state.context.version, true)
                    : triggered(one.command.taskId, done.appended.version, false)),
              }),
            )
          }, { concurrency: "unbounded", discard: true })
          for (const [i, earlier] of sameAs) {
            const first = outcomes[earlier]!
            // The earlier item's append failed: this one is refused the same way (nothing of either was stored).
            outcomes[i] = first._tag === "Triggered" ? triggered(first.taskId, first.version, true) : first
          }
          return outcomes as ReadonlyArray<TriggerOutcome>
        }))
      })

    const abort = (
      taskId: Ids.TaskId,
      message: string | undefined,
    ): Effect.Effect<Replay.TaskState, TaskErrors.ActionNotAllowed | TaskErrors.TaskNotFound | TaskErrors.StorageFailed> =>
      Effect.gen(function*() {
        const state = yield* execute(taskId, { _tag: "Abort", ...(message === undefined ? {} : { message }) }).pipe(
          Effect.catchTag("CommandRejected", (rejected) =>
            Effect.fail(new TaskErrors.ActionNotAllowed({ taskId, status: rejected.status, reason: rejected.reason }))),
        )
        const children = yield* allTasks(store, { parentId: taskId }).pipe(Effect.mapError((error) => TaskErrors.storageFailed(error)))
        for (const child of children) {
          if (TaskMachine.isFinal(child.status)) continue
          // The parent's abort stands whatever happens to a child: one that ended meanwhile is expected, one the
          // store failed to abort is worth a warning; either way the other children are still aborted.
          yield* abort(child.context.taskId, `parent ${taskId} was aborted`).pipe(
            Effect.catch((error) => {
              const note = `task ${taskId}: child ${child.context.taskId} not aborted: ${error.message}`
              return error._tag === "ActionNotAllowed" ? Effect.logDebug(note) : Effect.logWarning(note, error)
            }),
          )
        }
        return state
      })

    const validateInput = (definitionId: string, input: unknown) => Effect.asVoid(checkInput({ definitionId, input }))

    return { trigger, triggerMany, validateInput, execute, abort, get, getToAppend }
  }),
)
