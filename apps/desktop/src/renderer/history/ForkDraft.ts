/**
 * The input a fork starts from, handed from the History view's "Fork from
 * here" to the definition's trigger form. Kept in sessionStorage so a reload
 * of the form keeps it; without a stored draft (a pasted link) the input is
 * read back from the original task's history: the input its iteration N had.
 */
import { type Ids } from "@tasklane/core/client"
import type { DaemonClient } from "../DaemonClient.ts"
import { fetchHistory } from "./HistoryFetch.ts"
import * as HistoryModel from "./HistoryModel.ts"

/** Where a fork starts. */
export interface ForkOrigin {
  readonly taskId: string
  readonly iteration: number
}

const key = (origin: ForkOrigin) => `tasklane.fork.${origin.taskId}.${origin.iteration}`

/** Remembers the input for a fork about to be edited. */
export const save = (origin: ForkOrigin, input: unknown): void => {
  try {
    sessionStorage.setItem(key(origin), JSON.stringify(input ?? null))
  } catch {
    // Storage full or disabled: the form falls back to reading the history.
  }
}

/** The fork's input: the saved draft, else the input iteration N had in the task's history. */
export const load = async (client: DaemonClient, origin: ForkOrigin): Promise<unknown> => {
  const saved = sessionStorage.getItem(key(origin))
  if (saved !== null) return JSON.parse(saved)
  const fetched = await fetchHistory(client, origin.taskId as Ids.TaskId)
  if (fetched instanceof HistoryModel.HistoryLoadError) throw new Error(fetched.message)
  const history = HistoryModel.fold(fetched.envelopes, fetched.events)
  if (history instanceof HistoryModel.HistoryLoadError) throw new Error(history.message)
  const point = HistoryModel.forkPointOf(history, origin.iteration)
  if (point === undefined) throw new Error(`task ${origin.taskId} has no iteration ${origin.iteration}`)
  return point.input
}
