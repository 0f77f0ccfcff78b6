/**
 * @tasklane/core: events, the task machine, the replay fold, the event store
 * contract (task log and schedule log) and its errors, and the RPC contract.
 * The store's implementations are separate entries (`@tasklane/core/level`).
 */
export * as Ids from "./Ids.ts"
export * as TaskEvent from "./TaskEvent.ts"
export * as TaskMachine from "./TaskMachine.ts"
export * as Replay from "./Replay.ts"
export * as Lifecycle from "./Lifecycle.ts"
export * as EventStore from "./EventStore.ts"
export * as StoreErrors from "./StoreErrors.ts"
export * as StoreHealth from "./StoreHealth.ts"
export * as StoreRetention from "./StoreRetention.ts"
export * as TaskRpc from "./TaskRpc.ts"
export * as TaskShapes from "./TaskShapes.ts"
export * as DesktopBridge from "./DesktopBridge.ts"
export * as HistoryFile from "./HistoryFile.ts"
export * as JsonDiff from "./JsonDiff.ts"
export * as Schedule from "./Schedule.ts"
export * as ScheduleEvent from "./ScheduleEvent.ts"
