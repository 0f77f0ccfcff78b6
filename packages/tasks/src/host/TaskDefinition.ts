/**
 * The `TaskDefinition` namespace as hosts of task code see it (the daemon,
 * its worker threads, `replay-test`, the test kit): everything authors get,
 * under the same names, plus what is done with a definition — loading and
 * validating it, decoding and encoding its input, the live controller,
 * calling its code, the hooks' params, retries, checking a `continue` is
 * storable. Host code reads `TaskDefinition.decodeInput` where task code
 * reads `TaskDefinition.Interface`; only the import differs.
 */
export * from "../TaskDefinition.ts"
export { isImplementation } from "../Implementation.ts"
export * from "./Definition.ts"
export * from "./HookParams.ts"
export * from "./InputCodec.ts"
export * from "./JsonCheck.ts"
export * from "./LiveController.ts"
export * from "./RetryPolicy.ts"
export * from "./ToEffect.ts"
