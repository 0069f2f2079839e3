import { ProduceError } from './errors.ts'
import type { OutgoingMessage } from './messages.ts'
import { topicPartitionKey } from './types.ts'

/**
 * A client error as a user can act on it: its message, the underlying causes it wraps (e.g. "self-signed
 * certificate" under "Connection to … failed") and the broker's error codes (e.g. MESSAGE_TOO_LARGE).
 */
export function describeKafkaError(error: unknown): string {
  const { codes, causes } = inspect(error)
  const message = error instanceof Error ? error.message : String(error)
  const unsaid = [...causes].filter((cause) => cause && !message.includes(cause))
  const because = unsaid.length > 0 ? `: ${unsaid.join('; ')}` : ''
  const newCodes = [...codes].filter((code) => !message.includes(code))
  const withCodes = newCodes.length > 0 ? ` (${newCodes.join(', ')})` : ''
  return `${because ? message.replace(/\.$/, '') : message}${because}${withCodes}`
}

/** The broker's error codes (e.g. REBALANCE_IN_PROGRESS) anywhere in a client error. */
export const kafkaErrorCodes = (error: unknown): Set<string> => inspect(error).codes

function inspect(error: unknown): { codes: Set<string>; causes: Set<string> } {
  const codes = new Set<string>()
  const causes = new Set<string>()
  const visit = (value: unknown, depth: number) => {
    if (!value || typeof value !== 'object' || depth > 8) return
    const record = value as {
      apiId?: unknown
      type?: unknown
      errors?: unknown
      cause?: unknown
      message?: unknown
    }
    if (typeof record.apiId === 'string') codes.add(record.apiId)
    if (typeof record.type === 'string' && /^[A-Z_]+$/.test(record.type)) codes.add(record.type)
    const inner = [
      ...(Array.isArray(record.errors) ? record.errors : []),
      ...(record.cause ? [record.cause] : []),
    ]
    if (inner.length === 0 && depth > 0 && typeof record.message === 'string') causes.add(record.message)
    for (const nested of inner) visit(nested, depth + 1)
  }
  visit(error, 0)
  return { codes, causes }
}

/** One error for a failed produce, naming the topic-partitions involved and the broker's error codes. */
export function produceFailure(messages: OutgoingMessage[], error: unknown): ProduceError {
  const first = messages[0]
  const targets = [
    ...new Set(
      messages.map((m) => (m.partition === undefined ? m.topic : topicPartitionKey(m.topic, m.partition))),
    ),
  ]
  const listed = `${targets.slice(0, 5).join(', ')}${targets.length > 5 ? ', …' : ''}`
  return new ProduceError(
    `producing ${messages.length} message(s) to ${listed} failed: ${describeKafkaError(error)}`,
    first?.topic ?? '',
    targets.length === 1 ? first?.partition : undefined,
    { cause: error },
  )
}
