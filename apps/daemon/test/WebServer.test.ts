/**
 * WebServer's pure parts: what `--http` accepts, and which `Host` headers
 * the DNS-rebinding guard lets through. (The server itself runs in the real
 * daemon in test/daemon/WebMode.test.ts.)
 */
import { describe, expect, it } from "@effect/vitest"
import * as HostGuard from "../src/internal/HostGuard.ts"
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

describe("HostGuard", () => {
  const machine = () => ({ addresses: ["127.0.0.1", "192.168.1.20", "::1", "fe80::1"], hostname: "build-box" })
  const check = (host: string, port: number) => HostGuard.make(host, () => port, machine)

  it("on a named bind takes that name (loopback names as one) with the served port, and nothing else", () => {
    const loopback = check("127.0.0.1", 4817)
    for (const ok of ["127.0.0.1:4817", "localhost:4817", "LocalHost:4817", "[::1]:4817"]) expect(loopback(ok), ok).toBe(true)
    for (const bad of [undefined, "", "evil.example:4817", "127.0.0.1", "127.0.0.1:4818", "192.168.1.20:4817", "build-box:4817", "u@127.0.0.1:4817", "127.0.0.1:4817/x", "[::1"]) {
      expect(loopback(bad), String(bad)).toBe(false)
    }
    expect(check("tasks.example", 80)("tasks.example")).toBe(true)
    expect(check("tasks.example", 80)("TASKS.example:80")).toBe(true)
    expect(check("tasks.example", 80)("localhost:80")).toBe(false)
    expect(check("::1", 9000)("localhost:9000")).toBe(true)
  })

  it("on a wildcard bind takes the machine's addresses, loopback names and host name, not other DNS names", () => {
    for (const wildcard of [check("0.0.0.0", 8080), check("::", 8080)]) {
      for (const ok of ["192.168.1.20:8080", "[fe80::1]:8080", "localhost:8080", "[::1]:8080", "build-box:8080"]) expect(wildcard(ok), ok).toBe(true)
      for (const bad of ["evil.example:8080", "10.0.0.9:8080", "192.168.1.20:8081"]) expect(wildcard(bad), bad).toBe(false)
    }
  })
})
