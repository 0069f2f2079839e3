import { blameLoaded, ConfigFileError, type KasperConfig, loadConfig } from '../config/index.ts'
import { ConfigurationError } from '../processor/errors.ts'

/** A command-line option's key in a ConfigurationError (e.g. `--to`): the command line is at fault, not the file. */
const isOption = (key: string) => key.startsWith('--')

/**
 * Loads `file` and runs `action` with it. A configuration problem found after loading (against Kafka's
 * metadata, for example) is still the configuration's: it names the variable that set the value at fault,
 * or else the file, as the loader's own problems do.
 */
export async function withConfig<T>(
  file: string,
  action: (config: KasperConfig) => T | Promise<T>,
): Promise<T> {
  const config = loadConfig(file)
  try {
    return await action(config)
  } catch (error) {
    const blameable =
      error instanceof ConfigurationError &&
      !(error instanceof ConfigFileError) &&
      !(error.keys.length > 0 && error.keys.every(isOption))
    throw blameable ? blameLoaded(config, file, error) : error
  }
}
