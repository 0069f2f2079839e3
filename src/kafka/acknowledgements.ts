import { KafkaClientError, type Transient } from './errors.ts'
import type { TopicPartition } from './types.ts'
import { topicPartitionKey } from './types.ts'

/** The broker's answer for one partition of a Produce request: where the batch was appended. */
export interface PartitionAcknowledgement extends TopicPartition {
  /** The offset of the batch's first record; absent or negative when the broker did not append it. */
  baseOffset?: bigint | string | number | undefined
  /** Kafka's error code; absent or 0 for success. */
  errorCode?: number | undefined
}

/**
 * Partitions a produce wrote to without an acknowledgement from the broker (a client library resolved without
 * sending them, as kafkajs 2.2.4's sendBatch can after a leader change). Transient: the batch is not
 * committed, and is replayed.
 */
export class UnacknowledgedPartitionsError extends KafkaClientError implements Transient {
  override name = 'UnacknowledgedPartitionsError'
  readonly transient = true
  readonly partitions: TopicPartition[]
  constructor(partitions: TopicPartition[]) {
    const listed = partitions.map((p) => topicPartitionKey(p.topic, p.partition))
    super(
      `the broker acknowledged no write to ${listed.slice(0, 5).join(', ')}${listed.length > 5 ? `, … (${listed.length} partitions)` : ''}: the batch is not committed, and is processed again`,
    )
    this.partitions = partitions
  }
}

const isAcknowledged = (answer: PartitionAcknowledgement): boolean =>
  (answer.errorCode ?? 0) === 0 &&
  answer.baseOffset !== undefined &&
  answer.baseOffset !== null &&
  BigInt(answer.baseOffset) >= 0n

/**
 * Checks, before anything is committed, that the broker acknowledged (with a base offset) every write to
 * every partition `written` to; throws an UnacknowledgedPartitionsError naming the partitions without an
 * answer or with an answer that is not an acknowledgement.
 */
export function requireAcknowledged(
  written: Iterable<TopicPartition>,
  answers: Iterable<PartitionAcknowledgement>,
): void {
  const acknowledged = new Set<string>()
  const refused = new Set<string>()
  for (const answer of answers) {
    const key = topicPartitionKey(answer.topic, answer.partition)
    if (isAcknowledged(answer)) acknowledged.add(key)
    else refused.add(key)
  }
  const missing = new Map<string, TopicPartition>()
  for (const { topic, partition } of written) {
    const key = topicPartitionKey(topic, partition)
    if ((!acknowledged.has(key) || refused.has(key)) && !missing.has(key))
      missing.set(key, { topic, partition })
  }
  if (missing.size > 0) throw new UnacknowledgedPartitionsError([...missing.values()])
}
