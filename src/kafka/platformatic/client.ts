import {
  Admin,
  type API,
  Base,
  type ClusterMetadata,
  type Connection,
  FindCoordinatorKeyTypes,
  type FindCoordinatorResult,
  kGetApi,
  kGetConnection,
} from '@platformatic/kafka'
import { produceFailure } from '../describe-error.ts'
import { KafkaClientError, UnknownTopicError } from '../errors.ts'
import { commitFailure } from '../group/membership-lost.ts'
import { type GroupGeneration, simpleCommit } from '../group/types.ts'
import { groupBy } from '../group-by.ts'
import type { OutgoingMessage } from '../messages.ts'
import { isolationLevelCodes } from '../protocol/fetch-v12-v17.ts'
import { withRoutingRetry } from '../routing-retry.ts'
import type {
  FetchedPartition,
  FetchOptions,
  KafkaClient,
  ResolvedConnectionOptions,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.ts'
import { callback } from './callback.ts'
import { fetchFromLeaders } from './fetch.ts'
import { baseOptions } from './options.ts'
import { IdempotentProducer } from './producer.ts'

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
  /** Group coordinator per group id, until it moves (NOT_COORDINATOR) or its connection fails. */
  readonly #coordinators = new Map<string, FindCoordinatorResult>()
  #producer: IdempotentProducer | undefined
  #closed: Promise<void> | undefined

  constructor(options: ResolvedConnectionOptions) {
    this.#options = options
    const base = baseOptions(options)
    this.#admin = new Admin(base)
    this.#fetcher = new Base(base)
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
    offsets: TopicPartitionOffset[],
    generation?: GroupGeneration,
  ): Promise<void> {
    if (offsets.length === 0) return
    const topics = [...groupBy(offsets, (o) => o.topic)].map(([name, partitions]) => ({
      name,
      partitions: partitions.map((p) => ({
        partitionIndex: p.partition,
        committedOffset: p.offset,
        committedLeaderEpoch: -1,
        committedMetadata: null,
      })),
    }))
    // Without a generation, OffsetCommit with generation -1 and an empty member id (the group is never
    // joined). The coordinator is looked up once per group (the library's admin asks for it on every
    // commit: a round trip per batch).
    const { memberId, generationId } = generation ?? simpleCommit
    await withRoutingRetry(
      async () => {
        const connection = await this.#coordinatorConnection(groupId)
        const api = await callback<API<unknown[], unknown>>((done) =>
          this.#admin[kGetApi]('OffsetCommit', done),
        )
        await api.async(connection, groupId, generationId, memberId, null, topics)
      },
      () => {
        this.#coordinators.delete(groupId)
        return undefined
      },
    ).catch((error: unknown) => {
      throw commitFailure(error, groupId, generation)
    })
  }

  async #coordinatorConnection(groupId: string): Promise<Connection> {
    let coordinator = this.#coordinators.get(groupId)
    if (!coordinator) {
      const [found] = await this.#admin.findCoordinator({
        keyType: FindCoordinatorKeyTypes.GROUP,
        keys: [groupId],
      })
      if (!found) throw new KafkaClientError(`no coordinator for consumer group ${groupId}`)
      coordinator = found
      this.#coordinators.set(groupId, coordinator)
    }
    const broker = coordinator
    return callback<Connection>((done) => this.#admin[kGetConnection](broker, done))
  }

  async committedOffsets(groupId: string, partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return []
    const topics = [...groupBy(partitions, (p) => p.topic)].map(([name, list]) => ({
      name,
      partitionIndexes: list.map((p) => p.partition),
    }))
    const [group] = await withRoutingRetry(() =>
      this.#admin.listConsumerGroupOffsets({ groups: [{ groupId, topics }] }),
    )
    const committed: TopicPartitionOffset[] = []
    for (const topic of group?.topics ?? []) {
      for (const p of topic.partitions) {
        // -1: the group has no offset for this partition.
        if (p.committedOffset >= 0n) {
          committed.push({ topic: topic.name, partition: p.partitionIndex, offset: p.committedOffset })
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

  async produce(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return
    if (this.#closed) throw new KafkaClientError('the Kafka client is closed')
    this.#producer ??= new IdempotentProducer(
      new Base(baseOptions(this.#options)),
      this.#options.requestTimeoutMs ?? defaultRequestTimeoutMs,
    )
    try {
      await this.#producer.produce(messages)
    } catch (error) {
      throw produceFailure(messages, error)
    }
  }

  close(): Promise<void> {
    this.#closed ??= Promise.allSettled([
      this.#admin.close(),
      this.#fetcher.close(),
      this.#producer?.close(),
    ]).then(() => undefined)
    return this.#closed
  }
}
