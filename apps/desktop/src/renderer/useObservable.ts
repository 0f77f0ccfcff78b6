/** The one hook views read models with: React's `useSyncExternalStore` over an {@link Observable}. */
import { useSyncExternalStore } from "react"
import type { Observable } from "./Observable.ts"

/** The model's current snapshot; re-renders when it changes. */
export const useObservable = <S>(model: Observable<S>): S => useSyncExternalStore(model.subscribe, model.getSnapshot)
