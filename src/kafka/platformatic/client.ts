import {
  Admin,
  Consumer,
  FetchIsolationLevels,
  type fetchV17,
  findErrorBy,
  type MessageToProduce,
  ProduceAcks,
  Producer,
} from '@platformatic/kafka'
import type { IncomingMessage, OutgoingMessage } from '../../processor/messages.ts'
import { KafkaBoundaryError, UnknownTopicError } from '../errors.ts'
import {
  chunkForProduce,
  collectHeaders,
  groupBy,
  isControlBatch,
  outgoingHeaders,
  produceFailure,
  toNullableBuffer,
  usesLogAppendTime,
} from '../records.ts'
import { withRoutingRetry } from '../routing-retry.ts'
import type {
  FetchedPartition,
  FetchOptions,
  KafkaClient,
  KafkaConnectionOptions,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.ts'
import { baseOptions } from './options.ts'

type FetchResponse = fetchV17.FetchResponse

const offsetOutOfRange = 1
const earliestTimestamp = -2n
const latestTimestamp = -1n

/** KafkaClient on @platformatic/kafka: its admin for metadata and offsets, its consumer's Fetch, its producer. */
export class PlatformaticKafkaClient implements KafkaClient {
  readonly #options: KafkaConnectionOptions
  readonly #admin: Admin
  // Used only for its Fetch (version negotiation, topic ids, fetch sessions): it never joins a group.
  readonly #fetcher: Consumer
  #producer: Producer | undefined
  #closed: Promise<void> | undefined

  constructor(options: KafkaConnectionOptions) {
    this.#options = options
    const base = baseOptions(options)
    this.#admin = new Admin(base)
    this.#fetcher = new Consumer({ ...base, groupId: `${options.clientId}-fetch-only`, autocommit: false })
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const existing = new Set(await this.#admin.listTopics({ includeInternals: true }))
    const missing = [...new Set(topics)].filter((topic) => !existing.has(topic))
    if (missing.length > 0) throw new UnknownTopicError(missing)
    const metadata = await this.#admin.metadata({ topics, forceUpdate: true })
    return new Map(topics.map((topic) => [topic, metadata.topics.get(topic)?.partitionsCount ?? 0]))
  }

  fetch(positions: TopicPartitionOffset[], options: FetchOptions): Promise<FetchedPartition[]> {
    return withRoutingRetry(() => this.#fetchOnce(positions, options))
  }

  async #fetchOnce(positions: TopicPartitionOffset[], options: FetchOptions): Promise<FetchedPartition[]> {
    if (positions.length === 0) return []
    const topics = [...new Set(positions.map((p) => p.topic))]
    const metadata = await this.#fetcher.metadata({ topics })
    const namesById = new Map<string, string>()
    const leaderOf = (p: TopicPartition): number => {
      const topic = metadata.topics.get(p.topic)
      if (!topic) throw new UnknownTopicError([p.topic])
      namesById.set(topic.id, p.topic)
      const leader = topic.partitions[p.partition]?.leader
      if (leader === undefined || leader < 0) {
        throw new KafkaBoundaryError(`no leader for ${p.topic}/${p.partition}`)
      }
      return leader
    }
    const byLeader = groupBy(positions, leaderOf)
    const requested = new Map(positions.map((p) => [`${p.topic}/${p.partition}`, p.offset]))
    const responses = await Promise.all(
      [...byLeader].map(([node, group]) =>
        this.#fetchFrom(node, group, metadata.topics, options).catch((error: unknown) => {
          // An out-of-range partition fails the whole response; its other partitions are still good.
          const response = (error as { response?: FetchResponse }).response
          if (response && findErrorBy(error as Error, 'apiId', 'OFFSET_OUT_OF_RANGE')) return response
          throw error
        }),
      ),
    )
    const result: FetchedPartition[] = []
    for (const response of responses) {
      for (const topicResponse of response.responses) {
        const topic = namesById.get(topicResponse.topicId) ?? topicResponse.topicId
        for (const partition of topicResponse.partitions) {
          const from = requested.get(`${topic}/${partition.partitionIndex}`)
          if (from === undefined) continue
          if (partition.errorCode === offsetOutOfRange) {
            result.push({ topic, partition: partition.partitionIndex, kind: 'offset-out-of-range' })
            continue
          }
          if (partition.errorCode !== 0) {
            throw new KafkaBoundaryError(
              `fetch from ${topic}/${partition.partitionIndex} failed with error code ${partition.errorCode}`,
            )
          }
          const messages: IncomingMessage[] = []
          for (const batch of partition.records ?? []) {
            if (isControlBatch(batch.attributes)) continue
            const logAppendTime = usesLogAppendTime(batch.attributes)
            for (const record of batch.records) {
              const offset = batch.firstOffset + BigInt(record.offsetDelta)
              if (offset < from) continue
              messages.push({
                topic,
                partition: partition.partitionIndex,
                offset,
                timestamp: Number(
                  logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta,
                ),
                key: record.key,
                value: record.value,
                headers: collectHeaders(
                  record.headers.flatMap(([key, value]) =>
                    key ? [[key.toString(), value ?? Buffer.alloc(0)] as const] : [],
                  ),
                ),
              })
            }
          }
          result.push({
            topic,
            partition: partition.partitionIndex,
            kind: 'records',
            messages,
            highWatermark: partition.highWatermark,
            logStartOffset: partition.logStartOffset,
          })
        }
      }
    }
    return result
  }

  #fetchFrom(
    node: number,
    positions: TopicPartitionOffset[],
    topics: Map<string, { id: string }>,
    options: FetchOptions,
  ): Promise<FetchResponse> {
    const byTopic = groupBy(positions, (p) => p.topic)
    return this.#fetcher.fetch({
      node,
      maxWaitTime: options.maxWaitMs,
      minBytes: options.minBytes,
      maxBytes: options.maxBytes,
      isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
      topics: [...byTopic].map(([topic, partitions]) => ({
        topicId: topics.get(topic)!.id,
        partitions: partitions.map((p) => ({
          partition: p.partition,
          fetchOffset: p.offset,
          partitionMaxBytes: options.maxBytesPerPartition,
          currentLeaderEpoch: -1,
          lastFetchedEpoch: -1,
        })),
      })),
    })
  }

  async commitOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return
    await this.#admin.alterConsumerGroupOffsets({
      groupId,
      topics: [...groupBy(offsets, (o) => o.topic)].map(([name, partitions]) => ({
        name,
        partitionOffsets: partitions.map((p) => ({ partition: p.partition, offset: p.offset })),
      })),
    })
  }

  async committedOffsets(groupId: string, partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return []
    const [group] = await this.#admin.listConsumerGroupOffsets({
      groups: [
        {
          groupId,
          topics: [...groupBy(partitions, (p) => p.topic)].map(([name, list]) => ({
            name,
            partitionIndexes: list.map((p) => p.partition),
          })),
        },
      ],
    })
    const committed: TopicPartitionOffset[] = []
    for (const topic of group?.topics ?? []) {
      for (const p of topic.partitions) {
        if (p.committedOffset >= 0n)
          committed.push({ topic: topic.name, partition: p.partitionIndex, offset: p.committedOffset })
      }
    }
    return committed
  }

  listOffsets(partitions: TopicPartition[], which: 'earliest' | 'latest'): Promise<TopicPartitionOffset[]> {
    return withRoutingRetry(() => this.#listOffsetsOnce(partitions, which))
  }

  async #listOffsetsOnce(
    partitions: TopicPartition[],
    which: 'earliest' | 'latest',
  ): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return []
    const timestamp = which === 'earliest' ? earliestTimestamp : latestTimestamp
    const listed = await this.#admin.listOffsets({
      topics: [...groupBy(partitions, (p) => p.topic)].map(([name, list]) => ({
        name,
        partitions: list.map((p) => ({ partitionIndex: p.partition, timestamp })),
      })),
    })
    return listed.flatMap((topic) =>
      topic.partitions.map((p) => ({ topic: topic.name, partition: p.partitionIndex, offset: p.offset })),
    )
  }

  async produce(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return
    this.#producer ??= new Producer({
      ...baseOptions(this.#options),
      idempotent: true,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
    })
    const toRecord = (message: OutgoingMessage): MessageToProduce => {
      const key = toNullableBuffer(message.key)
      const value = toNullableBuffer(message.value)
      const headers = outgoingHeaders(message)
      return {
        topic: message.topic,
        ...(message.partition === undefined ? {} : { partition: message.partition }),
        ...(key === null ? {} : { key }),
        ...(value === null ? {} : { value }),
        ...(headers
          ? { headers: new Map(Object.entries(headers).map(([k, v]) => [Buffer.from(k), v])) }
          : {}),
        ...(message.timestamp === undefined ? {} : { timestamp: BigInt(message.timestamp) }),
      }
    }
    try {
      await this.#checkPartitionsExist(messages)
      for (const chunk of chunkForProduce(messages)) {
        await this.#producer.send({ messages: chunk.map(toRecord), acks: ProduceAcks.ALL })
      }
    } catch (error) {
      throw produceFailure(messages, error)
    }
  }

  /** The library does not reject a record for a partition beyond the topic's count; we do, naming it. */
  async #checkPartitionsExist(messages: OutgoingMessage[]): Promise<void> {
    const topics = [...new Set(messages.map((m) => m.topic))]
    const metadata = await this.#producer!.metadata({ topics })
    for (const message of messages) {
      const count = metadata.topics.get(message.topic)?.partitionsCount ?? 0
      if (message.partition !== undefined && (message.partition < 0 || message.partition >= count)) {
        throw new Error(
          `${message.topic}/${message.partition} does not exist (the topic has ${count} partitions)`,
        )
      }
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
