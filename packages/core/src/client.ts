/**
 * The browser-safe entry of @tasklane/core (`@tasklane/core/client`): every
 * module a UI needs, without the event store and its LevelDB bindings.
 */
export * as DesktopBridge from "./DesktopBridge.ts"
export * as HistoryFile from "./HistoryFile.ts"
export * as Ids from "./Ids.ts"
export * as JsonDiff from "./JsonDiff.ts"
export * as Replay from "./Replay.ts"
export * as ScheduleEvent from "./ScheduleEvent.ts"
export * as StoreErrors from "./StoreErrors.ts"
export * as StoreHealth from "./StoreHealth.ts"
export * as StoreRetention from "./StoreRetention.ts"
export * as TaskEvent from "./TaskEvent.ts"
export * as TaskMachine from "./TaskMachine.ts"
export * as TaskRpc from "./TaskRpc.ts"
