import type { OutgoingMessage } from './messages.ts'

/**
 * Brokers reject a record batch above message.max.bytes (default 1 MiB); stay below it per partition.
 * Counted before compression: a codec adds well under 1% to incompressible records (tested), so a
 * compressed batch stays below the limit too.
 */
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
