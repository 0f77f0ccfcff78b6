/**
 * Hash routes, so a reload (or a link) keeps the place: `#/tasks`,
 * `#/tasks/<id>`, `#/tasks/<id>/history`, `#/history/file` (an opened history
 * file), `#/definitions`, `#/definitions/<id>` and
 * `#/definitions/<id>/fork/<taskId>/<iteration>` (the trigger form prefilled
 * for a fork) and `#/schedules`. Anything else is the task list.
 */
import type { Observable } from "./Observable.ts"
import { useObservable } from "./useObservable.ts"

/** A parsed route. */
export type Route =
  | { readonly view: "tasks" }
  | { readonly view: "task"; readonly taskId: string }
  | { readonly view: "history"; readonly taskId: string }
  | { readonly view: "historyFile" }
  | { readonly view: "schedules" }
  | {
    readonly view: "definitions"
    readonly definitionId?: string | undefined
    readonly fork?: { readonly taskId: string; readonly iteration: number } | undefined
  }

/** Parses a location hash. */
export const parse = (hash: string): Route => {
  const [section, id, sub, forkTask, forkIteration] = hash.replace(/^#\/?/, "").split("/").map((part) => decodeURIComponent(part))
  if (section === "definitions") {
    const iteration = Number(forkIteration)
    const fork = sub === "fork" && forkTask && Number.isInteger(iteration) ? { taskId: forkTask, iteration } : undefined
    return { view: "definitions", definitionId: id || undefined, fork }
  }
  if (section === "tasks" && id) return sub === "history" ? { view: "history", taskId: id } : { view: "task", taskId: id }
  if (section === "history" && id === "file") return { view: "historyFile" }
  if (section === "schedules") return { view: "schedules" }
  return { view: "tasks" }
}

/** The hash of a route. */
export const href = (route: Route): string => {
  switch (route.view) {
    case "tasks":
      return "#/tasks"
    case "task":
      return `#/tasks/${encodeURIComponent(route.taskId)}`
    case "history":
      return `#/tasks/${encodeURIComponent(route.taskId)}/history`
    case "historyFile":
      return "#/history/file"
    case "schedules":
      return "#/schedules"
    case "definitions": {
      if (route.definitionId === undefined) return "#/definitions"
      const fork = route.fork === undefined ? "" : `/fork/${encodeURIComponent(route.fork.taskId)}/${route.fork.iteration}`
      return `#/definitions/${encodeURIComponent(route.definitionId)}${fork}`
    }
  }
}

/** Goes to a route (a new history entry). */
export const navigate = (route: Route): void => {
  location.hash = href(route)
}

/** The location hash, changing on navigation. */
const hash: Observable<string> = {
  subscribe: (listener) => {
    addEventListener("hashchange", listener)
    return () => removeEventListener("hashchange", listener)
  },
  getSnapshot: () => location.hash,
}

/** The current route; re-renders on navigation. */
export const useRoute = (): Route => parse(useObservable(hash))
