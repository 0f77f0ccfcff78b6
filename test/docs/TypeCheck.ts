/**
 * Type-checks TypeScript files, some of them given in memory, with the
 * repository's base compiler options and no emit: for tests that assert a
 * documented file compiles, or that a variant of it does not.
 */
import { join } from "node:path"
import ts from "typescript"

const root = join(import.meta.dirname, "..", "..")

/** The type errors of each given file (path → content), keyed by path; imports are read from disk. */
export const typeErrors = (files: Readonly<Record<string, string>>): Record<string, ReadonlyArray<string>> => {
  const { config } = ts.readConfigFile(join(root, "tsconfig.base.json"), ts.sys.readFile)
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root)
  const compilerOptions: ts.CompilerOptions = { ...options, noEmit: true }
  const host = ts.createCompilerHost(compilerOptions)
  const { getSourceFile, fileExists, readFile } = host
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const content = files[fileName]
    return content === undefined ? getSourceFile.call(host, fileName, languageVersion, ...rest) : ts.createSourceFile(fileName, content, languageVersion)
  }
  host.fileExists = (fileName) => fileName in files || fileExists.call(host, fileName)
  host.readFile = (fileName) => files[fileName] ?? readFile.call(host, fileName)
  const program = ts.createProgram(Object.keys(files), compilerOptions, host)
  return Object.fromEntries(
    Object.keys(files).map((path) => [
      path,
      ts.getPreEmitDiagnostics(program, program.getSourceFile(path)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")),
    ]),
  )
}
