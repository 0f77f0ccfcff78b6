/**
 * A seeded pseudo-random source for test plans (which task, which daemon to
 * kill, when): the seed is printed, and the same seed gives the same plan.
 * mulberry32: small and fast; not for anything but tests.
 */

/** Random draws from one seed. */
export interface Prng {
  /** A number in [0, 1). */
  readonly next: () => number
  /** A number in [lo, hi). */
  readonly between: (lo: number, hi: number) => number
  /** An integer in [lo, hi]. */
  readonly int: (lo: number, hi: number) => number
  /** One element of a non-empty array. */
  readonly pick: <A>(values: ReadonlyArray<A>) => A
}

/** A PRNG seeded with `seed` (any 32-bit integer). */
export const make = (seed: number): Prng => {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const between = (lo: number, hi: number) => lo + next() * (hi - lo)
  const int = (lo: number, hi: number) => Math.floor(between(lo, hi + 1))
  return { next, between, int, pick: (values) => values[int(0, values.length - 1)]! }
}

/** The seed from `variable` in the environment, else a fresh random one. */
export const seedFrom = (variable: string): number => {
  const given = process.env[variable]
  return given === undefined || given === "" ? Math.floor(Math.random() * 2 ** 31) : Number(given)
}
