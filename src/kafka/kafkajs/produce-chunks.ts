import type { OutgoingMessage } from '../messages.ts'
import { maxBatchBytesPerPartition, sizeOf } from '../produce-size.ts'

/**
 * Splits messages, in order, into consecutive chunks in which no partition receives more than
 * `maxBytes`, so each produce request's per-partition batch stays under the broker's limit.
 */
export function chunkForProduce<M extends OutgoingMessage>(
  messages: M[],
  maxBytes = maxBatchBytesPerPartition,
): M[][] {
  const chunks: M[][] = []
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
