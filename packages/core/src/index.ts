/** @tasklane/core: events, the task machine, the replay fold, the event store and the RPC contract. */
export * as Ids from "./Ids.ts"
export * as TaskEvent from "./TaskEvent.ts"
export * as TaskMachine from "./TaskMachine.ts"
export * as Replay from "./Replay.ts"
export * as Lifecycle from "./Lifecycle.ts"
export * as EventStore from "./EventStore.ts"
export * as TaskRpc from "./TaskRpc.ts"
export * as DesktopBridge from "./DesktopBridge.ts"
