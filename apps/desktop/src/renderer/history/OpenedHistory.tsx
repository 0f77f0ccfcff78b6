/**
 * The history file the user opened (File > Open history… in Electron, the
 * "Open history…" file input, or a `.json` dropped on the window), shown by
 * the History view at `#/history/file` with no daemon involved. One file at
 * a time; opening another replaces it. A file that is not a history is kept
 * as its readable error, so the view can say why.
 */
import type { DesktopBridge } from "@tasklane/core/client"
import { useEffect } from "react"
import { Cell } from "../Observable.ts"
import * as Router from "../Router.ts"
import { useObservable } from "../useObservable.ts"
import * as HistoryModel from "./HistoryModel.ts"

/** What was opened: a file's envelopes, or why it could not be read as a history. */
export type Opened =
  | { readonly name: string; readonly envelopes: ReadonlyArray<unknown> }
  | { readonly name: string; readonly error: string }

const current = new Cell<Opened | undefined>(undefined)

/** Parses an opened file's text and shows it in the History view. */
export const open = (name: string, text: string): void => {
  const start = performance.now()
  const envelopes = HistoryModel.parseFile(name, text)
  performance.measure("history-parse", { start, end: performance.now() })
  current.set(envelopes instanceof HistoryModel.HistoryLoadError ? { name, error: envelopes.message } : { name, envelopes })
  Router.navigate({ view: "historyFile" })
}

/** Reads a File (input or drop) and opens it. */
export const openFile = (file: File): void => {
  const start = performance.now()
  file.text().then((text) => {
    performance.measure("history-read", { start, end: performance.now() })
    open(file.name, text)
  }, (error: unknown) => {
    current.set({ name: file.name, error: `Could not read ${file.name}: ${String(error)}` })
    Router.navigate({ view: "historyFile" })
  })
}

/** The opened file (re-renders when another is opened). */
export const useOpened = (): Opened | undefined => useObservable(current)

/** Opens files from the host's menu and from drops on the window, while mounted. */
export const useOpenSources = (bridge: DesktopBridge.DesktopBridge): void => {
  useEffect(() => bridge.onOpenHistory((file) => open(file.name, file.contents)), [bridge])
  useEffect(() => {
    const over = (event: DragEvent) => {
      if (event.dataTransfer?.types.includes("Files")) event.preventDefault()
    }
    const drop = (event: DragEvent) => {
      const file = event.dataTransfer?.files[0]
      if (file === undefined) return
      event.preventDefault()
      openFile(file)
    }
    addEventListener("dragover", over)
    addEventListener("drop", drop)
    return () => {
      removeEventListener("dragover", over)
      removeEventListener("drop", drop)
    }
  }, [])
}

/** The "Open history…" button: a file input styled as a button. */
export const OpenHistoryButton = () => (
  <label className="open-history" title="Open an exported history file (or drop one on the window)">
    Open history…
    <input
      type="file"
      accept=".json,application/json"
      aria-label="Open history file"
      onChange={(event) => {
        const file = event.target.files?.[0]
        if (file !== undefined) openFile(file)
        event.target.value = ""
      }}
    />
  </label>
)
