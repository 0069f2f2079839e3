import { createRequire } from 'node:module'
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino'
import type PinoPretty from 'pino-pretty'
import type { LogFields, Logger, LogLevel } from './types.ts'

export interface PinoLoggerOptions {
  level?: LogLevel
  bindings?: LogFields
  /** Where lines go; standard output by default. */
  destination?: DestinationStream
}

const serializeBigints = (fields: LogFields | undefined): LogFields | undefined => {
  if (fields === undefined) return undefined
  let copy: LogFields | undefined
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'bigint') {
      copy ??= { ...fields }
      copy[key] = value.toString()
    }
  }
  return copy ?? fields
}

/**
 * The error's message followed by the messages of its causes that it does not already say. pino's own
 * serializer appends every cause, so an error that quotes its cause (a StoreError does) read twice:
 * `getAll failed: no answer within 5000 ms: no answer within 5000 ms`.
 */
function messageWithNewCauses(error: Error): string {
  let text = error.message
  const seen = new Set<unknown>([error])
  for (let cause = error.cause; cause instanceof Error && !seen.has(cause); cause = cause.cause) {
    seen.add(cause)
    if (cause.message && !text.includes(cause.message)) text += `: ${cause.message}`
  }
  return text
}

const serializeError = (value: unknown): unknown =>
  value instanceof Error ? { ...pino.stdSerializers.err(value), message: messageWithNewCauses(value) } : value

/**
 * Pino appends a child's bindings and a line's fields after the parent's, so a key bound twice would appear
 * twice in one JSON object (strict pipelines reject that). Children are therefore made from the root with
 * the merged bindings, and a line whose fields repeat a bound key is written through such a child.
 */
function wrap(root: PinoLogger, bindings: LogFields): Logger {
  const logger = root.child(bindings)
  const write = (level: LogLevel, message: string, fields: LogFields | undefined) => {
    const serialized = serializeBigints(fields)
    if (serialized && Object.keys(serialized).some((key) => key in bindings)) {
      root.child({ ...bindings, ...serialized })[level](message)
    } else {
      logger[level](serialized, message)
    }
  }
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    child: (more) => wrap(root, { ...bindings, ...serializeBigints(more) }),
  }
}

function create(options: PinoLoggerOptions, destination: DestinationStream, levelNames: boolean): Logger {
  const root = pino(
    {
      level: options.level ?? 'info',
      base: {},
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names ("info"), as log pipelines expect, rather than pino's numbers (pino-pretty reads numbers).
      ...(levelNames ? { formatters: { level: (label: string) => ({ level: label }) } } : {}),
      serializers: { err: serializeError },
    },
    destination,
  )
  return wrap(root, serializeBigints(options.bindings) ?? {})
}

/** One JSON object per line, for log collectors. */
export function jsonLogger(options: PinoLoggerOptions = {}): Logger {
  return create(options, options.destination ?? pino.destination({ dest: 1, sync: true }), true)
}

/** Human-readable colourless lines, for terminals and `kubectl logs`. */
export function textLogger(options: PinoLoggerOptions = {}): Logger {
  // Loaded here, not at import: JSON, the default format, does without it in every isolate.
  const prettyStream = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty
  const pretty = prettyStream({
    sync: true,
    colorize: false,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname',
    destination: options.destination ?? 1,
  })
  return create(options, pretty, false)
}
