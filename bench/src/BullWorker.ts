/**
 * BullMQ worker process: run by BullMQ.ts as a child (`node --import tsx`),
 * so its CPU and RSS are measured apart from the producer. The parent sends
 * `{ type: "start", queue, mode, concurrency }` over IPC; this process opens
 * a BullMQ Worker on that queue and answers `{ type: "ready" }`; `{ type:
 * "stop" }` closes it and answers `{ type: "stopped" }`. Redis port: REDIS_PORT.
 *
 * Processors:
 * - `noop`: returns at once (workload a, c);
 * - `steps`: BullMQ's documented "process step jobs" pattern: one job walks
 *   through 20 steps, saving its progress with `job.updateData({ step })`
 *   after each of the first 19 so a retry resumes at the saved step (workload b);
 * - `requeue`: the step-job variant that gives other jobs a turn between
 *   steps: `job.updateData` + `job.moveToWait(token)` + `throw new
 *   WaitingError()` after each of the first 19 steps (reported as a side figure).
 */
import { type Job, WaitingError, Worker } from "bullmq"

type Mode = "noop" | "steps" | "requeue"
type Message = { readonly type: "start"; readonly queue: string; readonly mode: Mode; readonly concurrency: number; readonly steps: number } | { readonly type: "stop" }

const connection = { host: "127.0.0.1", port: Number(process.env["REDIS_PORT"]) }
let worker: Worker | undefined

const processor = (mode: Mode, steps: number) => async (job: Job<{ step: number }>, token?: string) => {
  if (mode === "noop") return null
  let step = job.data.step
  if (mode === "steps") {
    while (step < steps) {
      step++
      await job.updateData({ step })
    }
    return step
  }
  if (step >= steps) return step
  await job.updateData({ step: step + 1 })
  await job.moveToWait(token)
  throw new WaitingError()
}

process.on("message", (message: Message) => {
  void (async () => {
    if (message.type === "start") {
      worker = new Worker(message.queue, processor(message.mode, message.steps), { connection, concurrency: message.concurrency })
      worker.on("error", (error) => console.error(`bullmq worker: ${error.message}`))
      await worker.waitUntilReady()
      process.send!({ type: "ready" })
    } else {
      await worker?.close()
      worker = undefined
      process.send!({ type: "stopped" })
    }
  })()
})
process.send!({ type: "up" })
