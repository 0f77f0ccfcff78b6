/**
 * `defined`: an object without its undefined fields, for building values
 * under `exactOptionalPropertyTypes` (an optional field is absent, never
 * `undefined`). The one copy the daemon uses.
 */

/** The object without its undefined fields. */
export const defined = <A extends object>(fields: A): { [K in keyof A]: Exclude<A[K], undefined> } =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as never
