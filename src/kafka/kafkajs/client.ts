import { type Cluster, type CompressionTypes, Kafka, type Producer } from 'kafkajs'
import { requireAcknowledged } from '../acknowledgements.ts'
import { produceFailure } from '../describe-error.ts'
import { KafkaClientError, StaleMetadataError, UnknownTopicError } from '../errors.ts'
import { commitFailure } from '../group/membership-lost.ts'
import { type GroupGeneration, simpleCommit } from '../group/types.ts'
import { groupBy } from '../group-by.ts'
import type { OutgoingMessage } from '../messages.ts'
import { keyPartitioner } from '../partitioner.ts'
import { withRoutingRetry } from '../routing-retry.ts'
import type {
  CommittedOffset,
  FetchedPartition,
  FetchOptions,
  IsolationLevel,
  KafkaClient,
  ProduceOptions,
  ResolvedConnectionOptions,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.ts'
import { compressionCodecId, topicPartitionKey } from '../types.ts'
import { registerCodecs } from './codecs.ts'
import { fetchFromBroker } from './fetch.ts'
import { kafkaConfig } from './options.ts'
import { toKafkaJsMessage } from './outgoing.ts'
import { chunkForProduce } from './produce-chunks.ts'
import { patchRequestQueue } from './request-queue.ts'

type PartitionedMessage = OutgoingMessage & { partition: number }

const isUnknownTopic = (error: unknown): boolean =>
  (error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION'

/**
 * KafkaClient on kafkajs 2.2.4. Its public API cannot fetch from chosen partitions, so this reaches its
 * internal Cluster (handed to partition assigner factories) and uses Broker.fetch / offsetCommit /
 * offsetFetch directly. Pinned to 2.2.4: those internals are not a public contract.
 */
export class KafkaJsClient implements KafkaClient {
  readonly #kafka: Kafka
  readonly #isolationLevel: IsolationLevel
  readonly #cluster: Cluster
  #connected: Promise<void> | undefined
  #producer: { producer: Producer; connected: Promise<void> } | undefined
  readonly #partitionFor = keyPartitioner()
  #closed: Promise<void> | undefined
  #produceQueue: Promise<unknown> = Promise.resolve()

  constructor(options: ResolvedConnectionOptions) {
    registerCodecs()
    patchRequestQueue()
    this.#kafka = new Kafka(kafkaConfig(options))
    this.#isolationLevel = options.isolationLevel
    let captured: Cluster | undefined
    // kafkajs 2.2.4 src/consumer/index.js calls each assigner factory with { cluster } when the consumer is
    // created. The consumer is never connected, subscribed or run: it only hands over its Cluster.
    this.#kafka.consumer({
      groupId: `${options.clientId}-fetch-only`,
      // The Cluster's isolation level is used by fetchTopicsOffset: 'latest' is then the last stable offset
      // under read_committed, the high watermark under read_uncommitted.
      readUncommitted: this.#isolationLevel === 'read_uncommitted',
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
    if (!captured) {
      throw new KafkaClientError('kafkajs did not hand over its cluster (is it version 2.2.4?)')
    }
    this.#cluster = captured
  }

  /** The connected Cluster, with metadata for `topics`. */
  async #ready(topics: string[] = []): Promise<Cluster> {
    this.#requireOpen()
    // A failed connect is forgotten, so that the next call (a retry, a restarted loop) connects again.
    this.#connected ??= this.#cluster.connect().catch((error: unknown) => {
      this.#connected = undefined
      throw error
    })
    await this.#connected
    if (topics.length === 0) return this.#cluster
    try {
      // Adds them to the topics the Cluster keeps metadata for; fetches metadata when one is new.
      await this.#cluster.addMultipleTargetTopics(topics)
    } catch (error) {
      if (isUnknownTopic(error)) await this.partitionCounts(topics)
      throw error
    }
    return this.#cluster
  }

  // kafkajs 2.2.4 Cluster.refreshMetadata: reloads the target topics' metadata (leaders) from the cluster.
  readonly #refresh = (): Promise<void> => this.#cluster.refreshMetadata()

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const cluster = await this.#ready()
    // Cluster.metadata() with no topics asks for all of them and resolves with the raw Metadata response,
    // whatever its declared type says.
    const all = (await cluster.metadata()) as unknown as {
      topicMetadata: { topic: string; partitionMetadata: unknown[] }[]
    }
    const known = new Map(all.topicMetadata.map((t) => [t.topic, t.partitionMetadata.length]))
    const missing = [...new Set(topics)].filter((topic) => !known.has(topic))
    if (missing.length > 0) throw new UnknownTopicError(missing)
    return new Map(topics.map((topic) => [topic, known.get(topic)!]))
  }

  async fetch(positions: TopicPartitionOffset[], options: FetchOptions): Promise<FetchedPartition[]> {
    if (positions.length === 0) return []
    const topics = [...new Set(positions.map((p) => p.topic))]
    const fetched = await withRoutingRetry(async () => {
      const cluster = await this.#ready(topics)
      const byLeader = groupBy(positions, (p) => {
        const metadata = cluster
          .findTopicPartitionMetadata(p.topic)
          .find((m) => m.partitionId === p.partition)
        if (!metadata) throw new KafkaClientError(`${topicPartitionKey(p.topic, p.partition)} does not exist`)
        if (metadata.leader < 0)
          throw new StaleMetadataError(`no leader for ${topicPartitionKey(p.topic, p.partition)}`)
        return metadata.leader
      })
      const results = await Promise.all(
        [...byLeader].map(async ([nodeId, group]) => {
          const broker = await cluster.findBroker({ nodeId: String(nodeId) }).catch((error: unknown) => {
            throw new StaleMetadataError(`broker ${nodeId} is not known`, { cause: error })
          })
          return fetchFromBroker(broker, group, options, this.#isolationLevel)
        }),
      )
      return new Map(results.flat().map((f) => [topicPartitionKey(f.topic, f.partition), f]))
    }, this.#refresh)
    return positions.map((p) => {
      const partition = fetched.get(topicPartitionKey(p.topic, p.partition))
      if (!partition)
        throw new KafkaClientError(
          `the broker left ${topicPartitionKey(p.topic, p.partition)} out of its answer`,
        )
      return partition
    })
  }

  async commitOffsets(
    groupId: string,
    offsets: CommittedOffset[],
    generation?: GroupGeneration,
  ): Promise<void> {
    if (offsets.length === 0) return
    const topics = [...groupBy(offsets, (o) => o.topic)].map(([topic, list]) => ({
      topic,
      partitions: list.map((p) => ({
        partition: p.partition,
        offset: p.offset.toString(),
        metadata: p.metadata ?? null,
      })),
    }))
    const { memberId, generationId } = generation ?? simpleCommit
    await withRoutingRetry(async () => {
      // kafkajs 2.2.4 Cluster.findGroupCoordinator sends FindCoordinator each time (no cache).
      const coordinator = await (await this.#ready()).findGroupCoordinator({ groupId })
      await coordinator.offsetCommit({ groupId, groupGenerationId: generationId, memberId, topics })
    }, this.#refresh).catch((error: unknown) => {
      throw commitFailure(error, groupId, generation)
    })
  }

  /** kafkajs 2.2.4 sends OffsetFetch without require_stable: offsets never wait for a pending transaction. */
  async committedOffsets(groupId: string, partitions: TopicPartition[]): Promise<CommittedOffset[]> {
    if (partitions.length === 0) return []
    const topics = [...groupBy(partitions, (p) => p.topic)].map(([topic, list]) => ({
      topic,
      // The offset is required by kafkajs' typings only; OffsetFetch does not send it.
      partitions: list.map((p) => ({ partition: p.partition, offset: '-1' })),
    }))
    const { responses } = await withRoutingRetry(async () => {
      const coordinator = await (await this.#ready()).findGroupCoordinator({ groupId })
      return coordinator.offsetFetch({ groupId, topics })
    }, this.#refresh)
    // kafkajs' typings leave out the metadata OffsetFetch returns.
    return responses.flatMap(({ topic, partitions }) =>
      // -1: the group has no offset for this partition.
      (partitions as Array<(typeof partitions)[number] & { metadata?: string | null }>).flatMap((p) =>
        BigInt(p.offset) >= 0n
          ? [
              {
                topic,
                partition: p.partition,
                offset: BigInt(p.offset),
                ...(p.metadata ? { metadata: p.metadata } : {}),
              },
            ]
          : [],
      ),
    )
  }

  async listOffsets(
    partitions: TopicPartition[],
    which: 'earliest' | 'latest',
  ): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return []
    const topics = [...new Set(partitions.map((p) => p.topic))]
    const listed = await withRoutingRetry(async () => {
      const cluster = await this.#ready(topics)
      // kafkajs 2.2.4 Cluster.fetchTopicsOffset: ListOffsets to each leader from the cached metadata.
      return cluster.fetchTopicsOffset(
        [...groupBy(partitions, (p) => p.topic)].map(([topic, list]) => ({
          topic,
          partitions: list.map((p) => ({ partition: p.partition })),
          fromBeginning: which === 'earliest',
        })),
      )
    }, this.#refresh)
    return listed.flatMap(({ topic, partitions: list }) =>
      list.map((p) => ({ topic, partition: p.partition, offset: BigInt(p.offset) })),
    )
  }

  /**
   * Calls are serialized, as the platformatic producer's are: kafkajs takes back the sequence numbers of a
   * failed attempt before it retries, and a produce running beside it would take them first.
   */
  produce(messages: OutgoingMessage[], options: ProduceOptions = {}): Promise<void> {
    if (messages.length === 0) return Promise.resolve()
    const run = this.#produceQueue.then(() => this.#produce(messages, options))
    this.#produceQueue = run.catch(() => {})
    return run
  }

  async #produce(messages: OutgoingMessage[], options: ProduceOptions): Promise<void> {
    this.#requireOpen()
    try {
      // Partitioned before the producer connects: a connect started first would reject unhandled (and end the
      // worker thread) when the partition check fails, as it does while the brokers are unreachable.
      const partitioned = await this.#partitioned(messages)
      const producer = await this.#connectedProducer()
      // kafkajs numbers its CompressionTypes as Kafka does.
      const compression = compressionCodecId(options.compression ?? 'none') as CompressionTypes
      let sent = false
      try {
        for (const chunk of chunkForProduce(partitioned)) await this.#sendBatch(producer, chunk, compression)
        sent = true
      } finally {
        // After a failure; or after close(), which kafkajs's retries may have outlived by connecting again.
        if (!sent || this.#closed) await this.#dropProducer(producer)
      }
    } catch (error) {
      throw produceFailure(messages, error)
    }
  }

  #requireOpen(): void {
    if (this.#closed) throw new KafkaClientError('the Kafka client is closed')
  }

  /** The idempotent producer, connected (its producer id taken): made at the first produce, again after a drop. */
  async #connectedProducer(): Promise<Producer> {
    this.#requireOpen()
    if (!this.#producer) {
      const producer = this.#kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      })
      this.#producer = { producer, connected: producer.connect() }
      this.#producer.connected.catch(() => this.#dropProducer(producer))
    }
    const { producer, connected } = this.#producer
    await connected
    return producer
  }

  /**
   * Ends `producer` after a failed send or connect, so that the next produce takes a new producer id. kafkajs
   * takes back the sequence numbers of a request that failed although the leader may have appended it (its
   * answer lost, its followers stalled): the next records would reuse them, and the broker would acknowledge
   * them as duplicates of that batch without appending them.
   */
  async #dropProducer(producer: Producer): Promise<void> {
    if (this.#producer?.producer === producer) this.#producer = undefined
    await producer.disconnect().catch(() => undefined)
  }

  /**
   * Sends one chunk, every message with its partition, and checks that the broker acknowledged each partition:
   * kafkajs 2.2.4's sendBatch keeps the answers of the brokers that succeeded across its retries, and after a
   * leader change can resolve without sending the partitions that moved to one of them.
   */
  async #sendBatch(
    producer: Producer,
    messages: PartitionedMessage[],
    compression: CompressionTypes,
  ): Promise<void> {
    const answers = await producer.sendBatch({
      acks: -1,
      compression,
      topicMessages: [...groupBy(messages, (m) => m.topic)].map(([topic, list]) => ({
        topic,
        messages: list.map(toKafkaJsMessage),
      })),
    })
    requireAcknowledged(
      messages,
      answers.map((answer) => ({ ...answer, topic: answer.topicName })),
    )
  }

  /**
   * The messages, each with its partition: the one given (checked to exist) or the Java client's choice, so
   * that the partitions written to are known before sending.
   */
  async #partitioned(messages: OutgoingMessage[]): Promise<PartitionedMessage[]> {
    const cluster = await this.#ready([...new Set(messages.map((m) => m.topic))])
    return messages.map((message) => {
      const count = cluster.findTopicPartitionMetadata(message.topic).length
      if (message.partition === undefined)
        return { ...message, partition: this.#partitionFor(message.key, count) }
      if (message.partition < 0 || message.partition >= count) {
        throw new Error(
          `${topicPartitionKey(message.topic, message.partition)} does not exist (the topic has ${count} partitions)`,
        )
      }
      return message as PartitionedMessage
    })
  }

  close(): Promise<void> {
    this.#closed ??= Promise.allSettled([
      this.#connected ? this.#cluster.disconnect() : undefined,
      this.#producer?.producer.disconnect(),
    ]).then(() => undefined)
    return this.#closed
  }
}
