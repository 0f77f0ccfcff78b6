/**
 * The scheduler's waiting room (pure data structure, no effects): a FIFO of
 * tasks ready to run and a min-heap of tasks waiting for a wake time. A task
 * is in it at most once; `promote(now)` moves due tasks, in wake-time order,
 * to the back of the FIFO, so delayed tasks queue fairly behind ready ones.
 */

interface Delayed {
  readonly taskId: string
  readonly wakeAt: number
}

/** FIFO of ready task ids plus a min-heap of delayed ones. */
export class TaskQueue {
  private ready: Array<string> = []
  private head = 0
  private readonly heap: Array<Delayed> = []
  private readonly members = new Set<string>()

  /** Number of tasks waiting (ready or delayed). */
  get size(): number {
    return this.members.size
  }

  /** Adds a task, ready now or at `wakeAt`; a task already queued is left where it is. */
  add(taskId: string, wakeAt: number | undefined, now: number): void {
    if (this.members.has(taskId)) return
    this.members.add(taskId)
    if (wakeAt === undefined || wakeAt <= now) this.ready.push(taskId)
    else this.push({ taskId, wakeAt })
  }

  /** Moves every delayed task whose time has come to the ready FIFO. */
  promote(now: number): void {
    while (this.heap.length > 0 && this.heap[0]!.wakeAt <= now) this.ready.push(this.pop().taskId)
  }

  /** The oldest ready task, removed from the queue; undefined when none is ready. */
  take(): string | undefined {
    for (;;) {
      if (this.head >= this.ready.length) return undefined
      const taskId = this.ready[this.head++]!
      if (this.head > 1024 && this.head * 2 > this.ready.length) {
        this.ready = this.ready.slice(this.head)
        this.head = 0
      }
      // Skip a task removed while it was ready.
      if (this.members.delete(taskId)) return taskId
    }
  }

  /**
   * Drops a task that no longer needs to run (it reached a final state while
   * waiting, e.g. aborted during its delay), so `size` does not count it until
   * a wake time that may be far away.
   */
  remove(taskId: string): void {
    if (!this.members.delete(taskId)) return
    const heap = this.heap
    const index = heap.findIndex((item) => item.taskId === taskId)
    if (index === -1) return // in the ready FIFO: `take` skips it
    const last = heap.pop()!
    if (index === heap.length) return
    // Put the last item in the hole and restore the heap order around it.
    let i = index
    while (i > 0 && heap[(i - 1) >> 1]!.wakeAt > last.wakeAt) {
      heap[i] = heap[(i - 1) >> 1]!
      i = (i - 1) >> 1
    }
    for (;;) {
      const left = 2 * i + 1
      if (left >= heap.length) break
      const right = left + 1
      const child = right < heap.length && heap[right]!.wakeAt < heap[left]!.wakeAt ? right : left
      if (heap[child]!.wakeAt >= last.wakeAt) break
      heap[i] = heap[child]!
      i = child
    }
    heap[i] = last
  }

  /** The earliest wake time among delayed tasks. */
  nextWakeAt(): number | undefined {
    return this.heap[0]?.wakeAt
  }

  private push(item: Delayed): void {
    const heap = this.heap
    heap.push(item)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (heap[parent]!.wakeAt <= item.wakeAt) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = item
  }

  private pop(): Delayed {
    const heap = this.heap
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) {
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        if (left >= heap.length) break
        const right = left + 1
        const child = right < heap.length && heap[right]!.wakeAt < heap[left]!.wakeAt ? right : left
        if (heap[child]!.wakeAt >= last.wakeAt) break
        heap[i] = heap[child]!
        i = child
      }
      heap[i] = last
    }
    return top
  }
}
