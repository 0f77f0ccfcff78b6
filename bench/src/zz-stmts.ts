import { readdirSync, statSync, copyFileSync } from "node:fs"
import { join } from "node:path"
import * as Postgres from "../../packages/core/test/support/Postgres.ts"
import * as Tasklane from "./Tasklane.ts"
import { fullSizes } from "./Workload.ts"

const n = Number(process.argv[2] ?? 3)
const tasksDir = join(import.meta.dirname, "tasks")
const pg = await Postgres.start()
const daemons: Array<Tasklane.Daemon> = []
try {
  const store = await pg.createDatabase()
  const db = store.slice(store.lastIndexOf("/") + 1)
  for (let i = 1; i <= n; i++) daemons.push(await Tasklane.startDaemon({ concurrency: 8, isolation: "inline", tasks: [tasksDir], store, ...(n > 1 ? { nodeId: `p-${i}` } : {}) }))
  await Tasklane.throughput(daemons, fullSizes, "sleep100", null, 8 * n, 1)
  await pg.psql("postgres", `ALTER SYSTEM SET log_statement = 'all'`); await pg.psql("postgres", `SELECT pg_reload_conf()`)
  await pg.psql(db, `SELECT 'MARK-START'`)
  const b = await Tasklane.throughput(daemons, fullSizes, "sleep100", null, 400 * n, 1)
  await pg.psql(db, `SELECT 'MARK-END'`)
  console.log(`${n} daemons: ${b.throughput.toFixed(1)} tasks/s, ${400 * n} tasks`)
  const dir = readdirSync("/tmp").filter((d) => d.startsWith("tasklane-pg-")).map((d) => join("/tmp", d)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!
  copyFileSync(join(dir, "server.log"), `/tmp/prof/stmts-${n}.log`)
} finally {
  await Promise.all(daemons.map((d) => d.stop()))
  await pg.stop()
}
