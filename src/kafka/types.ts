import type { GroupGeneration } from './group/types.ts'
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
      /**
       * Records at or after the requested offset, in offset order (possibly empty); under read_committed
       * without the records of aborted transactions. Transaction markers are never among them.
       */
      messages: IncomingMessage[]
      /**
       * Where to fetch next: past every record batch returned, including the markers and aborted records
       * left out of `messages` (so it can be beyond the last message's offset + 1); the requested offset
       * when nothing was returned.
       */
      nextOffset: bigint
      /** The high watermark under read_uncommitted, the last stable offset under read_committed. */
      logEnd: bigint
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

export const isolationLevels = ['read_committed', 'read_uncommitted'] as const
/**
 * read_committed: fetches return no records of aborted transactions, and end at the last stable offset
 * (before the first transaction still open), which is also the 'latest' offset. read_uncommitted: every
 * record up to the high watermark.
 */
export type IsolationLevel = (typeof isolationLevels)[number]
export const defaultIsolationLevel: IsolationLevel = 'read_committed'

export interface KafkaConnectionOptions {
  brokers: string[]
  clientId: string
  sasl?: SaslOptions
  /** true for TLS with system CAs, or explicit TLS settings. */
  tls?: boolean | TlsOptions
  connectTimeoutMs?: number
  requestTimeoutMs?: number
  /** Default read_committed. */
  isolationLevel?: IsolationLevel
}

/** What a client implementation is given: the options with their defaults filled in by createKafkaClient. */
export type ResolvedConnectionOptions = KafkaConnectionOptions & { isolationLevel: IsolationLevel }

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
  /**
   * OffsetCommit. Without `generation`, as no member (generation -1, empty member id: a "simple consumer
   * group"); with it, as that member, and a generation that is over rejects with GroupMembershipLostError.
   */
  commitOffsets(groupId: string, offsets: TopicPartitionOffset[], generation?: GroupGeneration): Promise<void>
  /** Committed offset per partition; partitions the group never committed are absent. */
  committedOffsets(groupId: string, partitions: TopicPartition[]): Promise<TopicPartitionOffset[]>
  /**
   * Log-start ('earliest') or log-end ('latest': the last stable offset under read_committed, the high
   * watermark under read_uncommitted) offset of each partition, fresh from the leaders.
   */
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
