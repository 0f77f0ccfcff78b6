/**
 * Fork links: "forked from <task> at iteration N" on a forked task, and the
 * list of tasks forked from a task (`ListTasks { definitionId, forkedFrom }`).
 */
import type { Ids, Replay } from "@tasklane/core/client"
import { useApp } from "../AppContext.ts"
import * as Router from "../Router.ts"
import { StatusBadge } from "../Widgets.tsx"
import { useLoad } from "../useLoad.ts"

/** "forked from <link> at iteration N" (nothing for a task that is not a fork). */
export const ForkedFrom = ({ context }: { readonly context: Replay.TaskState["context"] }) =>
  context.forkedFrom === undefined ? null : (
    <span className="forked-from" data-testid="forked-from">
      forked from <a className="mono" href={Router.href({ view: "task", taskId: context.forkedFrom.taskId })}>{context.forkedFrom.taskId}</a>
      {" "}at iteration {context.forkedFrom.iteration}
    </span>
  )

/** The tasks forked from `taskId`, newest first, each with its status and fork iteration. */
export const ForkList = ({ taskId, definitionId }: { readonly taskId: Ids.TaskId; readonly definitionId: string }) => {
  const { client } = useApp()
  const load = useLoad(
    () => client.call((c) => c.ListTasks({ definitionId, forkedFrom: taskId, limit: 100 })).then((page) => page.tasks),
    [client, taskId, definitionId],
  )
  const forks = load.value
  if (load.error) return <p className="muted">Could not list forks: {load.error}</p>
  if (forks === undefined) return <p className="muted">Loading forks…</p>
  if (forks.length === 0) return <p className="muted">No forks.</p>
  return (
    <ul className="fork-list" data-testid="forks">
      {forks.map((fork) => (
        <li key={fork.context.taskId}>
          <StatusBadge status={fork.status} />{" "}
          <a className="mono" href={Router.href({ view: "task", taskId: fork.context.taskId })}>{fork.context.name ?? fork.context.taskId}</a>
          <span className="muted"> from iteration {fork.context.forkedFrom?.iteration}</span>
        </li>
      ))}
    </ul>
  )
}
