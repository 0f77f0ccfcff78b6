import { readFileSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import * as Postgres from "../../packages/core/test/support/Postgres.ts"
import * as Tasklane from "./Tasklane.ts"
import { fullSizes } from "./Workload.ts"

const n = Number(process.argv[2] ?? 3)
const dir = process.argv[3]
const tasksDir = join(import.meta.dirname, "tasks")
const cpu = () => { const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.split(/\s+/).slice(1).map(Number); return { busy: f[0]! + f[1]! + f[2]! + f[5]! + f[6]!, idle: f[3]! + f[4]! } }
const pg = await Postgres.start()
const daemons: Array<Tasklane.Daemon> = []
try {
  const store = await pg.createDatabase()
  if (dir) mkdirSync(dir, { recursive: true })
  for (let i = 1; i <= n; i++) daemons.push(await Tasklane.startDaemon({ concurrency: 8, isolation: "inline", tasks: [tasksDir], store, ...(n > 1 ? { nodeId: `p-${i}` } : {}), ...(dir ? { cpuProfileDir: dir } : {}) }))
  await Tasklane.throughput(daemons, fullSizes, "sleep100", null, 8 * n, 1)
  for (let r = 0; r < 3; r++) {
    const c0 = cpu()
    const b = await Tasklane.throughput(daemons, fullSizes, "sleep100", null, 400 * n, 1)
    const c1 = cpu()
    const busy = c1.busy - c0.busy, idle = c1.idle - c0.idle
    console.log(`${n} daemons: ${b.throughput.toFixed(1)} tasks/s over ${b.seconds.toFixed(1)} s, daemon cpu ${b.usage.cpuSeconds} s, machine busy ${(100 * busy / (busy + idle)).toFixed(0)}%`)
  }
} finally {
  await Promise.all(daemons.map((d) => d.stop()))
  await pg.stop()
}
