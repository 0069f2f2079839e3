import { ConfigurationError } from '../processor/errors.ts'

/**
 * The configuration file or environment is invalid; `problems` lists every "path: reason". `source` (the
 * file) prefixes the message unless every problem is a KASPER_* variable's, which each problem names.
 */
export class ConfigFileError extends ConfigurationError {
  override name = 'ConfigFileError'
  readonly problems: string[]

  constructor(source: string | undefined, problems: string[]) {
    const prefix = source === undefined ? '' : `${source}: `
    super(
      problems.length === 1
        ? `${prefix}${problems[0]}`
        : `${prefix}${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    )
    this.problems = problems
  }
}
