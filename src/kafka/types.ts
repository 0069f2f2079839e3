import type { GroupGeneration } from './group/types.ts'
import type { IncomingMessage, OutgoingMessage } from './messages.ts'

export interface TopicPartition {
  topic: string
  partition: number
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: bigint
}

/** A consumer group's offset of a partition, with the metadata string committed beside it (if any). */
export interface CommittedOffset extends TopicPartitionOffset {
  metadata?: string
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

/** Whether the principal may do an operation on a topic, as the broker reports it (or does not). */
export type TopicAccess = 'allowed' | 'denied' | 'not-reported'

/**
 * Compression codecs of a record batch's records section. A codec's index here is its id in the batch's
 * attributes (bits 0–2), as Kafka numbers them.
 */
export const compressionCodecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
export type CompressionCodec = (typeof compressionCodecs)[number]
export const compressionCodecId = (codec: CompressionCodec): number => compressionCodecs.indexOf(codec)

export interface ProduceOptions {
  /** How each record batch is compressed; uncompressed when absent. */
  compression?: CompressionCodec
}

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
  commitOffsets(groupId: string, offsets: CommittedOffset[], generation?: GroupGeneration): Promise<void>
  /**
   * Committed offset (and metadata) per partition; partitions the group never committed are absent. Under
   * read_committed, offsets an open transaction has committed are waited for (UNSTABLE_OFFSET_COMMIT) until
   * it commits or aborts, `options.whilePending` called at each attempt.
   */
  committedOffsets(
    groupId: string,
    partitions: TopicPartition[],
    options?: CommittedOffsetsOptions,
  ): Promise<CommittedOffset[]>
  /**
   * Log-start ('earliest') or log-end ('latest': the last stable offset under read_committed, the high
   * watermark under read_uncommitted) offset of each partition, fresh from the leaders.
   */
  listOffsets(partitions: TopicPartition[], which: 'earliest' | 'latest'): Promise<TopicPartitionOffset[]>
  /** Produces all messages (acks = all, idempotent) and resolves once every one is acknowledged. */
  produce(messages: OutgoingMessage[], options?: ProduceOptions): Promise<void>
  /**
   * A transactional producer for `transactionalId`, on connections of its own, closed with the client.
   * Absent when the client cannot do transactions.
   */
  transactionalProducer?(transactionalId: string, options: TransactionOptions): TransactionalProducer
  close(): Promise<void>
}

export interface CommittedOffsetsOptions {
  /** Called while the offsets wait for a pending transaction, with the group coordinator (host:port). */
  whilePending?: (wait: { coordinator: string; waitedMs: number }) => void
}

export interface TransactionOptions {
  /** transaction.timeout.ms: the coordinator aborts a transaction left open longer. */
  transactionTimeoutMs: number
}

/**
 * Kafka transactions of one transactional id, one at a time, as the Java producer runs them (KIP-98):
 * produce() adds its partitions to the transaction (AddPartitionsToTxn) before writing to them;
 * commit() adds the offsets (AddOffsetsToTxn, then TxnOffsetCommit to the group coordinator) and ends the
 * transaction (EndTxn). A fenced producer rejects with a ProducerFencedError.
 */
export interface AbortOptions {
  once?: boolean
}

export interface TransactionalProducer {
  /**
   * InitProducerId: takes the transactional id over, fencing every older producer with it and aborting its
   * open transaction. produce() and commit() call it when needed; call it first to fence before reading
   * committed offsets.
   */
  init(): Promise<void>
  /** Produces in the open transaction (begun by the first produce or commit after init, commit or abort). */
  produce(messages: OutgoingMessage[], options?: ProduceOptions): Promise<void>
  /** Commits the open transaction with `offsets` as the group's committed offsets. */
  commit(groupId: string, offsets: CommittedOffset[], generation?: GroupGeneration): Promise<void>
  /**
   * Aborts the open transaction, if any; the next transaction starts with a fresh producer epoch. `once`: one
   * attempt, no retry across a coordinator move (after an outage, whatever still refuses the abort is left to
   * the next producer's InitProducerId).
   */
  abort(options?: AbortOptions): Promise<void>
}

/**
 * `topic/partition`: how a partition is named in messages and keyed in Maps (unambiguous: a partition is a
 * number, and topic names cannot contain '/').
 */
export const topicPartitionKey = (topic: string, partition: number): string => `${topic}/${partition}`
