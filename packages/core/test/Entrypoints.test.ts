/**
 * The package's entries keep the store's implementation where it belongs:
 * `@tasklane/core` (the contract, what clients and the daemon's services
 * import) and `@tasklane/core/client` (the browser) reach no LevelDB code at
 * all, not even through a dynamic import; only `@tasklane/core/level` does.
 * Checked on the module graph (every import and export specifier, type-only
 * and dynamic ones included, read with the TypeScript parser) and, for what
 * a user would notice, in a fresh Node process: importing the main entry
 * loads no level package.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { describe, expect, it } from "vitest"

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const exportsMap: Record<string, string> = JSON.parse(fs.readFileSync(path.join(packageRoot, "package.json"), "utf8")).exports

/** Every module specifier one source file names: imports, re-exports, `import(...)`. */
const specifiers = (file: string): ReadonlyArray<string> => {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const found: Array<string> = []
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      found.push(node.arguments[0].text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** What an entry of package.json reaches: our files (relative to src) and the packages named on the way. */
const reach = (entry: string) => {
  const files = new Set<string>()
  const packages = new Set<string>()
  const walk = (file: string): void => {
    if (files.has(file)) return
    files.add(file)
    for (const specifier of specifiers(file)) {
      if (specifier.startsWith(".")) walk(path.resolve(path.dirname(file), specifier))
      else packages.add(specifier)
    }
  }
  walk(path.resolve(packageRoot, exportsMap[entry]!))
  return { files: [...files].map((file) => path.relative(path.join(packageRoot, "src"), file)), packages: [...packages] }
}

const levelCode = (files: ReadonlyArray<string>) => files.filter((file) => /^(internal\/Level|LevelEventStore|level\.ts)/.test(file))
const levelPackages = (packages: ReadonlyArray<string>) => packages.filter((name) => /^(classic-level|memory-level)$/.test(name))

describe("package entries", () => {
  it("no entry but the level one reaches LevelDB code, not even lazily; the level entry does", () => {
    // Every entry but the level one: a PostgreSQL store's entry beside it has no business with LevelDB either.
    const others = Object.keys(exportsMap).filter((entry) => entry !== "./level")
    expect(others).toEqual(expect.arrayContaining([".", "./client"]))
    for (const entry of others) {
      const { files, packages } = reach(entry)
      // A sanity check that the walk follows re-exports: each entry reaches the store errors.
      expect(files).toContain("StoreErrors.ts")
      expect({ entry, level: levelCode(files), packages: levelPackages(packages) }).toEqual({ entry, level: [], packages: [] })
    }
    const level = reach("./level")
    expect(levelCode(level.files)).toEqual(expect.arrayContaining(["LevelEventStore.ts", "internal/LevelStore.ts", "internal/LevelDb.ts"]))
    expect(levelPackages(level.packages).sort()).toEqual(["classic-level", "memory-level"])
  })

  it("importing @tasklane/core in a fresh process loads no level package", async () => {
    // The child imports the entry, lists the level packages Node has loaded, then imports
    // classic-level itself and lists again: the second list shows the first one would see it.
    const script = [
      "import { createRequire } from 'node:module'",
      "const require = createRequire(import.meta.url)",
      "const loaded = () => Object.keys(require.cache).filter((k) => /[\\\\/](classic-level|memory-level)[\\\\/]/.test(k)).length",
      "await import('@tasklane/core')",
      "const before = loaded()",
      "await import('classic-level')",
      "console.log(JSON.stringify({ before, after: loaded() }))",
    ].join("\n")
    const output = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: packageRoot }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim().split("\n").pop()!)),
    )
    const counts = JSON.parse(output)
    expect(counts.before).toBe(0)
    expect(counts.after).toBeGreaterThan(0)
  })
})
