/**
 * The edge between the command side's errors (`TaskErrors`) and the RPC
 * contract's wire errors (`TaskRpc`): the one place one becomes the other.
 * Used where an error leaves the daemon: the RPC handlers, and a running
 * task's `controller.task.trigger` (task code sees the same errors a client
 * does).
 *
 * The wire is unchanged by this module: each wire error carries the same tag
 * and fields as before. A storage failure's cause does not cross: it is
 * logged here, with what was asked, and the client gets its reason.
 * Errors that are already the contract's (InvalidInput, UnknownSchedule,
 * PositionPruned) pass through as they are.
 */
import { Effect, Stream } from "effect"
import { TaskRpc } from "@tasklane/core"
import * as TaskErrors from "./TaskErrors.ts"

/** The wire error a domain error becomes; any other error stays itself. */
export type Wire<E> = E extends TaskErrors.TaskNotFound ? TaskRpc.UnknownTask
  : E extends TaskErrors.DefinitionNotFound ? TaskRpc.UnknownDefinition
  : E extends TaskErrors.TriggerVetoed ? TaskRpc.TriggerRefused
  : E extends TaskErrors.ActionNotAllowed ? TaskRpc.NotAllowed
  : E extends TaskErrors.InvalidField ? TaskRpc.InvalidRequest
  : E extends TaskErrors.BatchTooLarge ? TaskRpc.TooManyTriggers
  : E extends TaskErrors.StorageFailed ? TaskRpc.DaemonError
  : E

/** The wire form of a domain error; undefined for any other error (one that is already the contract's). */
const convert = (error: TaskErrors.TaskError): TaskRpc.TriggerError | TaskRpc.TooManyTriggers | undefined => {
  switch (error._tag) {
    case "TaskNotFound":
      return new TaskRpc.UnknownTask({ taskId: error.taskId })
    case "DefinitionNotFound":
      return new TaskRpc.UnknownDefinition({ definitionId: error.definitionId })
    case "TriggerVetoed":
      return new TaskRpc.TriggerRefused({ definitionId: error.definitionId, reason: error.reason })
    case "ActionNotAllowed":
      return new TaskRpc.NotAllowed({ taskId: error.taskId, status: error.status, reason: error.reason })
    case "InvalidField":
      return new TaskRpc.InvalidRequest({ field: error.field, reason: error.reason })
    case "BatchTooLarge":
      return new TaskRpc.TooManyTriggers({ count: error.count, max: error.max })
    case "StorageFailed":
      return new TaskRpc.DaemonError({ reason: error.reason })
    default:
      return undefined
  }
}

/** The wire form of `error` (no logging: see {@link logCause}). */
export const toWire = <E>(error: E): Wire<E> =>
  (typeof error === "object" && error !== null ? convert(error as unknown as TaskErrors.TaskError) ?? error : error) as Wire<E>

/** Logs a storage failure's cause, naming what was asked (`what`); other errors are the client's business and log nothing. */
export const logCause = (what: string) => (error: unknown): Effect.Effect<void> =>
  error instanceof TaskErrors.StorageFailed
    ? Effect.logError(`${what}: ${error.reason}`, error.cause)
    : Effect.void

/** An Effect whose domain errors leave as wire errors, a storage failure's cause logged on the way. */
export const atEdge = (what: string) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Wire<E>, R> =>
  Effect.catch(effect, (error) => Effect.andThen(logCause(what)(error), Effect.fail(toWire(error))))

/** {@link atEdge} for a stream. */
export const streamAtEdge = (what: string) => <A, E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, Wire<E>, R> =>
  stream.pipe(Stream.tapError((error: E) => logCause(what)(error)), Stream.mapError((error: E) => toWire(error)))
