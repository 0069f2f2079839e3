import type { IncomingMessage } from '../kafka/messages.ts'
import { topicPartitionKey } from '../kafka/types.ts'

/** Offsets to commit for a batch: last offset + 1 of each topic-partition it holds. */
export interface BatchOffsets {
  topic: string
  partition: number
  first: bigint
  next: bigint
  count: number
}

export interface Batch {
  /** Messages grouped by input partition; within a topic-partition, in offset order. */
  byPartition: Map<number, IncomingMessage[]>
  offsets: BatchOffsets[]
  size: number
}

/**
 * Fetched messages waiting to be batched, one queue per topic-partition.
 * Queues are drained in turn so that no partition starves when batchSize is small.
 */
export class BatchBuffer {
  readonly #queues = new Map<string, { messages: IncomingMessage[]; head: number }>()
  #size = 0
  #firstArrivalMs = 0

  get size(): number {
    return this.#size
  }

  /** When the oldest buffered message arrived, for batchWaitMs. */
  get firstArrivalMs(): number {
    return this.#firstArrivalMs
  }

  add(topic: string, partition: number, messages: IncomingMessage[], nowMs: number): void {
    if (messages.length === 0) return
    if (this.#size === 0) this.#firstArrivalMs = nowMs
    const key = topicPartitionKey(topic, partition)
    const queue = this.#queues.get(key)
    if (queue) queue.messages.push(...messages)
    else this.#queues.set(key, { messages, head: 0 })
    this.#size += messages.length
  }

  /** Timestamp of the oldest buffered message of a topic-partition, if any is buffered. */
  headTimestamp(topic: string, partition: number): number | undefined {
    const queue = this.#queues.get(topicPartitionKey(topic, partition))
    return queue?.messages[queue.head]?.timestamp
  }

  /** Whether messages of the topic-partition are waiting. */
  holds(topic: string, partition: number): boolean {
    return this.#queues.has(topicPartitionKey(topic, partition))
  }

  /** Drops what is buffered of a topic-partition (revoked: its next owner fetches it again). */
  drop(topic: string, partition: number): void {
    const key = topicPartitionKey(topic, partition)
    const queue = this.#queues.get(key)
    if (!queue) return
    this.#size -= queue.messages.length - queue.head
    this.#queues.delete(key)
  }

  take(limit: number): Batch {
    const byPartition = new Map<number, IncomingMessage[]>()
    const offsets: BatchOffsets[] = []
    let remaining = Math.min(limit, this.#size)
    const share = Math.max(1, Math.ceil(remaining / Math.max(1, this.#queues.size)))
    while (remaining > 0) {
      for (const [key, queue] of this.#queues) {
        if (remaining === 0) break
        const count = Math.min(share, remaining, queue.messages.length - queue.head)
        const taken = queue.messages.slice(queue.head, queue.head + count)
        queue.head += count
        remaining -= count
        if (queue.head === queue.messages.length) this.#queues.delete(key)
        else if (queue.head * 2 > queue.messages.length) {
          // Let the taken messages be collected once their batch is done, not when the queue empties.
          queue.messages = queue.messages.slice(queue.head)
          queue.head = 0
        }
        const first = taken[0]!
        const last = taken[count - 1]!
        const forPartition = byPartition.get(first.partition)
        if (forPartition) forPartition.push(...taken)
        else byPartition.set(first.partition, taken)
        const existing = offsets.find((o) => o.topic === first.topic && o.partition === first.partition)
        if (existing) {
          existing.next = last.offset + 1n
          existing.count += count
        } else {
          offsets.push({
            topic: first.topic,
            partition: first.partition,
            first: first.offset,
            next: last.offset + 1n,
            count,
          })
        }
      }
    }
    const size = Math.min(limit, this.#size)
    // Leftovers keep the older arrival time, so they never wait longer than batchWaitMs in total.
    this.#size -= size
    return { byPartition, offsets, size }
  }

  clear(): void {
    this.#queues.clear()
    this.#size = 0
  }
}
