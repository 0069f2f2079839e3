/**
 * A mistake in the configuration, found before anything is consumed. The message names the field at fault;
 * `keys`, when given, are the configuration keys (dotted paths) whose values are at fault, so that the runtime
 * can name the KASPER_* variable that set one instead of the file.
 */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError'
  readonly keys: readonly string[]

  constructor(message: string, options?: ErrorOptions & { keys?: readonly string[] }) {
    super(message, options)
    this.keys = options?.keys ?? []
  }
}
