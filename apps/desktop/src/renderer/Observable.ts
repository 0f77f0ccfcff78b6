/**
 * The one way the renderer's models tell views about changes: React's
 * external-store contract. A model exposes `subscribe(listener)`, which
 * returns the unsubscribe function, and `getSnapshot()`, which returns the
 * same value (by identity) until the model changes; views read it with
 * `useObservable` (`useSyncExternalStore`), so a render never sees a
 * half-updated model and an unchanged model costs no render.
 *
 * Both members are bound functions (arrow properties, not prototype methods):
 * React compares `subscribe` by identity and calls both without a receiver.
 * This module and the models stay free of React, so they run in plain Node
 * tests; the hooks live in `useObservable.ts` and `useLoad.ts`.
 */

/** A model views can follow. */
export interface Observable<S> {
  /** Calls `listener` after every change; returns the function that stops it. */
  readonly subscribe: (listener: () => void) => () => void
  /** The current state; the same value by identity until the next change. */
  readonly getSnapshot: () => S
}

/** The listener set behind a model's `subscribe`; listeners get `Args` (none for a plain `Observable`). */
export class Listeners<Args extends ReadonlyArray<unknown> = []> {
  private readonly set = new Set<(...args: Args) => void>()

  /** Adds `listener`; returns the function that removes it. */
  readonly add = (listener: (...args: Args) => void): (() => void) => {
    this.set.add(listener)
    return () => void this.set.delete(listener)
  }

  /** Calls every listener with `args`. */
  notify(...args: Args): void {
    for (const listener of this.set) listener(...args)
  }
}

/** A single observable value (for state that is one value, like the opened history file). */
export class Cell<S> implements Observable<S> {
  private readonly listeners = new Listeners()

  constructor(private value: S) {}

  readonly subscribe = this.listeners.add
  readonly getSnapshot = (): S => this.value

  /** Replaces the value and tells the listeners (nothing happens if it is the same value). */
  set(value: S): void {
    if (Object.is(value, this.value)) return
    this.value = value
    this.listeners.notify()
  }
}
