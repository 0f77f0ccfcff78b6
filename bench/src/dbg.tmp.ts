import { connect } from "@tasklane/daemon/client"
import { Effect, Stream } from "effect"
const c = await connect(process.argv[2]!)
const head = (await c.call((x) => x.Info())).head
const seen: Record<string, number> = {}
Effect.runFork(c.client.Subscribe({ fromPosition: head + 1 }).pipe(Stream.runForEach((e) => Effect.sync(() => { seen[e.type] = (seen[e.type] ?? 0) + 1 }))))
const t0 = Date.now()
await Promise.all(Array.from({ length: 50 }, () => c.call((x) => x.Trigger({ definitionId: "noop", input: null }))))
console.log("triggered in", Date.now() - t0, "ms")
await new Promise((r) => setTimeout(r, 3000))
console.log(seen, (await c.call((x) => x.Info())))
process.exit(0)
