/** The scheduler's waiting room against a plain model: FIFO of ready tasks, wake-time order, removal. */
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { TaskQueue } from "../src/internal/TaskQueue.ts"

type Op =
  | { readonly op: "add"; readonly id: number; readonly wakeAt: number | undefined }
  | { readonly op: "remove"; readonly id: number }
  | { readonly op: "take" }
  | { readonly op: "tick"; readonly by: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("add" as const), id: fc.nat(20), wakeAt: fc.option(fc.nat(50), { nil: undefined }) }),
  fc.record({ op: fc.constant("remove" as const), id: fc.nat(20) }),
  fc.constant({ op: "take" as const }),
  fc.record({ op: fc.constant("tick" as const), by: fc.nat(10) }),
)

describe("TaskQueue", () => {
  it("behaves like the model: ready tasks in arrival order, due tasks by wake time, removed tasks never taken", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const queue = new TaskQueue()
        // The model: queued tasks with their wake time and, once ready, the order in which they became ready.
        let model: Array<{ id: string; wakeAt: number; seq: number; readyOrder: number }> = []
        let now = 0
        let seq = 0
        for (const step of ops) {
          if (step.op === "add") {
            const id = `t${step.id}`
            queue.add(id, step.wakeAt, now)
            if (!model.some((m) => m.id === id)) {
              const wakeAt = step.wakeAt === undefined || step.wakeAt <= now ? now : step.wakeAt
              model.push({ id, wakeAt, seq: seq++, readyOrder: wakeAt <= now ? seq++ : Number.POSITIVE_INFINITY })
            }
          } else if (step.op === "remove") {
            queue.remove(`t${step.id}`)
            model = model.filter((m) => m.id !== `t${step.id}`)
          } else if (step.op === "tick") {
            now += step.by
          } else {
            queue.promote(now)
            // Promotion moves due tasks to the back of the FIFO in wake-time order.
            const due = model.filter((m) => m.readyOrder === Number.POSITIVE_INFINITY && m.wakeAt <= now).sort((a, b) => a.wakeAt - b.wakeAt || a.seq - b.seq)
            for (const m of due) m.readyOrder = seq++
            const ready = model.filter((m) => m.readyOrder !== Number.POSITIVE_INFINITY).sort((a, b) => a.readyOrder - b.readyOrder)
            const taken = queue.take()
            expect(taken).toBe(ready[0]?.id)
            if (taken !== undefined) model = model.filter((m) => m.id !== taken)
          }
          expect(queue.size).toBe(model.length)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it("a task removed during its delay is not counted and never taken", () => {
    const queue = new TaskQueue()
    queue.add("late", 1_000, 0)
    queue.add("now", undefined, 0)
    queue.remove("late")
    expect(queue.size).toBe(1)
    queue.promote(2_000)
    expect([queue.take(), queue.take()]).toEqual(["now", undefined])
    expect(queue.nextWakeAt()).toBeUndefined()
  })
})
