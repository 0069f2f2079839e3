import { ProduceError } from './errors.ts'
import type { IncomingHeaders, OutgoingMessage } from './messages.ts'

/** Adds a received header; a key sent more than once becomes an array, in order. */
export function addHeader(headers: IncomingHeaders, key: string, value: Buffer): void {
  const existing = headers[key]
  if (existing === undefined) headers[key] = value
  else if (Array.isArray(existing)) existing.push(value)
  else headers[key] = [existing, value]
}

/** Collects header pairs as received (see addHeader). */
export function collectHeaders(pairs: Iterable<readonly [string, Buffer]>): IncomingHeaders {
  const headers: IncomingHeaders = {}
  for (const [key, value] of pairs) addHeader(headers, key, value)
  return headers
}

export const toBuffer = (value: Buffer | string): Buffer =>
  typeof value === 'string' ? Buffer.from(value) : value

export const toNullableBuffer = (value: Buffer | string | null | undefined): Buffer | null =>
  value === null || value === undefined ? null : toBuffer(value)

export function outgoingHeaders(message: OutgoingMessage): Record<string, Buffer> | undefined {
  if (!message.headers) return undefined
  return Object.fromEntries(Object.entries(message.headers).map(([key, value]) => [key, toBuffer(value)]))
}

/** Groups items by a key, keeping first-seen order. */
export function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group) group.push(item)
    else groups.set(k, [item])
  }
  return groups
}

/** Brokers reject a record batch above message.max.bytes (default 1 MiB); stay below it per partition. */
export const maxBatchBytesPerPartition = 900 * 1024
const recordOverheadBytes = 64

/** Upper estimate of a record's encoded size, for keeping batches under the broker's limit. */
export function sizeOf(message: OutgoingMessage): number {
  let size = recordOverheadBytes + byteLength(message.key) + byteLength(message.value)
  if (message.headers)
    for (const key in message.headers) size += key.length + byteLength(message.headers[key])
  return size
}

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length
}

/**
 * Splits messages, in order, into consecutive chunks in which no partition receives more than
 * `maxBytes`, so each produce request's per-partition batch stays under the broker's limit.
 */
export function chunkForProduce(
  messages: OutgoingMessage[],
  maxBytes = maxBatchBytesPerPartition,
): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = []
  let start = 0
  // Bytes per partition (-1: not given, left to the partitioner) of each topic in the current chunk.
  let bytesByTopic = new Map<string, Map<number, number>>()
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!
    const size = sizeOf(message)
    let byPartition = bytesByTopic.get(message.topic)
    const partition = message.partition ?? -1
    const used = byPartition?.get(partition) ?? 0
    if (i > start && used + size > maxBytes) {
      chunks.push(messages.slice(start, i))
      start = i
      bytesByTopic = new Map()
      byPartition = undefined
    }
    if (!byPartition) {
      byPartition = new Map()
      bytesByTopic.set(message.topic, byPartition)
    }
    byPartition.set(partition, (byPartition.get(partition) ?? 0) + size)
  }
  if (start < messages.length) chunks.push(start === 0 ? messages : messages.slice(start))
  return chunks
}

/**
 * A client error as a user can act on it: its message, the underlying causes it wraps (e.g. "self-signed
 * certificate" under "Connection to … failed") and the broker's error codes (e.g. MESSAGE_TOO_LARGE).
 */
export function describeKafkaError(error: unknown): string {
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
  const message = error instanceof Error ? error.message : String(error)
  const unsaid = [...causes].filter((cause) => cause && !message.includes(cause))
  const because = unsaid.length > 0 ? `: ${unsaid.join('; ')}` : ''
  const newCodes = [...codes].filter((code) => !message.includes(code))
  const withCodes = newCodes.length > 0 ? ` (${newCodes.join(', ')})` : ''
  return `${because ? message.replace(/\.$/, '') : message}${because}${withCodes}`
}

/** One error for a failed produce, naming the topic-partitions involved and the broker's error codes. */
export function produceFailure(messages: OutgoingMessage[], error: unknown): ProduceError {
  const first = messages[0]
  const targets = [
    ...new Set(messages.map((m) => (m.partition === undefined ? m.topic : `${m.topic}/${m.partition}`))),
  ]
  const listed = `${targets.slice(0, 5).join(', ')}${targets.length > 5 ? ', …' : ''}`
  return new ProduceError(
    `producing ${messages.length} message(s) to ${listed} failed: ${describeKafkaError(error)}`,
    first?.topic ?? '',
    targets.length === 1 ? first?.partition : undefined,
    { cause: error },
  )
}
