import type { LogLevel } from './types.ts'

export const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

export function isEnabled(level: LogLevel, threshold: LogLevel): boolean {
  return logLevels.indexOf(level) >= logLevels.indexOf(threshold)
}
