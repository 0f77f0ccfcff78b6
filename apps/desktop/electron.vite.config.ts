/**
 * electron-vite build of the three processes. `out/renderer` is also what the
 * daemon's web mode serves to browsers (`tasklane daemon --http …`), so the
 * renderer uses relative asset paths (`base: "./"`).
 */
import react from "@vitejs/plugin-react"
import { defineConfig } from "electron-vite"
import { resolve } from "node:path"

export default defineConfig({
  // Main: ESM (out/main/index.js), self-contained: workspace packages ship
  // TypeScript sources, so they (and effect) are bundled, not left to Node.
  // The daemon is not bundled: main spawns @tasklane/daemon's bin.
  main: {
    build: {
      externalizeDeps: false,
      rollupOptions: { input: { index: resolve(import.meta.dirname, "src/main/index.ts") } },
    },
  },
  // Preload: a sandboxed preload must be one CommonJS file that requires
  // nothing but "electron" (out/preload/index.cjs), so everything is bundled.
  preload: {
    build: {
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(import.meta.dirname, "src/preload/index.ts") },
        output: { format: "cjs", entryFileNames: "[name].cjs" },
      },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, "src/renderer"),
    base: "./",
    plugins: [react()],
    build: { rollupOptions: { input: { index: resolve(import.meta.dirname, "src/renderer/index.html") } } },
  },
})
