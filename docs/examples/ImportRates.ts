/** Reads exchange rates from a JSON file: error() for bad data, a throw for I/O, a retry policy. */
import { readFile } from "node:fs/promises"
import { TaskDefinition } from "@tasklane/tasks"

interface Input {
  readonly file: string
}
interface Output {
  readonly currencies: number
}

class ImportRates implements TaskDefinition.Interface<Input, Output> {
  readonly id = "importRates"
  readonly title = "Import exchange rates"
  // A failed iteration runs again with the same input: 3 attempts at most, 10 s then 20 s apart.
  readonly retry = { maxAttempts: 3, backoff: { initialSeconds: 10 } }

  async run({ input, controller }: TaskDefinition.RunParams<Input, Output>) {
    // A missing file throws: the error is recorded with code "ENOENT", then retried.
    const rates: unknown = JSON.parse(await readFile(input.file, "utf8"))
    if (typeof rates !== "object" || rates === null) {
      return controller.response.error({ message: "the rates file must hold a JSON object", code: "InvalidRates" })
    }
    const invalid = Object.entries(rates).filter(([, rate]) => typeof rate !== "number" || !(rate > 0)).map(([code]) => code)
    if (invalid.length > 0) {
      return controller.response.error({
        message: `${invalid.length} rates are not positive numbers`,
        code: "InvalidRates",
        data: { currencies: invalid },
      })
    }
    return controller.response.done({ currencies: Object.keys(rates).length })
  }
}

/** The `importRates` task. */
export default TaskDefinition.createImplementation({ implementation: ImportRates })
