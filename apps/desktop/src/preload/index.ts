// The sandboxed preload (bundled to one CommonJS file that requires only "electron"): exposes the bridge, see Bridge.ts.
import { contextBridge, ipcRenderer } from "electron"
import { bridgeGlobalName } from "../main/Channels.ts"
import { makeBridge } from "./Bridge.ts"

contextBridge.exposeInMainWorld(bridgeGlobalName, makeBridge(ipcRenderer))
