/**
 * One private PostgreSQL cluster (Postgres.ts) for a whole test file:
 * started in vitest's beforeAll, stopped in afterAll. A file's own afterAll
 * (stopping its daemons, say) runs before that stop. Answers the cluster,
 * once started:
 *
 * ```ts
 * const pg = postgresForFile()
 * it("…", async () => { const url = await pg().createDatabase() })
 * ```
 */
import { afterAll, beforeAll } from "vitest"
import * as Postgres from "./Postgres.ts"

export const postgresForFile = (): (() => Postgres.Cluster) => {
  let cluster: Postgres.Cluster | undefined
  beforeAll(async () => {
    cluster = await Postgres.start()
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
  }, 60_000)
  return () => {
    if (cluster === undefined) throw new Error("the PostgreSQL cluster is not started (postgresForFile's beforeAll has not run)")
    return cluster
  }
}
