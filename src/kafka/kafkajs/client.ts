import { type Broker, type Cluster, Kafka, type Producer } from 'kafkajs'
import type { IncomingMessage, OutgoingMessage } from '../../processor/messages.ts'
import { KafkaBoundaryError, UnknownTopicError } from '../errors.ts'
import {
  chunkForProduce,
  collectHeaders,
  groupBy,
  outgoingHeaders,
  produceFailure,
  toNullableBuffer,
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
import { kafkaConfig } from './options.ts'

const readUncommitted = 0

// The shapes kafkajs 2.2.4's Broker.fetch decodes (src/protocol/requests/fetch/v11/response.js).
interface DecodedMessage {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, Buffer | Buffer[]>
  isControlRecord: boolean
}
interface DecodedPartition {
  partition: number
  highWatermark: string
  lastStartOffset: string
  messages: DecodedMessage[]
}
interface DecodedFetch {
  responses: { topicName: string; partitions: DecodedPartition[] }[]
}

const isOffsetOutOfRange = (error: unknown): boolean =>
  (error as { type?: string }).type === 'OFFSET_OUT_OF_RANGE'

/**
 * KafkaClient on kafkajs 2.2.4. Its public API cannot fetch from chosen partitions, so this reaches its
 * internal Cluster (handed to partition assigner factories) and uses Broker.fetch / offsetCommit /
 * offsetFetch directly. Pinned to 2.2.4: those internals are not a public contract.
 */
export class KafkaJsClient implements KafkaClient {
  readonly #kafka: Kafka
  readonly #cluster: Cluster
  #connected: Promise<void> | undefined
  #producer: Producer | undefined
  #producerConnected: Promise<void> | undefined
  #closed: Promise<void> | undefined

  constructor(options: KafkaConnectionOptions) {
    this.#kafka = new Kafka(kafkaConfig(options))
    let captured: Cluster | undefined
    // The consumer is never connected; creating it hands its Cluster to the assigner factory.
    this.#kafka.consumer({
      groupId: `${options.clientId}-fetch-only`,
      partitionAssigners: [
        ({ cluster }) => {
          captured = cluster
          return {
            name: 'kasper-manual',
            version: 1,
            assign: async () => [],
            protocol: () => ({ name: 'kasper-manual', metadata: Buffer.alloc(0) }),
          }
        },
      ],
    })
    if (!captured)
      throw new KafkaBoundaryError('kafkajs did not hand over its cluster (is it version 2.2.4?)')
    this.#cluster = captured
  }

  async #ready(topics: string[] = []): Promise<Cluster> {
    if (this.#closed) throw new KafkaBoundaryError('the Kafka client is closed')
    this.#connected ??= this.#cluster.connect()
    await this.#connected
    if (topics.length > 0) await this.#cluster.addMultipleTargetTopics(topics)
    return this.#cluster
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const cluster = await this.#ready()
    // Cluster.metadata() resolves with the raw Metadata response, whatever its declared type says.
    const all = (await cluster.metadata()) as unknown as {
      topicMetadata: { topic: string; partitionMetadata: unknown[] }[]
    }
    const known = new Map(all.topicMetadata.map((t) => [t.topic, t.partitionMetadata.length]))
    const missing = [...new Set(topics)].filter((topic) => !known.has(topic))
    if (missing.length > 0) throw new UnknownTopicError(missing)
    return new Map(topics.map((topic) => [topic, known.get(topic)!]))
  }

  fetch(positions: TopicPartitionOffset[], options: FetchOptions): Promise<FetchedPartition[]> {
    return withRoutingRetry(
      () => this.#fetchOnce(positions, options),
      () => this.#cluster.refreshMetadata(),
    )
  }

  async #fetchOnce(positions: TopicPartitionOffset[], options: FetchOptions): Promise<FetchedPartition[]> {
    if (positions.length === 0) return []
    const cluster = await this.#ready([...new Set(positions.map((p) => p.topic))])
    const byLeader = new Map<string, TopicPartitionOffset[]>()
    for (const [topic, group] of groupBy(positions, (p) => p.topic)) {
      const leaders = cluster.findLeaderForPartitions(
        topic,
        group.map((p) => p.partition),
      )
      for (const [leader, partitions] of Object.entries(leaders)) {
        const list = byLeader.get(leader) ?? []
        list.push(...group.filter((p) => partitions.includes(p.partition)))
        byLeader.set(leader, list)
      }
    }
    const results = await Promise.all(
      [...byLeader].map(async ([nodeId, group]) => {
        const broker = await cluster.findBroker({ nodeId })
        return this.#fetchFrom(broker, group, options)
      }),
    )
    return results.flat()
  }

  async #fetchFrom(
    broker: Broker,
    positions: TopicPartitionOffset[],
    options: FetchOptions,
  ): Promise<FetchedPartition[]> {
    let response: DecodedFetch
    try {
      response = (await broker.fetch({
        isolationLevel: readUncommitted,
        maxWaitTime: options.maxWaitMs,
        minBytes: options.minBytes,
        maxBytes: options.maxBytes,
        topics: [...groupBy(positions, (p) => p.topic)].map(([topic, list]) => ({
          topic,
          partitions: list.map((p) => ({
            partition: p.partition,
            fetchOffset: p.offset.toString(),
            maxBytes: options.maxBytesPerPartition,
          })),
        })),
      })) as DecodedFetch
    } catch (error) {
      // kafkajs fails the whole response for one out-of-range partition: find which, fetch the rest.
      if (!isOffsetOutOfRange(error)) throw error
      return this.#splitOutOfRange(broker, positions, options)
    }
    const requested = new Map(positions.map((p) => [`${p.topic}/${p.partition}`, p.offset]))
    return response.responses.flatMap(({ topicName: topic, partitions }) =>
      partitions.flatMap((p): FetchedPartition[] => {
        const from = requested.get(`${topic}/${p.partition}`)
        if (from === undefined) return []
        const messages: IncomingMessage[] = []
        for (const m of p.messages) {
          const offset = BigInt(m.offset)
          if (m.isControlRecord || offset < from) continue
          messages.push({
            topic,
            partition: p.partition,
            offset,
            timestamp: Number(m.timestamp),
            key: m.key,
            value: m.value,
            headers: collectHeaders(
              Object.entries(m.headers).flatMap(([key, value]) =>
                (Array.isArray(value) ? value : [value]).map((v) => [key, v] as const),
              ),
            ),
          })
        }
        return [
          {
            topic,
            partition: p.partition,
            kind: 'records',
            messages,
            highWatermark: BigInt(p.highWatermark),
            logStartOffset: BigInt(p.lastStartOffset),
          },
        ]
      }),
    )
  }

  async #splitOutOfRange(
    broker: Broker,
    positions: TopicPartitionOffset[],
    options: FetchOptions,
  ): Promise<FetchedPartition[]> {
    const [starts, ends] = await Promise.all([
      this.listOffsets(positions, 'earliest'),
      this.listOffsets(positions, 'latest'),
    ])
    const bound = (list: TopicPartitionOffset[], p: TopicPartition) =>
      list.find((o) => o.topic === p.topic && o.partition === p.partition)?.offset
    const outOfRange = positions.filter((p) => {
      const start = bound(starts, p)
      const end = bound(ends, p)
      return start === undefined || end === undefined || p.offset < start || p.offset > end
    })
    if (outOfRange.length === 0)
      throw new KafkaBoundaryError(
        'the broker reported an offset out of range, but every offset is in range now',
      )
    const inRange = positions.filter((p) => !outOfRange.includes(p))
    const fetched = inRange.length > 0 ? await this.#fetchFrom(broker, inRange, options) : []
    return [
      ...outOfRange.map(
        (p): FetchedPartition => ({ topic: p.topic, partition: p.partition, kind: 'offset-out-of-range' }),
      ),
      ...fetched,
    ]
  }

  commitOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    return withRoutingRetry(
      () => this.#commitOffsetsOnce(groupId, offsets),
      () => this.#cluster.refreshMetadata(),
    )
  }

  async #commitOffsetsOnce(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return
    const coordinator = await (await this.#ready()).findGroupCoordinator({ groupId })
    await coordinator.offsetCommit({
      groupId,
      groupGenerationId: -1,
      memberId: '',
      topics: [...groupBy(offsets, (o) => o.topic)].map(([topic, list]) => ({
        topic,
        partitions: list.map((p) => ({ partition: p.partition, offset: p.offset.toString() })),
      })),
    })
  }

  committedOffsets(groupId: string, partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    return withRoutingRetry(
      () => this.#committedOffsetsOnce(groupId, partitions),
      () => this.#cluster.refreshMetadata(),
    )
  }

  async #committedOffsetsOnce(
    groupId: string,
    partitions: TopicPartition[],
  ): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return []
    const coordinator = await (await this.#ready()).findGroupCoordinator({ groupId })
    const { responses } = await coordinator.offsetFetch({
      groupId,
      topics: [...groupBy(partitions, (p) => p.topic)].map(([topic, list]) => ({
        topic,
        partitions: list.map((p) => ({ partition: p.partition, offset: '-1' })),
      })),
    })
    return responses.flatMap(({ topic, partitions: list }) =>
      list.flatMap((p) =>
        BigInt(p.offset) >= 0n ? [{ topic, partition: p.partition, offset: BigInt(p.offset) }] : [],
      ),
    )
  }

  listOffsets(partitions: TopicPartition[], which: 'earliest' | 'latest'): Promise<TopicPartitionOffset[]> {
    return withRoutingRetry(
      () => this.#listOffsetsOnce(partitions, which),
      () => this.#cluster.refreshMetadata(),
    )
  }

  async #listOffsetsOnce(
    partitions: TopicPartition[],
    which: 'earliest' | 'latest',
  ): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return []
    const cluster = await this.#ready([...new Set(partitions.map((p) => p.topic))])
    const listed = await cluster.fetchTopicsOffset(
      [...groupBy(partitions, (p) => p.topic)].map(([topic, list]) => ({
        topic,
        partitions: list.map((p) => ({ partition: p.partition })),
        fromBeginning: which === 'earliest',
      })),
    )
    return listed.flatMap(({ topic, partitions: list }) =>
      list.map((p) => ({ topic, partition: p.partition, offset: BigInt(p.offset) })),
    )
  }

  async produce(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return
    this.#producer ??= this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    })
    this.#producerConnected ??= this.#producer.connect()
    try {
      await this.#checkPartitionsExist(messages)
      await this.#producerConnected
      for (const chunk of chunkForProduce(messages)) {
        await this.#sendBatch(chunk)
      }
    } catch (error) {
      throw produceFailure(messages, error)
    }
  }

  async #sendBatch(messages: OutgoingMessage[]): Promise<void> {
    await this.#producer!.sendBatch({
      acks: -1,
      topicMessages: [...groupBy(messages, (m) => m.topic)].map(([topic, list]) => ({
        topic,
        messages: list.map((m) => {
          const headers = outgoingHeaders(m)
          return {
            key: toNullableBuffer(m.key),
            value: toNullableBuffer(m.value),
            ...(m.partition === undefined ? {} : { partition: m.partition }),
            ...(headers ? { headers } : {}),
            ...(m.timestamp === undefined ? {} : { timestamp: String(m.timestamp) }),
          }
        }),
      })),
    })
  }

  async #checkPartitionsExist(messages: OutgoingMessage[]): Promise<void> {
    const cluster = await this.#ready([...new Set(messages.map((m) => m.topic))])
    for (const message of messages) {
      const count = cluster.findTopicPartitionMetadata(message.topic).length
      if (message.partition !== undefined && (message.partition < 0 || message.partition >= count)) {
        throw new Error(
          `${message.topic}/${message.partition} does not exist (the topic has ${count} partitions)`,
        )
      }
    }
  }

  close(): Promise<void> {
    this.#closed ??= Promise.allSettled([
      this.#connected ? this.#cluster.disconnect() : undefined,
      this.#producerConnected ? this.#producer?.disconnect() : undefined,
    ]).then(() => undefined)
    return this.#closed
  }
}
