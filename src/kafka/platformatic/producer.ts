import { setTimeout as sleep } from 'node:timers/promises'
import {
  type API,
  type Base,
  type ClusterMetadata,
  type Connection,
  crc32c,
  createAPI,
  kGetApi,
  kGetConnection,
  ProduceAcks,
  type Reader,
  Writer,
} from '#platformatic-kafka'
import { type PartitionAcknowledgement, requireAcknowledged } from '../acknowledgements.ts'
import { compress } from '../compression.ts'
import { errorCodes, kafkaErrorKind } from '../errors/index.ts'
import { KafkaClientError } from '../errors.ts'
import { groupBy } from '../group-by.ts'
import type { OutgoingMessage } from '../messages.ts'
import { keyPartitioner } from '../partitioner.ts'
import { maxBatchBytesPerPartition, sizeOf } from '../produce-size.ts'
import {
  decodeProduceResponse,
  encodeProduceRequest,
  firstFlexibleProduceVersion,
  type ProduceResponse,
  produceApiKey,
  produceVersions,
} from '../protocol/produce-v3-v11.ts'
import { type BatchCompression, encodeRecordBatch, type ProducerIdentity } from '../protocol/record-batch.ts'
import { leaderChangeRetry, retryPauseMs, withRoutingRetry } from '../routing-retry.ts'
import { type CompressionCodec, compressionCodecId, topicPartitionKey } from '../types.ts'
import { BatchBuffers } from './batch-buffers.ts'
import { callback } from './callback.ts'

interface PartitionBatch {
  topic: string
  partition: number
  messages: OutgoingMessage[]
  /**
   * Encoded for `identity` with the partition's sequence; sent again as is on a retry. `unanswered`: it went
   * out in a request that got no answer, whose bytes a connection may still be writing, so its buffer is
   * never used again.
   */
  encoded?: { identity: Identity; bytes: Buffer; unanswered?: boolean }
  /** Where the broker appended it, once acknowledged. */
  baseOffset?: bigint
}
export interface Identity {
  producerId: bigint
  producerEpoch: number
}

/** What makes the producer transactional (see transaction.ts). */
export interface TransactionHooks {
  readonly transactionalId: string
  /** The producer id and epoch of the transactional id (InitProducerId through its coordinator). */
  identity(): Promise<Identity>
  /** Adds the partitions to the open transaction (AddPartitionsToTxn), those not yet in it. */
  addPartitions(partitions: Array<{ topic: string; partition: number }>): Promise<void>
}
type ProduceApi = API<[acks: number, timeoutMs: number, batches: PartitionBatch[][]], ProduceResponse>

const maxSequence = 0x7fffffff
/** Released record batch buffers a producer keeps for later batches: the Java producer's buffer.memory. */
const pooledBatchBytes = 32 * 1024 * 1024

/**
 * The library's CRC-32C (native when @node-rs/crc32 is installed, else WebAssembly). Handed a Buffer, its
 * native path copies it into a new Uint8Array first; inside a single-chunk DynamicBuffer it is read in place.
 */
const batchCrc32c = (bytes: Buffer): number => crc32c(Writer.create().append(bytes).dynamicBuffer)

/** A partition the broker refused; `code` is Kafka's error code. */
export class PartitionProduceError extends KafkaClientError {
  override name = 'PartitionProduceError'
  readonly code: number
  constructor(topic: string, partition: number, code: number, detail: string | null | undefined) {
    super(
      `the broker refused ${topicPartitionKey(topic, partition)}: ${kafkaErrorKind(code).name}${detail ? ` (${detail})` : ''}`,
    )
    this.code = code
  }
}

/** Our Produce request encoder, its chunks handed to the library's connection as they are. */
function produceRequest(version: number, transactionalId: string | null) {
  return (acks: number, timeoutMs: number, byTopic: PartitionBatch[][]) => {
    const chunks = encodeProduceRequest(version, {
      transactionalId,
      acks,
      timeoutMs,
      topicData: byTopic.map((batches) => ({
        name: batches[0]!.topic,
        partitionData: batches.map((batch) => ({ index: batch.partition, records: batch.encoded!.bytes })),
      })),
    })
    const writer = Writer.create()
    for (const chunk of chunks) writer.append(chunk)
    return writer
  }
}

const parseProduceResponse = (_correlationId: number, _apiKey: number, version: number, reader: Reader) =>
  decodeProduceResponse(version, reader.buffer.slice(reader.position))

/**
 * An idempotent producer (acks = all) on @platformatic/kafka's connections and protocol API, encoding each
 * partition's records straight into one record batch. The library's Producer builds every record from
 * small buffers and validates every message against a schema: most of a pass-through's CPU time.
 * Calls are serialized: sequence numbers follow the order of the calls. With `transaction` hooks it writes
 * in the hooks' transaction, and leaves a lost producer state to the transaction to abort.
 */
export class IdempotentProducer {
  /** Connections of the producer's own, closed with it. */
  readonly #connections: Base
  readonly #timeoutMs: number
  readonly #transaction: TransactionHooks | undefined
  readonly #partitionFor = keyPartitioner()
  readonly #sequences = new Map<string, number>()
  #identity: Identity | undefined
  #api: ProduceApi | undefined
  #queue: Promise<unknown> = Promise.resolve()
  readonly #buffers: BatchBuffers

  constructor(
    connections: Base,
    timeoutMs: number,
    transaction?: TransactionHooks,
    buffers = new BatchBuffers(pooledBatchBytes),
  ) {
    this.#connections = connections
    this.#timeoutMs = timeoutMs
    this.#transaction = transaction
    this.#buffers = buffers
  }

  /** Resolves once every message is acknowledged by all in-sync replicas. */
  produce(messages: OutgoingMessage[], compression: CompressionCodec = 'none'): Promise<void> {
    const run = this.#queue.then(() =>
      this.#produce(messages, { codec: compressionCodecId(compression), compress }),
    )
    this.#queue = run.catch(() => {})
    return run
  }

  close(): Promise<void> {
    return this.#connections.close()
  }

  async #produce(messages: OutgoingMessage[], compression: BatchCompression): Promise<void> {
    const metadata = await this.#metadata(messages)
    const rounds = this.#rounds(messages, metadata)
    try {
      for (const round of rounds) await this.#send(round, metadata, compression)
      const written: PartitionAcknowledgement[] = rounds.flat()
      requireAcknowledged(written, written)
    } catch (error) {
      // Batches may have been written without an answer: their sequence numbers must not be used again for
      // other records (the broker would take those for duplicates). A new producer id starts afresh.
      this.resetIdentity()
      throw error
    }
  }

  #metadata(messages: OutgoingMessage[]): Promise<ClusterMetadata> {
    const topics = new Set<string>()
    for (const message of messages) topics.add(message.topic)
    return this.#connections.metadata({ topics: [...topics] })
  }

  /**
   * Each partition's messages, in order, cut into record batches below the broker's size limit. A Produce
   * request holds one batch per partition, so round k holds every partition's k-th batch. A partition
   * beyond its topic's count is refused here, naming it.
   */
  #rounds(messages: OutgoingMessage[], metadata: ClusterMetadata): PartitionBatch[][] {
    const rounds: PartitionBatch[][] = []
    const open = new Map<string, Array<PartitionBatch & { round: number; bytes: number }>>()
    for (const message of messages) {
      const { topic } = message
      const count = metadata.topics.get(topic)?.partitionsCount ?? 0
      const partition = message.partition ?? this.#partitionFor(message.key, count)
      if (partition < 0 || partition >= count) {
        throw new KafkaClientError(
          `${topicPartitionKey(topic, partition)} does not exist (the topic has ${count} partitions)`,
        )
      }
      let byPartition = open.get(topic)
      if (!byPartition) {
        byPartition = []
        open.set(topic, byPartition)
      }
      const size = sizeOf(message)
      let batch = byPartition[partition]
      if (!batch || batch.bytes + size > maxBatchBytesPerPartition) {
        const round = batch ? batch.round + 1 : 0
        batch = { topic, partition, messages: [], round, bytes: 0 }
        byPartition[partition] = batch
        if (round === rounds.length) rounds.push([])
        rounds[round]!.push(batch)
      }
      batch.messages.push(message)
      batch.bytes += size
    }
    return rounds
  }

  async #send(
    batches: PartitionBatch[],
    initialMetadata: ClusterMetadata,
    compression: BatchCompression,
  ): Promise<void> {
    let metadata = initialMetadata
    let pending = batches
    let lastError: unknown
    for (let attempt = 1; attempt <= leaderChangeRetry.attempts; attempt++) {
      if (attempt > 1) {
        await sleep(retryPauseMs(attempt - 1))
        metadata = await this.#connections.metadata({
          topics: [...new Set(pending.map((b) => b.topic))],
          forceUpdate: true,
        })
      }
      const identity = await this.#currentIdentity(metadata)
      await this.#transaction?.addPartitions(pending)
      const api = await this.#produceApi()
      const nowMs = Date.now()
      for (const batch of pending) {
        if (batch.encoded?.identity === identity) continue
        const key = `${batch.topic}\u0000${batch.partition}`
        const producer: ProducerIdentity = {
          ...identity,
          baseSequence: this.#sequences.get(key) ?? 0,
          transactional: this.#transaction !== undefined,
        }
        const bytes = encodeRecordBatch(
          batch.messages,
          producer,
          nowMs,
          batchCrc32c,
          compression,
          this.#buffers,
        )
        batch.encoded = { identity, bytes }
      }
      const byLeader = groupBy(
        pending,
        (b) => metadata.topics.get(b.topic)?.partitions[b.partition]?.leader ?? -1,
      )
      const outcomes = await Promise.all(
        [...byLeader].map(([leader, group]) => this.#sendToLeader(api, metadata, leader, group)),
      )
      // Acknowledgements first: a producer id reset below starts every sequence afresh.
      for (const outcome of outcomes) for (const batch of outcome.acknowledged) this.#acknowledged(batch)
      const retry: PartitionBatch[] = []
      for (const { batch, error } of outcomes.flatMap((outcome) => outcome.failed)) {
        lastError = error
        const kind = error instanceof PartitionProduceError ? kafkaErrorKind(error.code) : undefined
        // In a transaction a lost producer state is not mended here: the transaction is aborted.
        if (kind?.producerStateLost && this.#transaction) throw error
        if (kind?.producerStateLost) this.resetIdentity()
        else if (kind && !kind.retriable) throw error
        retry.push(batch)
      }
      if (retry.length === 0) return
      pending = retry
    }
    throw lastError
  }

  async #sendToLeader(
    api: ProduceApi,
    metadata: ClusterMetadata,
    leader: number,
    batches: PartitionBatch[],
  ): Promise<{ acknowledged: PartitionBatch[]; failed: Array<{ batch: PartitionBatch; error: unknown }> }> {
    const broker = metadata.brokers.get(leader)
    if (!broker) {
      const error = new KafkaClientError(
        `no leader for ${topicPartitionKey(batches[0]!.topic, batches[0]!.partition)}`,
      )
      return { acknowledged: [], failed: batches.map((batch) => ({ batch, error })) }
    }
    let response: ProduceResponse
    try {
      const connection = await callback<Connection>((done) => this.#connections[kGetConnection](broker, done))
      const byTopic = [...groupBy(batches, (b) => b.topic).values()]
      response = await api.async(connection, ProduceAcks.ALL, this.#timeoutMs, byTopic)
    } catch (error) {
      // A request that failed as a whole (a connection lost, a timeout) may have been written: sent again
      // with the same sequence numbers, the broker acknowledges it without appending it twice.
      for (const batch of batches) batch.encoded!.unanswered = true
      return { acknowledged: [], failed: batches.map((batch) => ({ batch, error })) }
    }
    const answers = new Map<string, { errorCode: number; baseOffset: bigint; errorMessage?: string | null }>()
    for (const topic of response.responses) {
      for (const p of topic.partitionResponses) answers.set(`${topic.name}\u0000${p.index}`, p)
    }
    const acknowledged: PartitionBatch[] = []
    const failed: Array<{ batch: PartitionBatch; error: unknown }> = []
    for (const batch of batches) {
      const answer = answers.get(`${batch.topic}\u0000${batch.partition}`)
      if (!answer) {
        failed.push({
          batch,
          error: new KafkaClientError(
            `the broker left ${topicPartitionKey(batch.topic, batch.partition)} out`,
          ),
        })
      } else if (
        answer.errorCode === errorCodes.NONE ||
        answer.errorCode === errorCodes.DUPLICATE_SEQUENCE_NUMBER
      ) {
        batch.baseOffset = answer.baseOffset
        acknowledged.push(batch)
      } else {
        failed.push({
          batch,
          error: new PartitionProduceError(
            batch.topic,
            batch.partition,
            answer.errorCode,
            answer.errorMessage,
          ),
        })
      }
    }
    return { acknowledged, failed }
  }

  /** The partition's sequence moves past the batch; its buffer serves a later batch. */
  #acknowledged(batch: PartitionBatch): void {
    const key = `${batch.topic}\u0000${batch.partition}`
    const next = (this.#sequences.get(key) ?? 0) + batch.messages.length
    this.#sequences.set(key, next > maxSequence ? next - maxSequence - 1 : next)
    if (!batch.encoded!.unanswered) this.#buffers.release(batch.encoded!.bytes)
    delete batch.encoded
  }

  /** Forgets the producer id: the next produce takes a new one and starts every sequence at 0. */
  resetIdentity(): void {
    this.#identity = undefined
    this.#sequences.clear()
  }

  async #currentIdentity(metadata: ClusterMetadata): Promise<Identity> {
    if (this.#identity) return this.#identity
    if (this.#transaction) {
      this.#identity = await this.#transaction.identity()
      return this.#identity
    }
    const api = await callback<API<[string | null, number], Identity>>((done) =>
      this.#connections[kGetApi]('InitProducerId', done),
    )
    const broker = metadata.brokers.values().next().value
    if (!broker) throw new KafkaClientError('the cluster metadata lists no broker')
    const connection = await callback<Connection>((done) => this.#connections[kGetConnection](broker, done))
    // A broker that just started answers COORDINATOR_LOAD_IN_PROGRESS for a few seconds.
    const { producerId, producerEpoch } = await withRoutingRetry(
      () => api.async(connection, null, this.#timeoutMs),
      undefined,
      10,
    )
    this.#identity = { producerId, producerEpoch }
    return this.#identity
  }

  /**
   * The newest Produce version the broker, the library and our codec all speak, with our request encoder and
   * response decoder.
   */
  async #produceApi(): Promise<ProduceApi> {
    if (this.#api) return this.#api
    const negotiated = await callback<API<unknown[], unknown>>((done) =>
      this.#connections[kGetApi]('Produce', done),
    )
    const version = Math.min(negotiated.version, produceVersions.newest)
    if (version < produceVersions.oldest) throw new KafkaClientError(`Produce v${version} is not supported`)
    const flexible = version >= firstFlexibleProduceVersion
    this.#api = createAPI(
      produceApiKey,
      version,
      produceRequest(version, this.#transaction?.transactionalId ?? null),
      parseProduceResponse,
      flexible,
      flexible,
    )
    return this.#api
  }
}
