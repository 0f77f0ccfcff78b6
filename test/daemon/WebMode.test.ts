/**
 * Web mode (`tasklane daemon --http`) from a browser's point of view, against
 * the REAL daemon on 127.0.0.1 with a free port: the token (401 without it,
 * the cookie flow from the printed URL), the Origin check on WebSocket
 * upgrades (403), the Host check on every request (403), static files from a temporary UI folder (SPA fallback,
 * content types, no path traversal, 503 when the UI is not built), the token
 * file (0600, the same after a restart), startup errors, and the RPC group
 * over WebSocket with effect's RpcClient, sharing the unix socket's store.
 */
import { TaskRpc } from "@tasklane/core"
import { Effect, Layer, Stream } from "effect"
import { RpcClient, RpcSerialization } from "effect/rpc"
import { Socket } from "effect/socket"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import WebSocket from "ws"
import type { TaskClient } from "@tasklane/daemon/client"
import * as WebServer from "../../apps/daemon/src/WebServer.ts"
import { type DaemonProcess, removeDataDir, startDaemon, tempDataDir } from "../support/DaemonProcess.ts"
import { httpGet } from "../support/HttpGet.ts"
import { connectTo, getTask, poll } from "../support/TaskPolling.ts"

const secret = "not for the browser"
const uiParent = mkdtempSync(join(tmpdir(), "tl-ui-"))
const uiDir = join(uiParent, "ui")
const emptyUiDir = join(uiParent, "empty")
const dataDirs: Array<string> = []
const daemons: Array<DaemonProcess> = []
let daemon: DaemonProcess
let printed: URL

/** Starts a web-mode daemon (examples loaded: the RPC test runs `demo`) and parses the URL it printed. */
const startWeb = async (dataDir: string, ui: string) => {
  const started = await startDaemon({
    dataDir,
    args: ["--abort-grace", "1", "--shutdown-grace", "2", "--http", "127.0.0.1:0", "--http-ui", ui],
  })
  daemons.push(started)
  const line = /^web UI: (\S+)$/m.exec(started.output())
  if (line === null) throw new Error(`no web UI line in the daemon's output:\n${started.output()}`)
  return { started, url: new URL(line[1]!) }
}

const token = () => printed.searchParams.get("token")!

/** One HTTP GET of the printed server with `path` sent exactly as written. */
const get = (path: string, headers: Http.OutgoingHttpHeaders = {}) => httpGet(printed, path, headers)

/** Opens a WebSocket to `path`: the HTTP status of the handshake (101 when accepted) and, if refused, the body. */
const upgrade = (path: string, options: WebSocket.ClientOptions = {}): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${printed.host}${path}`, options)
    ws.on("open", () => {
      ws.close()
      resolve({ status: 101, body: "" })
    })
    ws.on("unexpected-response", (_request, res) => {
      let body = ""
      res.on("data", (chunk) => (body += chunk))
      res.on("end", () => resolve({ status: res.statusCode!, body }))
    })
    ws.on("error", reject)
  })

const bearer = () => ({ Authorization: `Bearer ${token()}` })

beforeAll(async () => {
  mkdirSync(uiDir)
  mkdirSync(emptyUiDir)
  writeFileSync(join(uiDir, "index.html"), "<!doctype html><title>Tasklane</title><script src=\"/app.js\"></script>")
  writeFileSync(join(uiDir, "app.js"), "console.log('tasklane')")
  writeFileSync(join(uiParent, "secret.txt"), secret)
  const dataDir = tempDataDir()
  dataDirs.push(dataDir)
  ;({ started: daemon, url: printed } = await startWeb(dataDir, uiDir))
})

afterAll(async () => {
  for (const started of daemons) await started.stop("SIGKILL")
  dataDirs.forEach(removeDataDir)
  rmSync(uiParent, { recursive: true, force: true })
})

describe("the token", () => {
  it("is printed in the URL, kept 0600 in <data dir>/web-token, and the URL in <data dir>/web-url", () => {
    expect(printed.host).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(printed.port).not.toBe("0")
    expect(token()).toMatch(/^[0-9a-f]{64}$/)
    const tokenFile = join(daemon.dataDir, "web-token")
    expect(readFileSync(tokenFile, "utf8").trim()).toBe(token())
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600)
    const urlFile = join(daemon.dataDir, "web-url")
    expect(readFileSync(urlFile, "utf8").trim()).toBe(printed.href)
    expect(statSync(urlFile).mode & 0o777).toBe(0o600)
  })

  it("is required: 401 for pages and WebSocket upgrades without it or with a wrong one", async () => {
    for (const reply of [await get("/"), await get("/app.js"), await get(`/?token=${"0".repeat(64)}`), await get("/", { Cookie: "tasklane_token=nope" })]) {
      expect(reply.status).toBe(401)
      expect(reply.body).toBe("missing or wrong token: open the URL the daemon printed\n")
    }
    expect((await upgrade("/rpc")).status).toBe(401)
    expect((await upgrade("/rpc", { headers: { Authorization: "Bearer wrong" } })).status).toBe(401)
  })

  it("from the printed URL becomes an HttpOnly SameSite=Strict cookie that authorises the page and its assets", async () => {
    const redirect = await get(`${printed.pathname}${printed.search}`)
    expect(redirect.status).toBe(302)
    expect(redirect.headers.location).toBe("/")
    expect(redirect.headers["set-cookie"]).toEqual([`tasklane_token=${token()}; HttpOnly; SameSite=Strict; Path=/`])

    const cookie = { Cookie: redirect.headers["set-cookie"]![0]!.split(";")[0]! }
    const page = await get("/", cookie)
    expect(page.status).toBe(200)
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8")
    expect(page.body).toContain("<title>Tasklane</title>")
    const script = await get("/app.js", cookie)
    expect(script.status).toBe(200)
    expect(script.headers["content-type"]).toBe("text/javascript; charset=utf-8")
    expect(script.body).toBe("console.log('tasklane')")
    expect((await upgrade("/rpc", { headers: cookie, origin: `http://${printed.host}` })).status).toBe(101)
  })
})

describe("static files", () => {
  it("serve index.html for client routes, 404 for missing files with an extension (Bearer token)", async () => {
    const route = await get("/tasks/01J0ABC", bearer())
    expect(route.status).toBe(200)
    expect(route.body).toContain("<title>Tasklane</title>")
    expect((await get("/missing.css", bearer())).status).toBe(404)
  })

  it("never come from outside the UI directory, however the path is spelled", async () => {
    for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2E%2E%2Fsecret.txt", "/x/../../secret.txt", "/..%5csecret.txt", "/%00"]) {
      const reply = await get(path, bearer())
      expect(reply.status, path).toBe(400)
      expect(reply.body, path).not.toContain(secret)
    }
  })
})

describe("WebSocket origins", () => {
  it("refuse a foreign Origin with 403 even with the token; accept the server's own origin and its localhost spelling", async () => {
    const refused = await upgrade(`/rpc?token=${token()}`, { origin: "http://evil.example" })
    expect(refused.status).toBe(403)
    expect((await upgrade(`/rpc?token=${token()}`, { origin: `http://127.0.0.1:${Number(printed.port) + 1}` })).status).toBe(403)
    expect((await upgrade(`/rpc?token=${token()}`, { origin: `http://localhost:${printed.port}` })).status).toBe(101)
    expect((await upgrade(`/rpc?token=${token()}`)).status).toBe(101)
  })
})

describe("the Host header (DNS-rebinding guard)", () => {
  it("must name the address being served: another name or port is refused with 403 even with the token, pages and WebSocket alike", async () => {
    for (const host of ["evil.example", `evil.example:${printed.port}`, `127.0.0.1:${Number(printed.port) + 1}`, `127.0.0.2:${printed.port}`]) {
      const reply = await get("/", { ...bearer(), Host: host })
      expect(reply.status, host).toBe(403)
      expect(reply.body, host).toBe("this daemon does not serve the host this request names (DNS-rebinding guard): open the URL it printed\n")
      expect((await upgrade(`/rpc?token=${token()}`, { headers: { Host: host } })).status, host).toBe(403)
    }
    // The guard comes before the token: a rebound page learns nothing, not even that a token is wanted.
    expect((await get("/", { Host: `evil.example:${printed.port}` })).status).toBe(403)
  })

  it("accepts the served address and its loopback spellings", async () => {
    for (const host of [printed.host, `localhost:${printed.port}`, `LOCALHOST:${printed.port}`, `[::1]:${printed.port}`]) {
      expect((await get("/", { ...bearer(), Host: host })).status, host).toBe(200)
    }
    expect((await upgrade(`/rpc?token=${token()}`, { headers: { Host: `localhost:${printed.port}` } })).status).toBe(101)
  })
})

/** Runs `use` with effect's RpcClient over a WebSocket (the `ws` package, JSON frames), as the browser UI connects. */
const overWebSocket = <A, E>(use: (rpc: TaskClient) => Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(
    Effect.flatMap(RpcClient.make(TaskRpc.TaskRpcs), use).pipe(
      Effect.scoped,
      Effect.provide(
        RpcClient.layerProtocolSocket().pipe(
          Layer.provide(Layer.effect(Socket.Socket)(Socket.makeWebSocket(`ws://${printed.host}/rpc?token=${token()}`))),
          Layer.provide(RpcSerialization.layerJson),
          Layer.provide(
            Layer.succeed(Socket.WebSocketConstructor)((url, protocols) => new WebSocket(url, protocols as string | Array<string> | undefined)),
          ),
        ),
      ),
    ),
  )

describe("RPC over WebSocket", () => {
  it("serves Info, Trigger and Subscribe from the same store as the unix socket", async () => {
    const { info, taskId, events } = await overWebSocket((rpc) =>
      Effect.gen(function*() {
        const info = yield* rpc.Info()
        const triggered = yield* rpc.Trigger({ definitionId: "demo", input: { steps: 2, delaySeconds: 0 } })
        const taskId = triggered.context.taskId
        const events = yield* rpc.Subscribe({}).pipe(
          Stream.filter((event) => event.stream === taskId),
          Stream.takeUntil((event) => event.type === "TaskDone"),
          Stream.runCollect,
          Effect.timeout("15 seconds"),
        )
        return { info, taskId, events }
      })
    )
    expect(info.pid).toBe(daemon.child.pid)
    expect(info.dataDir).toBe(daemon.dataDir)
    expect(events[0]!.type).toBe("TaskTriggered")
    expect(events.at(-1)!.type).toBe("TaskDone")

    const c = await connectTo(daemon)
    try {
      expect((await getTask(c, taskId)).status).toBe("done")
    } finally {
      await c.close()
    }
  })
})

describe("frames", () => {
  it("one over 16 MiB closes that connection with 1009; the next connection is served", async () => {
    const ws = new WebSocket(`ws://${printed.host}/rpc`, { headers: bearer() })
    await new Promise((resolve, reject) => ws.on("open", resolve).on("error", reject))
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)))
    ws.on("error", () => undefined)
    ws.send(Buffer.alloc(16 * 1024 * 1024 + 1, 0x20))
    expect(await closed).toBe(1009)

    expect((await overWebSocket((rpc) => rpc.Info())).pid).toBe(daemon.child.pid)
  })

  it("malformed envelopes each get an answer on a connection that stays open (none drops it)", async () => {
    const ws = new WebSocket(`ws://${printed.host}/rpc`, { headers: bearer() })
    await new Promise((resolve, reject) => ws.on("open", resolve).on("error", reject))
    const replies: Array<Record<string, unknown>> = []
    ws.on("message", (data) => replies.push(JSON.parse(String(data))))
    let closed = false
    ws.on("close", () => (closed = true))
    const malformed = [
      "not json",
      "null",
      "42",
      '{"_tag":5}',
      '{"_tag":"Request","id":{"toString":0},"tag":"Info","headers":[]}',
      '{"_tag":"Request","id":"7","tag":7,"headers":[]}',
      '{"_tag":"Request","id":"8","tag":"Info","headers":5}',
    ]
    for (const [i, frame] of malformed.entries()) {
      ws.send(frame)
      await poll(async () => (replies.length > i ? true : undefined), { what: () => `a reply to ${frame}` })
    }
    expect(replies.slice(0, 5).map((reply) => reply._tag)).toEqual(["Defect", "Defect", "Defect", "Defect", "Defect"])
    expect(replies.slice(5).map((reply) => [reply._tag, reply.requestId])).toEqual([["Exit", "7"], ["Exit", "8"]])
    expect(closed).toBe(false)
    ws.close()
  })
})

describe("connections", () => {
  it(`at most ${WebServer.defaultMaxConnections} at once: one more is refused with 503 and Retry-After; a closed one frees its place`, async () => {
    const open = (): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://${printed.host}/rpc`, { headers: bearer() })
        ws.on("open", () => resolve(ws)).on("error", reject)
      })
    const held: Array<WebSocket> = []
    try {
      for (let i = 0; i < WebServer.defaultMaxConnections; i++) held.push(await open())
      const refused = await new Promise<{ status: number; retryAfter: string | undefined; body: string }>((resolve, reject) => {
        const ws = new WebSocket(`ws://${printed.host}/rpc`, { headers: bearer() })
        ws.on("unexpected-response", (_request, res) => {
          let body = ""
          res.on("data", (chunk) => (body += chunk))
          res.on("end", () => resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"], body }))
        })
        ws.on("open", () => reject(new Error("a connection over the cap was accepted")))
      })
      expect(refused).toEqual({ status: 503, retryAfter: "5", body: `too many connections: this daemon serves at most ${WebServer.defaultMaxConnections} at once\n` })
      // The pages are still served, and the unix socket is not capped.
      expect((await get("/", bearer())).status).toBe(200)
      const c = await connectTo(daemon)
      await c.close()

      const closed = held.pop()!
      await new Promise((resolve) => (closed.on("close", resolve), closed.close()))
      await poll(async () => {
        const next = await open().catch(() => undefined)
        if (next !== undefined) held.push(next)
        return next
      })
    } finally {
      for (const ws of held) ws.terminate()
    }
  })
})

describe("startup and restart", () => {
  it("a busy port or a bad --http value: exit 1 with one line saying so", async () => {
    const dataDir = tempDataDir()
    dataDirs.push(dataDir)
    const busy = await startDaemon({ dataDir, waitReady: false, args: ["--no-examples", "--http", `127.0.0.1:${printed.port}`] })
    expect(await busy.exited).toBe(1)
    expect(busy.output()).toContain(`tasklane daemon: cannot serve the web UI on 127.0.0.1:${printed.port}: the port is already in use`)
    expect(busy.output()).not.toContain(" serving ")

    const bad = await startDaemon({ dataDir, waitReady: false, args: ["--http", "x"] })
    expect(await bad.exited).toBe(1)
    expect(bad.output().trim()).toBe(`tasklane daemon: --http must be HOST:PORT or PORT, got "x"`)
  })

  it("removes web-url on stop; after a restart the token is the same, and a UI folder without index.html answers 503", async () => {
    const before = readFileSync(join(daemon.dataDir, "web-token"), "utf8")
    expect(await daemon.stop()).toBe(0)
    expect(() => statSync(join(daemon.dataDir, "web-url"))).toThrow()

    ;({ started: daemon, url: printed } = await startWeb(daemon.dataDir, emptyUiDir))
    expect(readFileSync(join(daemon.dataDir, "web-token"), "utf8")).toBe(before)
    expect(token()).toBe(before.trim())
    expect(statSync(join(daemon.dataDir, "web-token")).mode & 0o777).toBe(0o600)
    const reply = await get("/", bearer())
    expect(reply.status).toBe(503)
    expect(reply.body).toBe(
      `the web UI is not built (no index.html in ${emptyUiDir}); build it with \`pnpm --filter @tasklane/desktop build\`\n`,
    )
  })
})
