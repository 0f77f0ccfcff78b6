/**
 * The pool of worker threads that run task code with `isolation: "worker"`
 * (the thread's side is `worker/TaskWorker.ts`, the messages
 * `internal/WorkerProtocol.ts`).
 *
 * Lifecycle of a worker: spawned on demand with a heap limit
 * (`resourceLimits.maxOldGenerationSizeMb`) while jobs wait that no idle
 * worker with that limit can take — at once for the first, then once the
 * oldest job has waited 200 ms (and as long since a worker last got ready),
 * one start at a time (a start loads the task modules: about a second of
 * CPU), up to `maxWorkers`; it answers
 * `Ready` and takes the oldest waiting job it fits, one job at a time; idle
 * for `idleMs`, it is terminated (an idle daemon holds no workers). A worker
 * that cannot start fails the jobs waiting for it with its reason. A worker is retired — never
 * reused — after its job's code faulted (`Uncaught`), after it was killed
 * (the job was interrupted: timeout, forced abort, shutdown), and of course
 * when it died (out of memory, `process.exit()`, a fatal error); the job then
 * ends `Died` with the reason in words, and the daemon carries on.
 *
 * Jobs beyond `maxWorkers` wait in FIFO order. Effect sits at the edge only:
 * `run` is one `Effect.callback` whose interruption kills the job's worker;
 * the bookkeeping inside is plain synchronous code.
 */
import { createRequire } from "node:module"
import { availableParallelism } from "node:os"
import { pathToFileURL } from "node:url"
import { Worker } from "node:worker_threads"
import { Effect } from "effect"
import type { TaskEvent } from "@tasklane/core"
import type { TaskDefinition } from "@tasklane/tasks/host"
import type { Call, FromWorker, Job, ToWorker, WorkerData } from "./internal/WorkerProtocol.ts"

/** Pool settings. */
export interface PoolOptions {
  /** What the workers load: the daemon's task sources. */
  readonly data: Omit<WorkerData, "abortFlag">
  /** Most live workers. */
  readonly maxWorkers: number
  /** A worker idle this long is terminated. */
  readonly idleMs: number
  /** Spans task code created in a worker (tracing on: `data.tracing`). */
  readonly onSpans?: ((spans: ReadonlyArray<unknown>) => void) | undefined
  /** Effect log records task code wrote in a worker (tracing on). */
  readonly onLogs?: ((records: ReadonlyArray<unknown>) => void) | undefined
}

/** How a job ended. */
export type JobResult =
  | { readonly _tag: "Answer"; readonly value: unknown }
  /** Task code raised an unhandled rejection or an uncaught exception. */
  | { readonly _tag: "Uncaught"; readonly error: TaskEvent.ErrorInfo }
  /** The worker died under the job (out of memory, `process.exit()`, a fatal error) or could not load the tasks. */
  | { readonly _tag: "Died"; readonly error: TaskEvent.ErrorInfo }
  /** The job's signal fired (an abort) before any worker took it: it never ran. */
  | { readonly _tag: "Cancelled" }

/** What a job's code may ask of the daemon while it runs. */
export interface JobHost {
  /** Fires when the task is asked to abort. */
  readonly signal?: AbortSignal | undefined
  readonly onLog?: ((entry: TaskDefinition.LogEntry) => void) | undefined
  readonly onProgress?: ((progress: TaskDefinition.Progress) => void) | undefined
  readonly onCall?: ((request: Call) => Promise<unknown>) | undefined
}

/** The pool. */
export interface WorkerPool {
  /** Runs a job on a worker with this heap limit; interrupting it kills the worker. */
  readonly run: (job: Job, memoryMb: number, host: JobHost) => Effect.Effect<JobResult>
  /** Live workers (busy or idle). */
  readonly size: () => number
  /** Terminates every worker; waiting jobs end `Died`. */
  readonly close: () => Promise<void>
}

interface Request {
  readonly job: Job
  readonly memoryMb: number
  readonly host: JobHost
  readonly done: (result: JobResult) => void
  /** When it started waiting (ms). */
  readonly queuedAt: number
  slot?: Slot | undefined
  onAbort?: (() => void) | undefined
}

interface Slot {
  readonly worker: Worker
  readonly memoryMb: number
  readonly abortFlag: Int32Array
  ready: boolean
  request: Request | undefined
  /** When its current job was posted. */
  startedAt: number
  idleTimer: ReturnType<typeof setTimeout> | undefined
  fatal: Error | undefined
}

/** Workers starting at once: one per core (a start is CPU-bound). */
const maxStarting = Math.max(1, availableParallelism())
/** A job that waited this long for a worker starts another one. */
const spawnAfterMs = 200

const bundled = import.meta.url.endsWith(".mjs")

/** The worker script: next to the daemon bundle, or (running from source) the TypeScript entry loaded through tsx. */
const spawnWorker = (options: ConstructorParameters<typeof Worker>[1]): Worker => {
  if (bundled) return new Worker(new URL("./worker.mjs", import.meta.url), options)
  // tsx's ES module API (require.resolve would give its CommonJS build), next to its package.json.
  const tsx = new URL("dist/esm/api/index.mjs", pathToFileURL(createRequire(import.meta.url).resolve("tsx/package.json"))).href
  const entry = new URL("./worker/TaskWorker.ts", import.meta.url).href
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(bootstrap, { ...options, eval: true })
}

const died = (slot: Slot, exitCode: number): TaskEvent.ErrorInfo => {
  const fatal = slot.fatal as (Error & { code?: string }) | undefined
  if (fatal?.code === "ERR_WORKER_OUT_OF_MEMORY") {
    return { message: `the worker thread ran out of memory (heap limit ${slot.memoryMb} MB)`, code: "WORKER_OUT_OF_MEMORY" }
  }
  if (fatal !== undefined) return { message: `the worker thread failed: ${fatal.message}`, code: "WORKER_FAILED" }
  return { message: `the worker thread exited with code ${exitCode} (task code called process.exit?)`, code: "WORKER_EXITED" }
}

/** Makes a pool; nothing is spawned until the first job. */
export const make = (options: PoolOptions): WorkerPool => {
  const slots = new Set<Slot>()
  const waiting: Array<Request> = []
  let spawnTimer: ReturnType<typeof setTimeout> | undefined
  // When a worker last became ready (ms).
  let lastReady = 0

  const post = (slot: Slot, message: ToWorker) => slot.worker.postMessage(message)

  const finish = (request: Request, result: JobResult) => {
    if (request.onAbort !== undefined) request.host.signal?.removeEventListener("abort", request.onAbort)
    request.slot = undefined
    request.done(result)
  }

  const retire = (slot: Slot) => {
    slots.delete(slot)
    clearTimeout(slot.idleTimer)
    void slot.worker.terminate()
  }

  const idle = (slot: Slot) => {
    slot.request = undefined
    slot.idleTimer = setTimeout(() => retire(slot), options.idleMs)
    slot.idleTimer.unref()
    dispatch()
  }

  /** A worker that could not start would fail again: the jobs waiting for its heap limit fail with its reason. */
  const failStart = (slot: Slot, error: TaskEvent.ErrorInfo) => {
    retire(slot)
    for (const request of waiting.filter((request) => request.memoryMb === slot.memoryMb)) {
      waiting.splice(waiting.indexOf(request), 1)
      finish(request, { _tag: "Died", error })
    }
    dispatch()
  }

  /** Ends the slot's job (if any) with `result` and retires the worker. */
  const fail = (slot: Slot, result: JobResult) => {
    const request = slot.request
    slot.request = undefined
    retire(slot)
    if (request !== undefined) finish(request, result)
    dispatch()
  }

  const start = (slot: Slot, request: Request) => {
    clearTimeout(slot.idleTimer)
    slot.request = request
    slot.startedAt = Date.now()
    request.slot = slot
    Atomics.store(slot.abortFlag, 0, 0)
    const signal = request.host.signal
    if (signal !== undefined) {
      request.onAbort = () => {
        Atomics.store(slot.abortFlag, 0, 1)
        post(slot, { _tag: "Abort" })
      }
      signal.addEventListener("abort", request.onAbort, { once: true })
    }
    post(slot, { _tag: "Job", job: request.job })
    if (signal?.aborted) request.onAbort?.()
  }

  const onMessage = (slot: Slot, message: FromWorker) => {
    const request = slot.request
    switch (message._tag) {
      case "Ready":
        slot.ready = true
        lastReady = Date.now()
        return dispatch()
      case "LoadFailed":
        return failStart(slot, { message: `the worker thread could not load the tasks: ${message.message}`, code: "WORKER_LOAD_FAILED" })
      case "Log":
        return request?.host.onLog?.(message.entry)
      case "Progress":
        return request?.host.onProgress?.(message.progress)
      case "Call": {
        const answer = request?.host.onCall?.(message.request) ?? Promise.reject(new Error("no host for this call"))
        answer.then(
          (value) => slot.request === request && post(slot, { _tag: "Reply", call: message.call, value }),
          (error: unknown) =>
            slot.request === request && post(slot, { _tag: "Reply", call: message.call, error: error instanceof Error ? error.message : String(error) }),
        )
        return
      }
      case "Answer":
        if (request === undefined) return
        finish(request, { _tag: "Answer", value: message.value })
        return idle(slot)
      case "Spans":
        return options.onSpans?.(message.spans)
      case "Logs":
        return options.onLogs?.(message.records)
      case "Uncaught":
        return fail(slot, { _tag: "Uncaught", error: message.error })
    }
  }

  const spawn = (memoryMb: number): Slot => {
    const abortFlag = new SharedArrayBuffer(4)
    const worker = spawnWorker({
      workerData: { ...options.data, abortFlag } satisfies WorkerData,
      resourceLimits: { maxOldGenerationSizeMb: memoryMb },
      stdout: false,
      stderr: false,
    })
    const slot: Slot = { worker, memoryMb, abortFlag: new Int32Array(abortFlag), ready: false, request: undefined, startedAt: 0, idleTimer: undefined, fatal: undefined }
    worker.on("message", (message: FromWorker) => onMessage(slot, message))
    worker.on("error", (error) => (slot.fatal = error))
    worker.on("exit", (code) => {
      if (!slots.has(slot)) return // retired: its job, if any, was already ended
      if (slot.ready) fail(slot, { _tag: "Died", error: died(slot, code) })
      else failStart(slot, died(slot, code))
    })
    slots.add(slot)
    return slot
  }

  const idleSlot = (memoryMb: number): Slot | undefined => {
    for (const slot of slots) if (slot.ready && slot.request === undefined && slot.memoryMb === memoryMb) return slot
    return undefined
  }

  const dispatch = () => {
    // Jobs aborted while they waited never start.
    for (let i = 0; i < waiting.length;) {
      if (waiting[i]!.host.signal?.aborted === true) finish(waiting.splice(i, 1)[0]!, { _tag: "Cancelled" })
      else i++
    }
    // Idle workers take the oldest jobs they fit.
    for (let i = 0; i < waiting.length;) {
      const slot = idleSlot(waiting[i]!.memoryMb)
      if (slot === undefined) i++
      else start(slot, waiting.splice(i, 1)[0]!)
    }
    // Another worker starts only when a job has waited a while for one (at once when there is none
    // with its heap limit): a start costs about a second of CPU, and short jobs are served fastest by
    // the few workers there are, so a burst of them must not start a thread per job; jobs that hold
    // their workers longer (I/O: a job waits, its worker idles) leave the queue waiting, and the pool grows.
    if (waiting.length === 0) return
    const oldest = waiting[0]!
    const memoryMb = oldest.memoryMb
    let starting = 0
    let fitting = 0
    for (const slot of slots) {
      if (!slot.ready) starting++
      if (slot.memoryMb === memoryMb) fitting++
    }
    if (starting >= maxStarting) return
    // One start at a time while some worker fits: the one starting may drain the queue, and so may the
    // last one to get ready, given the same while.
    if (fitting > 0 && starting > 0) return
    const now = Date.now()
    const due = Math.max(oldest.queuedAt, lastReady) + spawnAfterMs
    if (fitting > 0 && due > now) {
      spawnTimer ??= setTimeout(() => {
        spawnTimer = undefined
        dispatch()
      }, due - now)
      return
    }
    if (slots.size >= options.maxWorkers) {
      // Make room by retiring an idle worker with another heap limit, if any.
      const other = [...slots].find((slot) => slot.request === undefined)
      if (other === undefined) return
      retire(other)
    }
    spawn(memoryMb)
  }

  const cancel = (request: Request) => {
    const slot = request.slot
    if (slot === undefined) {
      const index = waiting.indexOf(request)
      if (index >= 0) waiting.splice(index, 1)
      return
    }
    slot.request = undefined
    if (request.onAbort !== undefined) request.host.signal?.removeEventListener("abort", request.onAbort)
    retire(slot)
    dispatch()
  }

  return {
    run: (job, memoryMb, host) =>
      Effect.callback<JobResult>((resume) => {
        const request: Request = { job, memoryMb, host, done: (result) => resume(Effect.succeed(result)), queuedAt: Date.now() }
        waiting.push(request)
        // A waiting job whose task is asked to abort ends at once, without a worker.
        host.signal?.addEventListener("abort", dispatch, { once: true })
        dispatch()
        return Effect.sync(() => cancel(request))
      }),
    size: () => slots.size,
    close: async () => {
      clearTimeout(spawnTimer)
      for (const request of waiting.splice(0)) finish(request, { _tag: "Died", error: { message: "the daemon is stopping" } })
      await Promise.all([...slots].map((slot) => (slots.delete(slot), slot.worker.terminate())))
    },
  }
}
