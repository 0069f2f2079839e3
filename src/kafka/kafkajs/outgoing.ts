import type { Message } from 'kafkajs'
import type { OutgoingMessage } from '../messages.ts'

const toBuffer = (value: Buffer | string): Buffer => (typeof value === 'string' ? Buffer.from(value) : value)

const toNullableBuffer = (value: Buffer | string | null | undefined): Buffer | null =>
  value === null || value === undefined ? null : toBuffer(value)

function outgoingHeaders(message: OutgoingMessage): Record<string, Buffer> | undefined {
  if (!message.headers) return undefined
  return Object.fromEntries(Object.entries(message.headers).map(([key, value]) => [key, toBuffer(value)]))
}

/** An OutgoingMessage in kafkajs's terms. */
export function toKafkaJsMessage(message: OutgoingMessage): Message {
  const headers = outgoingHeaders(message)
  return {
    key: toNullableBuffer(message.key),
    value: toNullableBuffer(message.value),
    ...(message.partition === undefined ? {} : { partition: message.partition }),
    ...(headers ? { headers } : {}),
    ...(message.timestamp === undefined ? {} : { timestamp: String(message.timestamp) }),
  }
}
