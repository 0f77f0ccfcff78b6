/** The Mailer service that SendDigest needs, and a layer that provides it. */
import { appendFile } from "node:fs/promises"
import { Context, Effect, Layer } from "effect"

/** Sends a mail. */
export class Mailer extends Context.Service<Mailer, {
  readonly send: (to: string, subject: string, body: string) => Effect.Effect<void, Error>
}>()("docs/Mailer") {}

/** A Mailer that appends every mail to a JSON Lines file instead of sending it. */
export const layerOutbox = (file: string) =>
  Layer.succeed(Mailer, {
    send: (to, subject, body) =>
      Effect.tryPromise({
        try: () => appendFile(file, JSON.stringify({ to, subject, body }) + "\n"),
        catch: (cause) => new Error(`cannot write to the outbox ${file}`, { cause }),
      }),
  })
