import type { TopicPartition } from '../kafka/types.ts'
import { topicPartitionKey } from '../kafka/types.ts'

/**
 * Exactly-once: a producer with this worker's transactional id started since, so another worker or instance
 * processes the same partitions (or this one was replaced); this one may no longer write or commit.
 */
export class FencedError extends Error {
  override name = 'FencedError'
  constructor(processor: string, partitions: TopicPartition[], options?: ErrorOptions) {
    super(
      `processor ${processor} was fenced on ${partitions.map((p) => topicPartitionKey(p.topic, p.partition)).join(', ')}: another producer with the same transactional id took these partitions over; this worker stops, its open transaction is aborted`,
      options,
    )
  }
}
