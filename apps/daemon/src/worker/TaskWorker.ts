/**
 * The entry point of a worker thread that runs task code for the daemon
 * (`isolation: "worker"`; the pool is `WorkerPool.ts`, the messages
 * `internal/WorkerProtocol.ts`).
 *
 * Lifecycle: the thread loads the same task modules as the daemon (its
 * config, task folders, the examples) and builds the config's layer, so each
 * worker has its own services; then it answers `Ready` (or `LoadFailed`) and
 * runs one job at a time: an iteration (through `Iteration.iterate`, exactly
 * as the daemon runs one inline), a hook, or `onBeforeTrigger`. A fault of
 * task code outside its answer (unhandled rejection, uncaught exception) is
 * reported as `Uncaught`, after which the daemon retires this worker. Memory
 * exhaustion, `process.exit()` and hard kills end the thread; the daemon sees
 * that as the worker dying.
 */
import { parentPort, workerData } from "node:worker_threads"
import { Cause, Context, Effect, Layer, type Logger, Tracer } from "effect"
import { HttpBody, HttpClient, HttpClientResponse } from "effect/http"
import { OtlpExporter, OtlpLogger, OtlpSerialization, OtlpTracer } from "effect/observability"
import { examples } from "../examples/index.ts"
import { Iteration, TaskDefinition } from "@tasklane/tasks/host"
import { cloneable, type Call, type FromWorker, type Job, type ToWorker, type WorkerData } from "../internal/WorkerProtocol.ts"
import * as Registry from "../Registry.ts"
import * as TaskLoader from "../TaskLoader.ts"

const data = workerData as WorkerData
const port = parentPort!
const abortFlag = new Int32Array(data.abortFlag)

/** Posts a message; values task code produced that structured clone refuses are posted in their JSON form. */
const post = (message: FromWorker): void => {
  try {
    port.postMessage(message)
  } catch {
    port.postMessage(cloneable(message))
  }
}

const fault = (kind: string) => (error: unknown) => {
  const info = TaskDefinition.toErrorInfo(error)
  post({ _tag: "Uncaught", error: { ...info, message: `${kind} in task code: ${info.message}` } })
}
process.on("unhandledRejection", fault("unhandled rejection"))
process.on("uncaughtException", fault("uncaught exception"))

// The running job's abort controller, and the host calls waiting for the daemon's reply.
let abort = new AbortController()
let nextCall = 0
const calls = new Map<number, { readonly resolve: (value: unknown) => void; readonly reject: (error: Error) => void }>()

const call = <A>(request: Call): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const id = nextCall++
    calls.set(id, { resolve: resolve as (value: unknown) => void, reject })
    post({ _tag: "Call", call: id, request })
  })

const host: Iteration.Host = {
  onLog: (entry) => post({ _tag: "Log", entry }),
  onProgress: (progress) => post({ _tag: "Progress", progress }),
  trigger: (params) => call({ method: "trigger", params }),
  listChildren: (definitionId) => call({ method: "listChildren", definitionId }),
}

/** `isAborted()` also reads the shared flag, which the daemon sets even while this thread is busy. */
const sharedAbort = (controller: TaskDefinition.Controller<unknown, unknown>): TaskDefinition.Controller<unknown, unknown> => ({
  ...controller,
  runtime: {
    ...controller.runtime,
    isAborted: () => {
      if (Atomics.load(abortFlag, 0) === 1 && !abort.signal.aborted) abort.abort()
      return controller.runtime.isAborted()
    },
  },
})

/** With tracing on (`data.tracing`): the tracer and logger task code runs with, and the flush that posts its spans and logs to the daemon. */
interface WorkerTracing {
  readonly tracer: Tracer.Tracer
  readonly logger: Logger.Logger<unknown, void>
  readonly flush: Effect.Effect<void>
}

/**
 * Effect's OtlpTracer and OtlpLogger, whose "export" posts the spans and log
 * records to the daemon (which sends them to the OTLP endpoint with its
 * own): the serialization posts, the HTTP client only answers 204. Flushed
 * after every traced iteration, so they reach the daemon before the
 * iteration's answer.
 */
const makeTracing = Effect.gen(function*() {
  const tracer = yield* OtlpTracer.make({
    url: "http://tasklane-daemon/v1/traces",
    resource: { serviceName: "tasklane-worker" },
    exportInterval: "1 hour",
  })
  const logger = yield* OtlpLogger.make({
    url: "http://tasklane-daemon/v1/logs",
    resource: { serviceName: "tasklane-worker" },
    exportInterval: "1 hour",
  })
  return { tracer, logger, flush: (yield* OtlpExporter.Flusher).flush } satisfies WorkerTracing
}).pipe(
  Effect.provide(Layer.mergeAll(
    OtlpExporter.layerFlusher,
    Layer.succeed(OtlpSerialization.OtlpSerialization)({
      traces: (data) => {
        post({ _tag: "Spans", spans: data.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)) })
        return HttpBody.empty
      },
      metrics: () => HttpBody.empty,
      logs: (data) => {
        post({ _tag: "Logs", records: data.resourceLogs.flatMap((resource) => resource.scopeLogs.flatMap((scope) => scope.logRecords)) })
        return HttpBody.empty
      },
    }),
    Layer.succeed(HttpClient.HttpClient)(
      HttpClient.make((request) => Effect.succeed(HttpClientResponse.fromWeb(request, new Response(null, { status: 204 })))),
    ),
  )),
)

const unknownDefinition = (id: string) => new Error(`no task definition "${id}" is loaded in the worker`)

const runJob = (registry: Registry.Registry["Service"], tracing: WorkerTracing | undefined, job: Job): Effect.Effect<unknown> =>
  Effect.gen(function*() {
    const entry = registry.get(job.definitionId)?.definition
    if (entry === undefined) return yield* Effect.die(unknownDefinition(job.definitionId))
    switch (job._tag) {
      case "Iteration": {
        if (job.state.context.abortRequested) abort.abort()
        const iterate = Iteration.iterate({
          entry,
          state: job.state,
          now: Date.now,
          signal: abort.signal,
          // The pool enforces the timeout and a forced abort by ending the thread.
          stop: new Iteration.Stop(),
          host,
          adjust: sharedAbort,
        })
        const { command } = yield* (tracing === undefined || job.trace === undefined
          ? iterate
          : iterate.pipe(
            Effect.withParentSpan(Tracer.externalSpan({ ...job.trace, sampled: true })),
            Effect.withTracer(tracing.tracer),
            Effect.withLogger(tracing.logger),
            Effect.ensuring(tracing.flush),
          ))
        return command
      }
      case "Hook": {
        const hook = entry.task[job.hook]
        if (hook === undefined) return undefined
        const outcome = yield* TaskDefinition.toEffect(() => hook.call(entry.task, job.params)).pipe(Effect.result)
        return outcome._tag === "Failure" ? TaskDefinition.toErrorInfo(outcome.failure) : undefined
      }
      case "BeforeTrigger": {
        const before = entry.task.onBeforeTrigger
        if (before === undefined) return undefined
        const input = yield* TaskDefinition.decodeInput(entry.task, job.input).pipe(Effect.orDie)
        const params = TaskDefinition.beforeTriggerParams({ definition: entry, input, name: job.name, parentId: job.parentId })
        const outcome = yield* TaskDefinition.toEffect(() => before.call(entry.task, params)).pipe(Effect.result)
        return outcome._tag === "Failure" ? TaskDefinition.toErrorInfo(outcome.failure).message : undefined
      }
    }
  })

const serve = (registry: Registry.Registry["Service"], tracing: WorkerTracing | undefined) =>
  Effect.callback<never>(() => {
    port.on("message", (message: ToWorker) => {
      switch (message._tag) {
        case "Job":
          Atomics.store(abortFlag, 0, 0)
          abort = new AbortController()
          Effect.runFork(
            runJob(registry, tracing, message.job).pipe(
              Effect.flatMap((value) => Effect.sync(() => post({ _tag: "Answer", value }))),
              Effect.catchCause((cause) => Effect.sync(() => fault("failure")(Cause.squash(cause)))),
            ),
          )
          return
        case "Abort":
          abort.abort()
          return
        case "Reply": {
          const waiting = calls.get(message.call)
          calls.delete(message.call)
          if (message.error === undefined) waiting?.resolve(message.value)
          else waiting?.reject(new Error(message.error))
          return
        }
      }
    })
  })

const program = Effect.gen(function*() {
  const loaded = yield* TaskLoader.load({ configPath: data.configPath, taskDirs: data.taskDirs, cwd: process.cwd() })
  const implementations = [...(data.examples ? examples : []), ...loaded.implementations]
  const context = yield* Layer.build(Registry.layer(implementations, loaded.config?.layer))
  const registry = Context.get(context, Registry.Registry)
  const tracing = data.tracing === true ? yield* makeTracing : undefined
  post({ _tag: "Ready" })
  return yield* serve(registry, tracing)
})

Effect.runFork(
  Effect.scoped(program).pipe(
    Effect.catchCause((cause) => Effect.sync(() => post({ _tag: "LoadFailed", message: TaskDefinition.toErrorInfo(Cause.squash(cause)).message }))),
  ),
)
