/** Renderer entry: mounts {@link App} into `#root`. */
import { createRoot } from "react-dom/client"
import { App } from "./App.tsx"
import "./styles.css"

createRoot(document.getElementById("root")!).render(<App />)
