/**
 * The scheduler's waiting room (pure data structure, no effects): a FIFO of
 * tasks ready to run and a min-heap of tasks waiting for a wake time. A task
 * is in it at most once; `promote(now)` moves due tasks, in wake-time order,
 * to the back of the FIFO, so delayed tasks queue fairly behind ready ones.
 */

interface Delayed {
  readonly taskId: string
  readonly wakeAt: number
  /** Arrival order: breaks ties between equal wake times, so due tasks keep the order they were queued in. */
  readonly seq: number
}

/** Whether `a` is due before `b`. */
const before = (a: Delayed, b: Delayed): boolean => a.wakeAt < b.wakeAt || (a.wakeAt === b.wakeAt && a.seq < b.seq)

/** FIFO of ready task ids plus a min-heap of delayed ones. */
export class TaskQueue {
  private ready: Array<string> = []
  private head = 0
  private readonly heap: Array<Delayed> = []
  private seq = 0
  /** Every queued task and where it waits; a FIFO entry whose task is not "ready" here is stale and skipped. */
  private readonly members = new Map<string, "ready" | "delayed">()

  private readyCount = 0

  /** Number of tasks waiting (ready or delayed). */
  get size(): number {
    return this.members.size
  }

  /** Number of tasks ready to run now (their wake time, if any, promoted). */
  get readySize(): number {
    return this.readyCount
  }

  /** Adds a task, ready now or at `wakeAt`; a task already queued is left where it is. */
  add(taskId: string, wakeAt: number | undefined, now: number): void {
    if (this.members.has(taskId)) return
    if (wakeAt === undefined || wakeAt <= now) {
      this.members.set(taskId, "ready")
      this.readyCount++
      this.ready.push(taskId)
    } else {
      this.members.set(taskId, "delayed")
      this.push({ taskId, wakeAt, seq: this.seq++ })
    }
  }

  /** Moves every delayed task whose time has come to the ready FIFO. */
  promote(now: number): void {
    while (this.heap.length > 0 && this.heap[0]!.wakeAt <= now) {
      const { taskId } = this.pop()
      this.members.set(taskId, "ready")
      this.readyCount++
      this.ready.push(taskId)
    }
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
      // Skip an entry whose task was removed, or removed and added again with a wake time.
      if (this.members.get(taskId) === "ready") {
        this.members.delete(taskId)
        this.readyCount--
        return taskId
      }
    }
  }

  /**
   * Drops a task that no longer needs to run (it reached a final state while
   * waiting, e.g. aborted during its delay), so `size` does not count it until
   * a wake time that may be far away.
   */
  remove(taskId: string): void {
    const where = this.members.get(taskId)
    this.members.delete(taskId)
    if (where === "ready") this.readyCount--
    if (where !== "delayed") return // in the ready FIFO (or not queued): `take` skips it
    const heap = this.heap
    const index = heap.findIndex((item) => item.taskId === taskId)
    const last = heap.pop()!
    if (index === heap.length) return
    // Put the last item in the hole and restore the heap order around it.
    heap[this.siftDown(this.siftUp(index, last), last)] = last
  }

  /** The earliest wake time among delayed tasks. */
  nextWakeAt(): number | undefined {
    return this.heap[0]?.wakeAt
  }

  private push(item: Delayed): void {
    this.heap.push(item)
    this.heap[this.siftUp(this.heap.length - 1, item)] = item
  }

  private pop(): Delayed {
    const heap = this.heap
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) heap[this.siftDown(0, last)] = last
    return top
  }

  /** Moves the hole at `i` up past parents due later than `item`; returns where `item` belongs. */
  private siftUp(i: number, item: Delayed): number {
    const heap = this.heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(item, heap[parent]!)) break
      heap[i] = heap[parent]!
      i = parent
    }
    return i
  }

  /** Moves the hole at `i` down past children due earlier than `item`; returns where `item` belongs. */
  private siftDown(i: number, item: Delayed): number {
    const heap = this.heap
    for (;;) {
      const left = 2 * i + 1
      if (left >= heap.length) return i
      const right = left + 1
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left
      if (!before(heap[child]!, item)) return i
      heap[i] = heap[child]!
      i = child
    }
  }
}
