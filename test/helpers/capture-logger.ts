import type { LogFields, Logger } from '../../src/logging/types.ts'

export interface CapturedLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
  fields: LogFields
}

/** A Logger that keeps every line in memory, for assertions. */
export function captureLogger(
  lines: CapturedLine[] = [],
  bindings: LogFields = {},
): Logger & { lines: CapturedLine[] } {
  const write =
    (level: CapturedLine['level']) =>
    (message: string, fields: LogFields = {}) => {
      lines.push({ level, message, fields: { ...bindings, ...fields } })
    }
  return {
    lines,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => captureLogger(lines, { ...bindings, ...more }),
  }
}
