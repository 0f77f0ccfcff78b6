/**
 * Keeps the {@link TaskStore} live and the daemon's own figures fresh: the
 * glue between {@link DaemonClient} and the views.
 *
 * Lifecycle: on the first connect it reads `Info` and follows `Subscribe`
 * from `Info.head + 1` (pages loaded meanwhile are merged by stream version,
 * so nothing is folded twice or missed); on every reconnect it resumes from
 * the last folded position + 1, so events that happened while disconnected
 * are folded in order (if a prune removed some of them meanwhile, it resumes
 * above the pruned watermark and re-reads the unfinished tasks it holds, whose
 * events below the watermark it skipped). A task whose events do not follow on is re-read with
 * `GetTask`. `Info` is polled every second for the status bar and the list
 * totals, and re-read soon after live changes (at most every 250 ms), so the
 * counts do not lag what the list shows. `dispose()` stops all of it.
 *
 * `Info` and the live-update problem are an {@link Observable}
 * ({@link LiveSnapshot}); the tasks themselves are the store's.
 */
import type { Ids, TaskRpc } from "@tasklane/core/client"
import { type DaemonClient, describeError } from "./DaemonClient.ts"
import { Listeners, type Observable } from "./Observable.ts"
import { TaskStore } from "./TaskStore.ts"

const isPositionPruned = (error: unknown): error is { readonly _tag: "PositionPruned"; readonly prunedThrough: number } =>
  typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "PositionPruned" &&
  typeof (error as { prunedThrough?: unknown }).prunedThrough === "number"

/** What the status bar and the list totals show. */
export interface LiveSnapshot {
  /** The latest `Info` (undefined until the first answer). */
  readonly info: TaskRpc.DaemonInfo | undefined
  /** A live-update problem worth showing (empty when all is well). */
  readonly problem: string
}

/** The live store plus what the status bar shows. */
export class LiveTasks implements Observable<LiveSnapshot> {
  readonly store: TaskStore
  private state: LiveSnapshot = { info: undefined, problem: "" }
  private readonly listeners = new Listeners()
  /** The last `Info` failure logged, so a daemon that keeps failing it is logged once, not every second. */
  private infoFailure = ""
  private cancelSubscribe: () => void = () => {}
  private readonly timers: Array<ReturnType<typeof setInterval>> = []
  private readonly disposers: Array<() => void> = []
  private readonly unsubscribeStatus: () => void
  private epoch = 0
  private infoTimer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly client: DaemonClient) {
    this.store = new TaskStore((flush) => requestAnimationFrame(flush))
    this.store.onStale = (taskId) => void this.refresh(taskId)
    this.store.onProblem = (message) => this.setProblem(message)
    this.unsubscribeStatus = client.connection.subscribe(() => {
      const status = client.connection.getSnapshot()
      if (status.state === "connected" && status.epoch !== this.epoch) {
        this.epoch = status.epoch
        void this.follow()
      }
    })
    this.timers.push(setInterval(() => void this.pollInfo(), 1000))
    const unsubscribeStore = this.store.subscribe(() => {
      this.infoTimer ??= setTimeout(() => {
        this.infoTimer = undefined
        void this.pollInfo()
      }, 250)
    })
    this.disposers.push(unsubscribeStore)
    const status = client.connection.getSnapshot()
    if (status.state === "connected") {
      this.epoch = status.epoch
      void this.follow()
    } else void this.pollInfo()
  }

  /** Calls `listener` when `info` or `problem` changes; returns an unsubscribe function. */
  readonly subscribe = this.listeners.add
  readonly getSnapshot = (): LiveSnapshot => this.state

  /** Re-reads one task into the store. */
  async refresh(taskId: Ids.TaskId): Promise<void> {
    try {
      this.store.load([await this.client.call((c) => c.GetTask({ taskId }))])
    } catch (error) {
      this.setProblem(`could not re-read task ${taskId}: ${describeError(error)}`)
    }
  }

  dispose(): void {
    this.unsubscribeStatus()
    this.cancelSubscribe()
    for (const timer of this.timers) clearInterval(timer)
    for (const dispose of this.disposers) dispose()
    clearTimeout(this.infoTimer)
  }

  private async follow(): Promise<void> {
    this.cancelSubscribe()
    const epoch = this.epoch
    if (this.store.position < 0) {
      const info = await this.pollInfo()
      if (info === undefined || epoch !== this.epoch) return
      if (this.store.position < 0) this.store.position = info.head
    }
    this.cancelSubscribe = this.client.stream(
      (c) => c.Subscribe({ fromPosition: this.store.position + 1 }),
      (envelopes) => this.store.apply(envelopes),
      (error) => {
        if (isPositionPruned(error) && epoch === this.epoch) {
          // Pruned while this window was away: what it missed up to the watermark is gone; the log is gapless above it.
          // Kept tasks may have events below the watermark too, which the resume skips: the unfinished ones shown are re-read.
          this.store.position = Math.max(this.store.position, error.prunedThrough)
          for (const taskId of this.store.unfinished()) void this.refresh(taskId)
          return void this.follow()
        }
        // A transport error is followed by a reconnect (new epoch); a daemon error is retried here.
        if (error !== undefined) this.setProblem(`live updates stopped: ${describeError(error)}`)
        if (this.client.connection.getSnapshot().state === "connected" && epoch === this.epoch) setTimeout(() => void this.follow(), 1000)
      },
    )
    this.setProblem("")
  }

  private async pollInfo(): Promise<TaskRpc.DaemonInfo | undefined> {
    if (this.client.connection.getSnapshot().state === "reconnecting") return undefined
    try {
      const info = await this.client.call((c) => c.Info())
      this.infoFailure = ""
      this.publish({ info })
      return info
    } catch (error) {
      // The status bar keeps the last figures (and shows the connection state); the cause goes to the console.
      const message = describeError(error)
      if (message !== this.infoFailure) console.error(`tasklane: could not read the daemon's Info: ${message}`)
      this.infoFailure = message
      return undefined
    }
  }

  private setProblem(problem: string): void {
    if (problem === this.state.problem) return
    this.publish({ problem })
  }

  private publish(next: Partial<LiveSnapshot>): void {
    this.state = { ...this.state, ...next }
    this.listeners.notify()
  }
}
