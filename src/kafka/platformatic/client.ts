import { Admin, type API, Base, type ClusterMetadata, kGetApi } from '#platformatic-kafka'
import { produceFailure } from '../describe-error.ts'
import { KafkaClientError, UnknownTopicError } from '../errors.ts'
import { commitFailure } from '../group/membership-lost.ts'
import { type GroupGeneration, simpleCommit } from '../group/types.ts'
import { groupBy } from '../group-by.ts'
import type { OutgoingMessage } from '../messages.ts'
import { isolationLevelCodes } from '../protocol/fetch-v12-v17.ts'
import { waitWhilePending, withRoutingRetry } from '../routing-retry.ts'
import type {
  CommittedOffset,
  CommittedOffsetsOptions,
  FetchedPartition,
  FetchOptions,
  KafkaClient,
  ProduceOptions,
  ResolvedConnectionOptions,
  TopicPartition,
  TopicPartitionOffset,
  TransactionOptions,
} from '../types.ts'
import { callback } from './callback.ts'
import { commitTopics } from './commit-topics.ts'
import { Coordinators } from './coordinators.ts'
import { fetchFromLeaders } from './fetch.ts'
import { baseOptions } from './options.ts'
import { IdempotentProducer } from './producer.ts'
import { PlatformaticTransactionalProducer } from './transaction.ts'

const earliestTimestamp = -2n
const latestTimestamp = -1n
const defaultRequestTimeoutMs = 30_000

/**
 * KafkaClient on @platformatic/kafka: its admin for metadata, offsets and the group coordinator (OffsetCommit
 * with generation -1 and no member id); Fetch and Produce on its protocol API and connection pools, with
 * record batches encoded and decoded here.
 */
export class PlatformaticKafkaClient implements KafkaClient {
  readonly #options: ResolvedConnectionOptions
  readonly #admin: Admin
  // Fetches long-poll for up to maxWaitMs; on their own connections they do not hold up commits or metadata.
  readonly #fetcher: Base
  readonly #coordinators: Coordinators
  #producer: IdempotentProducer | undefined
  readonly #transactionalProducers: PlatformaticTransactionalProducer[] = []
  #closed: Promise<void> | undefined

  constructor(options: ResolvedConnectionOptions) {
    this.#options = options
    const base = baseOptions(options)
    this.#admin = new Admin(base)
    this.#fetcher = new Base(base)
    this.#coordinators = new Coordinators(this.#admin)
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const existing = new Set(await this.#admin.listTopics({ includeInternals: true }))
    const missing = [...new Set(topics)].filter((topic) => !existing.has(topic))
    if (missing.length > 0) throw new UnknownTopicError(missing)
    const metadata = await this.#admin.metadata({ topics, forceUpdate: true })
    return new Map(topics.map((topic) => [topic, metadata.topics.get(topic)?.partitionsCount ?? 0]))
  }

  async fetch(positions: TopicPartitionOffset[], options: FetchOptions): Promise<FetchedPartition[]> {
    if (positions.length === 0) return []
    const topics = [...new Set(positions.map((p) => p.topic))]
    let refresh = false
    return withRoutingRetry(
      async () =>
        fetchFromLeaders(
          this.#fetcher,
          await this.#metadata(topics, refresh),
          positions,
          options,
          this.#options.isolationLevel,
        ),
      () => {
        refresh = true
        return undefined
      },
    )
  }

  /** Cached metadata unless `refresh`; an unknown topic becomes an UnknownTopicError naming all of them. */
  async #metadata(topics: string[], refresh: boolean): Promise<ClusterMetadata> {
    try {
      return await this.#fetcher.metadata({ topics, forceUpdate: refresh })
    } catch (error) {
      // The library names only the first unknown topic: look them all up.
      await this.partitionCounts(topics)
      throw error
    }
  }

  async commitOffsets(
    groupId: string,
    offsets: CommittedOffset[],
    generation?: GroupGeneration,
  ): Promise<void> {
    if (offsets.length === 0) return
    const topics = commitTopics(offsets)
    // Without a generation, OffsetCommit with generation -1 and an empty member id (the group is never
    // joined). The coordinator is looked up once per group (the library's admin asks for it on every
    // commit: a round trip per batch).
    const { memberId, generationId } = generation ?? simpleCommit
    await withRoutingRetry(
      async () => {
        const connection = await this.#coordinators.connection('group', groupId)
        const api = await callback<API<unknown[], unknown>>((done) =>
          this.#admin[kGetApi]('OffsetCommit', done),
        )
        await api.async(connection, groupId, generationId, memberId, null, topics)
      },
      () => this.#coordinators.forget('group', groupId),
    ).catch((error: unknown) => {
      throw commitFailure(error, groupId, generation)
    })
  }

  async committedOffsets(
    groupId: string,
    partitions: TopicPartition[],
    options: CommittedOffsetsOptions = {},
  ): Promise<CommittedOffset[]> {
    if (partitions.length === 0) return []
    const topics = [...groupBy(partitions, (p) => p.topic)].map(([name, list]) => ({
      name,
      partitionIndexes: list.map((p) => p.partition),
    }))
    // Under read_committed, offsets a transaction has yet to commit or abort are waited for (KIP-447), as the
    // Java consumer does.
    const requireStable = this.#options.isolationLevel === 'read_committed'
    const whilePending = async (waitedMs: number) => {
      const coordinator = await this.#coordinators.address('group', groupId).catch(() => 'unknown')
      options.whilePending?.({ coordinator, waitedMs })
    }
    const [group] = await withRoutingRetry(
      () =>
        waitWhilePending(
          () => this.#admin.listConsumerGroupOffsets({ groups: [{ groupId, topics }], requireStable }),
          whilePending,
        ),
      undefined,
      20,
    )
    const committed: CommittedOffset[] = []
    for (const topic of group?.topics ?? []) {
      for (const p of topic.partitions) {
        // -1: the group has no offset for this partition.
        if (p.committedOffset >= 0n) {
          const offset: CommittedOffset = {
            topic: topic.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
          }
          if (p.metadata) offset.metadata = p.metadata
          committed.push(offset)
        }
      }
    }
    return committed
  }

  async listOffsets(
    partitions: TopicPartition[],
    which: 'earliest' | 'latest',
  ): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return []
    const timestamp = which === 'earliest' ? earliestTimestamp : latestTimestamp
    const topics = [...groupBy(partitions, (p) => p.topic)].map(([name, list]) => ({
      name,
      partitions: list.map((p) => ({ partitionIndex: p.partition, timestamp })),
    }))
    // The library refreshes metadata and asks each partition leader.
    const isolationLevel = isolationLevelCodes[this.#options.isolationLevel]
    const listed = await withRoutingRetry(() => this.#admin.listOffsets({ topics, isolationLevel })).catch(
      async (error) => {
        await this.partitionCounts(topics.map((t) => t.name))
        throw error
      },
    )
    return listed.flatMap((topic) =>
      topic.partitions.map((p) => ({ topic: topic.name, partition: p.partitionIndex, offset: p.offset })),
    )
  }

  async produce(messages: OutgoingMessage[], options: ProduceOptions = {}): Promise<void> {
    if (messages.length === 0) return
    if (this.#closed) throw new KafkaClientError('the Kafka client is closed')
    this.#producer ??= new IdempotentProducer(
      new Base(baseOptions(this.#options)),
      this.#options.requestTimeoutMs ?? defaultRequestTimeoutMs,
    )
    try {
      await this.#producer.produce(messages, options.compression)
    } catch (error) {
      throw produceFailure(messages, error)
    }
  }

  transactionalProducer(
    transactionalId: string,
    options: TransactionOptions,
  ): PlatformaticTransactionalProducer {
    if (this.#closed) throw new KafkaClientError('the Kafka client is closed')
    const producer = new PlatformaticTransactionalProducer(
      new Admin(baseOptions(this.#options)),
      transactionalId,
      options,
      this.#options.requestTimeoutMs ?? defaultRequestTimeoutMs,
    )
    this.#transactionalProducers.push(producer)
    return producer
  }

  close(): Promise<void> {
    this.#closed ??= Promise.allSettled([
      this.#admin.close(),
      this.#fetcher.close(),
      this.#producer?.close(),
      ...this.#transactionalProducers.map((producer) => producer.close()),
    ]).then(() => undefined)
    return this.#closed
  }
}
