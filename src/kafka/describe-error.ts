import { errorNodes, kafkaErrorNameOf } from './errors/index.ts'
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

/** The broker's error names (e.g. REBALANCE_IN_PROGRESS) and the innermost causes' messages in an error. */
function inspect(error: unknown): { codes: Set<string>; causes: Set<string> } {
  const codes = new Set<string>()
  const causes = new Set<string>()
  for (const { node, depth, leaf } of errorNodes(error)) {
    const name = kafkaErrorNameOf(node)
    if (name) codes.add(name)
    if (leaf && depth > 0 && typeof node.message === 'string') causes.add(node.message)
  }
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
