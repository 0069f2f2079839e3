import { KafkaClientError } from './errors.ts'
import type { OutgoingMessage } from './messages.ts'
import { rethrowMarkingOutage } from './outage.ts'
import type {
  FetchedPartition,
  FetchOptions,
  KafkaClient,
  TopicPartition,
  TopicPartitionOffset,
} from './types.ts'

/**
 * A KafkaClient that creates the real one, and so imports its library, on the first call. Every call of
 * either library passes here, so this is where an outage's error is marked transient.
 */
export class LazyKafkaClient implements KafkaClient {
  readonly #create: () => Promise<KafkaClient>
  #client: Promise<KafkaClient> | undefined
  #closed = false

  constructor(create: () => Promise<KafkaClient>) {
    this.#create = create
  }

  #get(): Promise<KafkaClient> {
    if (!this.#client && this.#closed)
      return Promise.reject(new KafkaClientError('the Kafka client is closed'))
    this.#client ??= this.#create()
    return this.#client
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    return (await this.#get()).partitionCounts(topics).catch(rethrowMarkingOutage)
  }

  async fetch(positions: TopicPartitionOffset[], options: FetchOptions): Promise<FetchedPartition[]> {
    return (await this.#get()).fetch(positions, options).catch(rethrowMarkingOutage)
  }

  async commitOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    return (await this.#get()).commitOffsets(groupId, offsets).catch(rethrowMarkingOutage)
  }

  async committedOffsets(groupId: string, partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    return (await this.#get()).committedOffsets(groupId, partitions).catch(rethrowMarkingOutage)
  }

  async listOffsets(
    partitions: TopicPartition[],
    which: 'earliest' | 'latest',
  ): Promise<TopicPartitionOffset[]> {
    return (await this.#get()).listOffsets(partitions, which).catch(rethrowMarkingOutage)
  }

  async produce(messages: OutgoingMessage[]): Promise<void> {
    return (await this.#get()).produce(messages).catch(rethrowMarkingOutage)
  }

  /** Closing a client that was never used loads nothing. */
  async close(): Promise<void> {
    this.#closed = true
    const client = await this.#client?.catch(() => undefined)
    await client?.close()
  }
}
