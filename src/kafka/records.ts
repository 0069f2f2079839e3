import type { IncomingHeaders, OutgoingMessage } from '../processor/messages.ts'

/** Collects header pairs as received; a key sent more than once becomes an array, in order. */
export function collectHeaders(pairs: Iterable<readonly [string, Buffer]>): IncomingHeaders {
  const headers: IncomingHeaders = {}
  for (const [key, value] of pairs) {
    const existing = headers[key]
    if (existing === undefined) headers[key] = value
    else if (Array.isArray(existing)) existing.push(value)
    else headers[key] = [existing, value]
  }
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

/** Control batches carry transaction markers, not user records (attributes bit 5). */
export const isControlBatch = (attributes: number): boolean => (attributes & 0x20) !== 0

/** LogAppendTime topics stamp the batch's max timestamp on every record (attributes bit 3). */
export const usesLogAppendTime = (attributes: number): boolean => (attributes & 0x08) !== 0
