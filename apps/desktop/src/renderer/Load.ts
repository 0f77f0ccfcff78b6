/**
 * One request whose answer a view shows: the load / cancel / error pattern
 * the views used to write by hand (a `cancelled` flag or a sequence number in
 * a `useEffect`, plus value and error state), as a small model; views use it
 * through the `useLoad` hook (useLoad.ts).
 *
 * Lifecycle: `start(load)` runs `load` and cancels the one under way, so a
 * slow old answer never overwrites a newer one; its `AbortSignal` is aborted
 * for a load that wants to stop early (a debounce, a progress callback).
 * While a load runs, the last value and error stay as they were (a reload or
 * a poll does not blank the view; key the component to start from nothing);
 * an answer sets the value and clears the error, a failure sets the error (in
 * words, {@link describeError}) and keeps the value. `reload()` runs the last
 * load again; `refresh()` does so only when none is under way (polling);
 * `cancel()` drops the one under way. The state is an {@link Observable}
 * snapshot, replaced on every change.
 */
import { describeError } from "./DaemonClient.ts"
import { Listeners, type Observable } from "./Observable.ts"

/** A request: resolves with what to show, or rejects with why not. */
export type Loader<A> = (signal: AbortSignal) => Promise<A>

/** What a view shows of a load. */
export interface LoadState<A> {
  /** The last answer (undefined until the first one). */
  readonly value: A | undefined
  /** Why the last load failed, in words (empty when it did not). */
  readonly error: string
  /** A load is under way. */
  readonly loading: boolean
}

/** One cancellable, reloadable request and its last outcome. */
export class Load<A> implements Observable<LoadState<A>> {
  private state: LoadState<A>
  private readonly listeners = new Listeners()
  private current: AbortController | undefined
  private last: Loader<A> | undefined

  /** `loading` starts true for a load about to be started (the hook's first render). */
  constructor(options: { readonly loading?: boolean } = {}) {
    this.state = { value: undefined, error: "", loading: options.loading ?? false }
  }

  readonly subscribe = this.listeners.add
  readonly getSnapshot = (): LoadState<A> => this.state

  /** Runs `load`, cancelling the load under way. */
  start(load: Loader<A>): void {
    this.current?.abort()
    const controller = new AbortController()
    this.current = controller
    this.last = load
    this.update({ loading: true })
    let answer: Promise<A>
    try {
      answer = load(controller.signal)
    } catch (cause) {
      answer = Promise.reject(cause)
    }
    answer.then(
      (value) => this.settle(controller, { value, error: "", loading: false }),
      (cause: unknown) => this.settle(controller, { error: describeError(cause), loading: false }),
    )
  }

  /** Runs the last load again. */
  readonly reload = (): void => {
    if (this.last !== undefined) this.start(this.last)
  }

  /** Runs the last load again unless one is under way (a poll that must not starve a slow answer). */
  readonly refresh = (): void => {
    if (this.current === undefined) this.reload()
  }

  /** Drops the load under way: its answer is ignored and its signal aborted. */
  cancel(): void {
    if (this.current === undefined) return
    this.current.abort()
    this.current = undefined
    this.update({ loading: false })
  }

  private settle(controller: AbortController, next: Partial<LoadState<A>>): void {
    // A load that was cancelled or replaced answers into the void.
    if (controller !== this.current) return
    this.current = undefined
    this.update(next)
  }

  private update(next: Partial<LoadState<A>>): void {
    const state = { ...this.state, ...next }
    if (state.value === this.state.value && state.error === this.state.error && state.loading === this.state.loading) return
    this.state = state
    this.listeners.notify()
  }
}
