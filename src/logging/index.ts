import { basicLogger } from './basic.ts'
import { jsonLogger, textLogger } from './pino.ts'
import type { Logger, LogLevel } from './types.ts'

export type LogFormat = 'json' | 'text' | 'basic'

export interface CreateLoggerOptions {
  format: LogFormat
  level: LogLevel
  /** The processor name, carried by every line. */
  processor: string
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const common = { level: options.level, bindings: { processor: options.processor } }
  if (options.format === 'json') return jsonLogger(common)
  if (options.format === 'text') return textLogger(common)
  return basicLogger(common)
}

export { basicLogger } from './basic.ts'
export { logLevels } from './levels.ts'
export { jsonLogger, textLogger } from './pino.ts'
export { type StartupOrigin, type StartupPhase, StartupTimeline, startupPhases } from './startup.ts'
export type { LogFields, Logger, LogLevel } from './types.ts'
