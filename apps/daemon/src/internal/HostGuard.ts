/**
 * The web mode's DNS-rebinding guard (pure): a request is served only if its
 * `Host` header names the address the daemon serves. A page on
 * `http://evil.example:4817/` whose name an attacker re-points at 127.0.0.1
 * reaches the daemon with `Host: evil.example:4817`, and is refused before
 * the token is even looked at (a cookie would not be sent to that name, but
 * the guard does not rely on it).
 *
 * Accepted names: the host given to `--http` (`localhost`, `127.0.0.1` and
 * `[::1]` count as one), with the port being served. On a wildcard bind
 * (`0.0.0.0`, `[::]`) the daemon serves every address of the machine, so an
 * IP address of one of its interfaces, a loopback name, or the machine's
 * host name (`os.hostname()`) is accepted; any other DNS name is refused
 * (bind to that name with `--http NAME:PORT` to be reached by it).
 */
import * as Net from "node:net"
import * as Os from "node:os"

const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]"])
const wildcardHosts = new Set(["0.0.0.0", "[::]"])

/** The host as it appears in a URL (`[::1]` for IPv6), lower case. */
const urlHost = (host: string) => (Net.isIPv6(host) ? `[${host}]` : host).toLowerCase()

/** What the machine answers to on a wildcard bind; defaults read the OS. */
export interface Machine {
  readonly addresses: ReadonlyArray<string>
  readonly hostname: string
}

/** This machine's interface addresses and host name. */
export const machine = (): Machine => ({
  addresses: Object.values(Os.networkInterfaces()).flatMap((list) => (list ?? []).map((info) => info.address)),
  hostname: Os.hostname(),
})

/**
 * A check of `Host` headers for a server bound to `host` (as given to
 * `--http`) on `port` (read when checking: port 0 is known once listening).
 */
export const make = (host: string, port: () => number, on: () => Machine = machine) => {
  const own = urlHost(host)
  return (header: string | undefined): boolean => {
    // Only a bare host[:port]: no user info, path or anything else smuggled in.
    if (header === undefined || header === "" || /[/@?#\\\s]/.test(header)) return false
    let url: URL
    try {
      url = new URL(`http://${header}`)
    } catch {
      return false
    }
    if (Number(url.port || 80) !== port()) return false
    const name = url.hostname
    if (name === own || (loopbackHosts.has(name) && loopbackHosts.has(own))) return true
    if (!wildcardHosts.has(own)) return false
    if (loopbackHosts.has(name)) return true
    const { addresses, hostname } = on()
    return name === hostname.toLowerCase() || addresses.some((address) => urlHost(address) === name)
  }
}
