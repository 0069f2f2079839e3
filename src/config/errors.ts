import { ConfigurationError } from '../processor/errors.ts'

/** The configuration file or environment is invalid; `problems` lists every "path: reason". */
export class ConfigFileError extends ConfigurationError {
  override name = 'ConfigFileError'
  readonly problems: string[]

  constructor(source: string, problems: string[]) {
    super(
      problems.length === 1
        ? `${source}: ${problems[0]}`
        : `${source}: ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    )
    this.problems = problems
  }
}
