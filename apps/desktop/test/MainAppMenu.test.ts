/** AppMenu: the menu has the documented items, each calls its action, and Open history delivers the file. */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, describe, expect, it, vi } from "vitest"
import * as AppMenu from "../src/main/AppMenu.ts"

const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "tl-menu-"))
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

const actions = () => ({
  openHistory: vi.fn(),
  quit: vi.fn(),
  reload: vi.fn(),
  toggleDevTools: vi.fn(),
  about: vi.fn(),
})

const find = (items: ReadonlyArray<AppMenu.MenuItem>, label: string): AppMenu.MenuItem => {
  for (const item of items) {
    if (item.label?.replace("&", "") === label) return item
    const inner = item.submenu && find(item.submenu, label)
    if (inner) return inner
  }
  return undefined as never
}

describe("AppMenu", () => {
  it("has File, View and Help with the documented items", () => {
    const menu = AppMenu.template(actions(), "linux")
    expect(menu.map((item) => item.label?.replace("&", ""))).toEqual(["File", "View", "Help"])
    expect(find(menu, "Open history…").accelerator).toBe("CmdOrCtrl+O")
    expect(find(menu, "Quit").accelerator).toBe("CmdOrCtrl+Q")
    for (const label of ["Reload", "Toggle DevTools", "About Tasklane"]) expect(find(menu, label)).toBeDefined()
    expect(find(AppMenu.template(actions(), "darwin"), "Quit Tasklane")).toBeDefined()
  })

  it("calls the action of each item", () => {
    const spies = actions()
    const menu = AppMenu.template(spies, "linux")
    const pairs = [["Open history…", spies.openHistory], ["Quit", spies.quit], ["Reload", spies.reload], ["Toggle DevTools", spies.toggleDevTools], ["About Tasklane", spies.about]] as const
    for (const [label, spy] of pairs) {
      find(menu, label).click!()
      expect(spy).toHaveBeenCalledTimes(1)
    }
  })

  it("Open history reads the chosen file and delivers it to the renderer", async () => {
    const file = Path.join(dir, "task-1.history.json")
    Fs.writeFileSync(file, '{"events":[]}')
    const deliver = vi.fn()
    const fail = vi.fn()
    await AppMenu.openHistory({ choose: async () => file, deliver, fail })
    expect(deliver).toHaveBeenCalledWith({ name: "task-1.history.json", contents: '{"events":[]}' })
    expect(fail).not.toHaveBeenCalled()
  })

  it("Open history does nothing when cancelled and reports a file it cannot read", async () => {
    const deliver = vi.fn()
    const fail = vi.fn()
    await AppMenu.openHistory({ choose: async () => undefined, deliver, fail })
    await AppMenu.openHistory({ choose: async () => Path.join(dir, "nope.json"), deliver, fail })
    await AppMenu.openHistory({ choose: async () => dir, deliver, fail })
    expect(deliver).not.toHaveBeenCalled()
    expect(fail.mock.calls.map(([message]) => message)).toEqual([
      expect.stringMatching(/^Cannot open .*nope\.json: .*ENOENT/),
      expect.stringContaining("is not a file"),
    ])
  })
})
