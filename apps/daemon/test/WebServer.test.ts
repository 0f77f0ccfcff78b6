/**
 * WebServer's pure part: what `--http` accepts. (The server itself runs in
 * the real daemon in test/daemon/WebMode.test.ts.)
 */
import { describe, expect, it } from "@effect/vitest"
import * as WebServer from "../src/WebServer.ts"

describe("WebServer.parseAddress", () => {
  it("takes HOST:PORT, [IPv6]:PORT, or PORT alone for 127.0.0.1", () => {
    expect(WebServer.parseAddress("0.0.0.0:8080")).toEqual({ host: "0.0.0.0", port: 8080 })
    expect(WebServer.parseAddress("localhost:0")).toEqual({ host: "localhost", port: 0 })
    expect(WebServer.parseAddress("[::1]:443")).toEqual({ host: "::1", port: 443 })
    expect(WebServer.parseAddress("7777")).toEqual({ host: "127.0.0.1", port: 7777 })
  })

  it("refuses anything else", () => {
    for (const bad of ["x", "", "host", "host:", ":80x", "1.2.3.4:65536", "::1:80", "-1", "a:b:c"]) {
      expect(WebServer.parseAddress(bad), bad).toBeUndefined()
    }
  })
})
