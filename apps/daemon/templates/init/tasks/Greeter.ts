/** The Greeter service the greet task needs, and a layer that provides it. */
import { Context, Effect, Layer } from "effect"

/** Makes greetings. */
export class Greeter extends Context.Service<Greeter, {
  readonly greet: (name: string) => Effect.Effect<string>
}>()("my-tasks/Greeter") {}

/** A Greeter that greets in English (swap the layer in tasklane.config.ts to change it). */
export const layerEnglish = Layer.succeed(Greeter, {
  greet: (name) => Effect.succeed(`Hello, ${name}!`),
})
