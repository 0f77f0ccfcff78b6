/** The version of the daemon and the CLI, reported by Info and `--version`. */
export const version = "0.1.0"
