/**
 * electron-vite build of the three processes. `out/renderer` is also what the
 * daemon's web mode serves to browsers (`tasklane daemon --http …`), so the
 * renderer uses relative asset paths (`base: "./"`).
 */
import react from "@vitejs/plugin-react"
import { defineConfig } from "electron-vite"
import { resolve } from "node:path"

export default defineConfig({
  main: {
    build: { rollupOptions: { input: { index: resolve(import.meta.dirname, "src/main/index.ts") } } },
  },
  preload: {
    build: { rollupOptions: { input: { index: resolve(import.meta.dirname, "src/preload/index.ts") } } },
  },
  renderer: {
    root: resolve(import.meta.dirname, "src/renderer"),
    base: "./",
    plugins: [react()],
    build: { rollupOptions: { input: { index: resolve(import.meta.dirname, "src/renderer/index.html") } } },
  },
})
