/**
 * `useLoad(load, deps)`: a {@link Load} owned by the component, run when it
 * mounts and whenever `deps` change (like `useEffect`), cancelled when it
 * unmounts; the view gets `{ value, error, loading, reload, refresh }`.
 */
import { type DependencyList, useEffect, useState } from "react"
import { Load, type Loader, type LoadState } from "./Load.ts"
import { useObservable } from "./useObservable.ts"

/** A load's state plus the means to run it again. */
export interface UseLoad<A> extends LoadState<A> {
  /** Runs the load again (a retry button, after an action). */
  readonly reload: () => void
  /** Runs the load again unless one is under way (a timer). */
  readonly refresh: () => void
}

/** Runs `load` when mounted and whenever `deps` change, cancelling the load it replaces and, when unmounted, the one under way. */
export const useLoad = <A>(load: Loader<A>, deps: DependencyList): UseLoad<A> => {
  const [model] = useState(() => new Load<A>({ loading: true }))
  useEffect(() => {
    model.start(load)
    return () => model.cancel()
    // The caller's deps decide when `load` is new, as with `useEffect`.
  }, deps)
  const state = useObservable(model)
  return { ...state, reload: model.reload, refresh: model.refresh }
}
