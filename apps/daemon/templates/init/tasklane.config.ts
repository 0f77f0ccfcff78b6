/** What the daemon loads: `tasklane daemon --config tasklane.config.ts`. List new tasks here. */
import { defineConfig } from "@tasklane/tasks"
import greet from "./tasks/Greet.ts"
import { layerEnglish } from "./tasks/Greeter.ts"

export default defineConfig({
  tasks: [greet],
  // Provides the services the tasks' constructors take; leave one out and this file does not compile.
  layer: layerEnglish,
})
