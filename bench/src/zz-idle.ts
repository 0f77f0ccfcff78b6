import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as Postgres from "../../packages/core/test/support/Postgres.ts"
import * as Tasklane from "./Tasklane.ts"
const tasksDir = join(import.meta.dirname, "tasks")
const cpuOf = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" "); return (Number(f[11]) + Number(f[12])) / 100 }
const pg = await Postgres.start()
const daemons: Array<Tasklane.Daemon> = []
try {
  const store = await pg.createDatabase()
  for (let i = 1; i <= 3; i++) daemons.push(await Tasklane.startDaemon({ concurrency: 8, isolation: "inline", tasks: [tasksDir], store, nodeId: `p-${i}` }))
  await new Promise((r) => setTimeout(r, 3000))
  const c0 = daemons.map((d) => cpuOf(d.pid))
  await new Promise((r) => setTimeout(r, 10000))
  const c1 = daemons.map((d) => cpuOf(d.pid))
  console.log("idle cpu over 10 s per daemon:", c1.map((c, i) => (c - c0[i]!).toFixed(2)))
} finally {
  await Promise.all(daemons.map((d) => d.stop()))
  await pg.stop()
}
