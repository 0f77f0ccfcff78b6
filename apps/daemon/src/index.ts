/** @tasklane/daemon: the data directory, the unix-socket RPC server and the typed Node client. */
export * as Client from "./Client.ts"
export * as DataDir from "./DataDir.ts"
export * as Server from "./Server.ts"
