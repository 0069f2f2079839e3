import type { IncomingMessage, OutgoingMessage } from './messages.ts'

export interface TopicPartition {
  topic: string
  partition: number
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: bigint
}

export interface FetchOptions {
  /** How long the broker may wait for `minBytes` to accumulate. */
  maxWaitMs: number
  minBytes: number
  /** Per-response limit; each partition is also limited to `maxBytesPerPartition`. */
  maxBytes: number
  maxBytesPerPartition: number
}

export type FetchedPartition =
  | {
      topic: string
      partition: number
      kind: 'records'
      /** Records at or after the requested offset, in offset order (possibly empty). */
      messages: IncomingMessage[]
      highWatermark: bigint
      logStartOffset: bigint
    }
  | {
      topic: string
      partition: number
      /** The requested offset is below the log start or beyond the log end. */
      kind: 'offset-out-of-range'
    }

export interface SaslOptions {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'
  username: string
  password: string
}

export interface TlsOptions {
  ca?: string | Buffer
  cert?: string | Buffer
  key?: string | Buffer
  rejectUnauthorized?: boolean
  servername?: string
}

export interface KafkaConnectionOptions {
  brokers: string[]
  clientId: string
  sasl?: SaslOptions
  /** true for TLS with system CAs, or explicit TLS settings. */
  tls?: boolean | TlsOptions
  connectTimeoutMs?: number
  requestTimeoutMs?: number
}

export type KafkaClientKind = 'platformatic' | 'kafkajs'

/**
 * Everything the TopicProcessor needs from Kafka. Implementations live next to this file;
 * nothing outside src/kafka imports a Kafka client library.
 */
export interface KafkaClient {
  /** Partition count of each topic. Rejects with UnknownTopicError naming every missing topic. */
  partitionCounts(topics: string[]): Promise<Map<string, number>>
  /** One Fetch request per partition leader, merged; partitions in the result follow the request order. */
  fetch(positions: TopicPartitionOffset[], options: FetchOptions): Promise<FetchedPartition[]>
  /** OffsetCommit without joining the group: generation -1, empty member id ("simple consumer group"). */
  commitOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void>
  /** Committed offset per partition; partitions the group never committed are absent. */
  committedOffsets(groupId: string, partitions: TopicPartition[]): Promise<TopicPartitionOffset[]>
  /** Log-start ('earliest') or log-end / high-water ('latest') offset of each partition, fresh from the leaders. */
  listOffsets(partitions: TopicPartition[], which: 'earliest' | 'latest'): Promise<TopicPartitionOffset[]>
  /** Produces all messages (acks = all, idempotent) and resolves once every one is acknowledged. */
  produce(messages: OutgoingMessage[]): Promise<void>
  close(): Promise<void>
}

/**
 * `topic/partition`: how a partition is named in messages and keyed in Maps (unambiguous: a partition is a
 * number, and topic names cannot contain '/').
 */
export const topicPartitionKey = (topic: string, partition: number): string => `${topic}/${partition}`
