/**
 * Hash routes, so a reload (or a link) keeps the place: `#/tasks`,
 * `#/tasks/<id>`, `#/definitions`, `#/definitions/<id>`. Anything else is the
 * task list.
 */
import { useSyncExternalStore } from "react"

/** A parsed route. */
export type Route =
  | { readonly view: "tasks" }
  | { readonly view: "task"; readonly taskId: string }
  | { readonly view: "definitions"; readonly definitionId?: string | undefined }

/** Parses a location hash. */
export const parse = (hash: string): Route => {
  const [section, id] = hash.replace(/^#\/?/, "").split("/").map((part) => decodeURIComponent(part))
  if (section === "definitions") return { view: "definitions", definitionId: id || undefined }
  if (section === "tasks" && id) return { view: "task", taskId: id }
  return { view: "tasks" }
}

/** The hash of a route. */
export const href = (route: Route): string => {
  switch (route.view) {
    case "tasks":
      return "#/tasks"
    case "task":
      return `#/tasks/${encodeURIComponent(route.taskId)}`
    case "definitions":
      return route.definitionId === undefined ? "#/definitions" : `#/definitions/${encodeURIComponent(route.definitionId)}`
  }
}

/** Goes to a route (a new history entry). */
export const navigate = (route: Route): void => {
  location.hash = href(route)
}

const subscribe = (listener: () => void) => {
  addEventListener("hashchange", listener)
  return () => removeEventListener("hashchange", listener)
}

/** The current route; re-renders on navigation. */
export const useRoute = (): Route => parse(useSyncExternalStore(subscribe, () => location.hash))
