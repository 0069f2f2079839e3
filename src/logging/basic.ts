import { isEnabled } from './levels.ts'
import type { LogFields, Logger, LogLevel } from './types.ts'

export interface BasicLoggerOptions {
  level?: LogLevel
  /** Fields carried by every line, e.g. `{ processor: 'enricher' }`. */
  bindings?: LogFields
}

function formatFields(fields: LogFields): string {
  const parts = Object.entries(fields).map(([key, value]) => {
    const text =
      typeof value === 'string'
        ? value
        : JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))
    return `${key}=${text}`
  })
  return parts.length > 0 ? ` ${parts.join(' ')}` : ''
}

/** Kasper's basic logger: plain console lines prefixed with "(KASPER)". */
export function basicLogger(options: BasicLoggerOptions = {}): Logger {
  const threshold = options.level ?? 'info'
  const bindings = options.bindings ?? {}
  const write = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (!isEnabled(level, threshold)) return
    const line = `(KASPER) ${level.toUpperCase()} ${message}${formatFields({ ...bindings, ...fields })}`
    if (level === 'error' || level === 'warn') console.error(line)
    else console.log(line)
  }
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    child: (more) => basicLogger({ level: threshold, bindings: { ...bindings, ...more } }),
  }
}
