import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino'
import PinoPretty from 'pino-pretty'
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

function wrap(logger: PinoLogger): Logger {
  return {
    debug: (message, fields) => logger.debug(serializeBigints(fields), message),
    info: (message, fields) => logger.info(serializeBigints(fields), message),
    warn: (message, fields) => logger.warn(serializeBigints(fields), message),
    error: (message, fields) => logger.error(serializeBigints(fields), message),
    child: (bindings) => wrap(logger.child(serializeBigints(bindings) ?? {})),
  }
}

function create(options: PinoLoggerOptions, destination: DestinationStream): Logger {
  const base = pino(
    {
      level: options.level ?? 'info',
      base: options.bindings ?? {},
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError },
    },
    destination,
  )
  return wrap(base)
}

/** One JSON object per line, for log collectors. */
export function jsonLogger(options: PinoLoggerOptions = {}): Logger {
  return create(options, options.destination ?? pino.destination({ dest: 1, sync: true }))
}

/** Human-readable colourless lines, for terminals and `kubectl logs`. */
export function textLogger(options: PinoLoggerOptions = {}): Logger {
  const pretty = PinoPretty({
    sync: true,
    colorize: false,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname',
    destination: options.destination ?? 1,
  })
  return create(options, pretty)
}
