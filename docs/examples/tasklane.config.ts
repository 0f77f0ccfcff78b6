/** What `tasklane daemon --config docs/examples/tasklane.config.ts` loads: the guide's tasks and their services. */
import { defineConfig } from "@tasklane/tasks"
import backup from "./Backup.ts"
import backupAll from "./BackupAll.ts"
import countLines from "./CountLines.ts"
import drainInbox from "./DrainInbox.ts"
import exportUsers from "./ExportUsers.ts"
import hello from "./Hello.ts"
import importRates from "./ImportRates.ts"
import { layerOutbox } from "./Mailer.ts"
import sendDigest from "./SendDigest.ts"

/** The configuration; without `layer` (or with a layer lacking Mailer) this file does not compile. */
export default defineConfig({
  tasks: [hello, countLines, exportUsers, backup, drainInbox, importRates, sendDigest, backupAll],
  layer: layerOutbox("outbox.jsonl"),
  concurrency: 4,
})
