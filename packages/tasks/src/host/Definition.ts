/**
 * A task definition as the daemon uses it: the instance's metadata checked and
 * completed with the defaults. Validation runs when the daemon loads its config
 * (`loadDefinitions`) and fails with one typed {@link InvalidDefinition} that
 * names the offending class and lists everything wrong with it.
 *
 * A definition split as Webiny v6 splits it (metadata + `handler`) is built
 * here too: the handler is constructed with its own services, and the
 * definition the daemon runs is one object whose metadata is the definition
 * class's and whose `run`, hooks and input schema are the handler's.
 */
import { Schedule } from "@tasklane/core"
import { Cause, type Context, Effect, Result, Schema } from "effect"
import { type Implementation, isImplementation } from "../Implementation.ts"
import { defaults, type Handler, type Interface, type Isolation, type Runnable, type ScheduleDeclaration } from "../Interface.ts"
import { InvalidDefinition } from "../InvalidDefinition.ts"
import type { RetryPolicy } from "../Retry.ts"
import { inputValidationProblem } from "./InputCodec.ts"
import { retryPolicyProblems } from "./RetryPolicy.ts"

/** A definition id: camelCase letters and digits, starting with a lowercase letter. */
export const idPattern = /^[a-z][a-zA-Z0-9]*$/

/** A validated task definition with every default applied. */
export interface Definition<Input = any, Output = any> {
  readonly id: string
  readonly title: string
  readonly description: string | undefined
  readonly maxIterations: number
  readonly databaseLogs: boolean
  readonly isPrivate: boolean
  readonly timeout: number
  readonly closeToTimeout: number
  readonly retry: RetryPolicy | undefined
  /** Most iterations running at once; undefined: only the daemon's global limit applies. */
  readonly concurrency: number | undefined
  /** Where its code runs; undefined: the daemon's default. */
  readonly isolation: Isolation | undefined
  /** Heap limit of its worker in MB; undefined: the daemon's default. */
  readonly memoryLimitMb: number | undefined
  /** Re-runs of an iteration after daemon crashes before it fails as `crashedDaemon`. */
  readonly maxCrashRetries: number
  /** The schedules it declares (none: empty); cron and zone checked, input not yet (the daemon checks it at start). */
  readonly schedules: ReadonlyArray<ScheduleDeclaration>
  /** The class's name, for messages. */
  readonly className: string
  /** The instance whose `run` and hooks the daemon calls (with a `handler`: the merged definition and handler). */
  readonly task: Runnable<Input, Output>
}

const classNameOf = (task: unknown): string => {
  const name = (task as { constructor?: { name?: unknown } } | null | undefined)?.constructor?.name
  return typeof name === "string" && name !== "" ? name : "<anonymous>"
}

const isPositive = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n > 0
const hooks = ["onBeforeTrigger", "onDone", "onError", "onAbort", "onMaxIterations", "createInputValidation"] as const

const handlerMembers = ["run", ...hooks] as const

/**
 * The definition with its built handler's `run`, hooks and input schema
 * (bound to the handler); metadata, class name and anything else still come
 * from the definition instance, its prototype.
 */
export const withHandler = (definition: Interface, handler: Handler): Runnable => {
  const merged = Object.create(definition) as Record<string, unknown>
  for (const member of handlerMembers) {
    const fn = (handler as unknown as Record<string, unknown>)[member]
    if (typeof fn === "function") merged[member] = fn.bind(handler)
  }
  return merged as unknown as Runnable
}

/** A declared schedule's name: what its stable id (`<definition id>.<name>`) is made of. */
export const scheduleNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/

/** The Schema of one entry of a definition's `schedules` (see `ScheduleDeclaration`). */
export const ScheduleDeclarationSchema = Schema.Struct({
  name: Schema.String,
  cron: Schema.String,
  tz: Schema.optional(Schema.String),
  input: Schema.optional(Schema.Unknown),
  overlap: Schema.optional(Schedule.Overlap),
  catchUp: Schema.optional(Schedule.CatchUp),
})

const decodeSchedules = Schema.decodeUnknownExit(Schema.Array(ScheduleDeclarationSchema))

const scheduleProblems = (schedules: unknown): Array<string> => {
  const decoded = decodeSchedules(schedules, { errors: "all" })
  if (decoded._tag === "Failure") {
    const error = Cause.squash(decoded.cause)
    const reason = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ")
    return [`schedules must be an array of { name, cron, tz?, input?, overlap?, catchUp? }: ${reason}`]
  }
  const problems: Array<string> = []
  const seen = new Set<string>()
  for (const declared of decoded.value) {
    const label = `schedule "${declared.name}"`
    if (!scheduleNamePattern.test(declared.name)) {
      problems.push(`${label}: the name must be 1 to 64 letters, digits, "-" or "_" (it makes the schedule's id)`)
    }
    if (seen.has(declared.name)) problems.push(`${label} is declared twice`)
    seen.add(declared.name)
    const cron = Schedule.parseCron(declared.cron, declared.tz)
    if (Result.isFailure(cron)) problems.push(`${label}: invalid ${cron.failure.field}: ${cron.failure.reason}`)
  }
  return problems
}

const problemsOf = (task: Interface): Array<string> => {
  const problems: Array<string> = []
  const { id, title, description, maxIterations, timeout, closeToTimeout, databaseLogs, isPrivate, retry, concurrency } = task
  const { isolation, memoryLimitMb, maxCrashRetries } = task
  if (typeof id !== "string") problems.push(`id must be a string, got ${typeof id}`)
  else if (!idPattern.test(id)) {
    problems.push(`id "${id}" is not camelCase: it must match ${String(idPattern)}, e.g. "reindexCatalog"`)
  }
  if (typeof title !== "string" || title.trim() === "") problems.push("title must be a non-empty string")
  if (description !== undefined && typeof description !== "string") problems.push("description must be a string")
  if (maxIterations !== undefined && !(Number.isInteger(maxIterations) && maxIterations > 0)) {
    problems.push(`maxIterations must be a positive integer, got ${String(maxIterations)}`)
  }
  if (timeout !== undefined && !isPositive(timeout)) {
    problems.push(`timeout must be a positive number of seconds, got ${String(timeout)}`)
  }
  if (closeToTimeout !== undefined && !isPositive(closeToTimeout)) {
    problems.push(`closeToTimeout must be a positive number of seconds, got ${String(closeToTimeout)}`)
  } else if ((closeToTimeout ?? defaults.closeToTimeout) >= (isPositive(timeout) ? timeout : defaults.timeout)) {
    const threshold = closeToTimeout === undefined ? `${defaults.closeToTimeout}s, the default` : `${closeToTimeout}s`
    problems.push(
      `closeToTimeout (${threshold}) must be below timeout (${timeout ?? defaults.timeout}s), ` +
        "or isCloseToTimeout() is always true; set a smaller closeToTimeout",
    )
  }
  if (databaseLogs !== undefined && typeof databaseLogs !== "boolean") problems.push("databaseLogs must be a boolean")
  if (isPrivate !== undefined && typeof isPrivate !== "boolean") problems.push("isPrivate must be a boolean")
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
    problems.push(`concurrency must be a positive integer, got ${String(concurrency)}`)
  }
  if (isolation !== undefined && isolation !== "inline" && isolation !== "worker") {
    problems.push(`isolation must be "inline" or "worker", got ${JSON.stringify(isolation)}`)
  }
  if (memoryLimitMb !== undefined && !(Number.isInteger(memoryLimitMb) && memoryLimitMb >= 16)) {
    problems.push(`memoryLimitMb must be an integer of at least 16, got ${String(memoryLimitMb)}`)
  }
  if (maxCrashRetries !== undefined && !(Number.isInteger(maxCrashRetries) && maxCrashRetries >= 0)) {
    problems.push(`maxCrashRetries must be an integer >= 0, got ${String(maxCrashRetries)}`)
  }
  if (task.schedules !== undefined) problems.push(...scheduleProblems(task.schedules))
  if (retry !== undefined) {
    if (typeof retry === "object" && retry !== null) problems.push(...retryPolicyProblems(retry))
    else problems.push("retry must be an object like { maxAttempts, backoff? }")
  }
  if (typeof task.run !== "function") {
    problems.push(task.handler === undefined ? "run must be a method (or set handler)" : "its handler has no run method")
  }
  for (const hook of hooks) {
    if (task[hook] !== undefined && typeof task[hook] !== "function") problems.push(`${hook} must be a method`)
  }
  if (typeof task.createInputValidation === "function") {
    const problem = inputValidationProblem(task)
    if (problem !== undefined) problems.push(problem)
  }
  return problems
}

/** Check one task instance and apply the defaults. */
export const resolveDefinition = <Input, Output>(
  task: Interface<Input, Output>,
): Effect.Effect<Definition<Input, Output>, InvalidDefinition> =>
  Effect.suspend(() => {
    const className = classNameOf(task)
    const problems = problemsOf(task)
    if (problems.length > 0) {
      const id = typeof task.id === "string" ? { id: task.id } : {}
      return Effect.fail(new InvalidDefinition({ className, ...id, reasons: problems }))
    }
    return Effect.succeed({
      id: task.id,
      title: task.title,
      description: task.description,
      maxIterations: task.maxIterations ?? defaults.maxIterations,
      databaseLogs: task.databaseLogs ?? defaults.databaseLogs,
      isPrivate: task.isPrivate ?? defaults.isPrivate,
      timeout: task.timeout ?? defaults.timeout,
      closeToTimeout: task.closeToTimeout ?? defaults.closeToTimeout,
      retry: task.retry,
      concurrency: task.concurrency,
      isolation: task.isolation,
      memoryLimitMb: task.memoryLimitMb,
      maxCrashRetries: task.maxCrashRetries ?? defaults.maxCrashRetries,
      schedules: task.schedules ?? [],
      className,
      task: task as Runnable<Input, Output>,
    })
  })

/** Check task instances one by one (in order) and that their ids are unique. */
export const validateDefinitions = (
  tasks: Iterable<Interface>,
): Effect.Effect<ReadonlyArray<Definition>, InvalidDefinition> =>
  Effect.gen(function*() {
    const byId = new Map<string, Definition>()
    for (const task of tasks) {
      const definition = yield* resolveDefinition(task)
      const other = byId.get(definition.id)
      if (other !== undefined) {
        return yield* new InvalidDefinition({
          className: definition.className,
          id: definition.id,
          reasons: [`id "${definition.id}" is already used by ${other.className}`],
        })
      }
      byId.set(definition.id, definition)
    }
    return Array.from(byId.values())
  })

/** Build `task`'s handler, if it has one, with services from `context`; the definition to validate. */
const buildHandler = <R>(task: Interface, className: string, context: Context.Context<R>): Effect.Effect<Interface, InvalidDefinition> => {
  const handler = task.handler
  if (handler === undefined) return Effect.succeed(task)
  if (!isImplementation(handler)) {
    return Effect.fail(new InvalidDefinition({ className, reasons: ["handler must be TaskHandler.createImplementation(...)"] }))
  }
  return handler.instantiate(context).pipe(
    Effect.mapError((error) => new InvalidDefinition({ className, reasons: error.reasons.map((reason) => `its handler ${error.className}: ${reason}`) })),
    Effect.map((built) => withHandler(task, built as Handler)),
  )
}

/** Instantiate implementations (and their handlers) with services from `context`, then validate them. */
export const loadDefinitions = <R>(
  implementations: Iterable<Implementation<Interface, R>>,
  context: Context.Context<R>,
): Effect.Effect<ReadonlyArray<Definition>, InvalidDefinition> =>
  Effect.forEach(implementations, (implementation) =>
    implementation.instantiate(context).pipe(Effect.flatMap((task) => buildHandler(task, implementation.className, context)))).pipe(
    Effect.flatMap(validateDefinitions),
  )
