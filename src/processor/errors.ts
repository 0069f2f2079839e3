/** A mistake in the configuration, found before anything is consumed. The message names the field at fault. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError'
}
