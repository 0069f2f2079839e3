import { KafkaClientError } from './errors.ts'
import type { GroupGeneration } from './group/types.ts'
import type { OutgoingMessage } from './messages.ts'
import { rethrowMarkingOutage } from './outage.ts'
import type {
  CommittedOffset,
  CommittedOffsetsOptions,
  FetchedPartition,
  FetchOptions,
  KafkaClient,
  ProduceOptions,
  TopicPartition,
  TopicPartitionOffset,
  TransactionalProducer,
  TransactionOptions,
} from './types.ts'

/**
 * A KafkaClient that creates the real one, and so imports its library, on the first call. Every call of
 * either library passes here, so this is where an outage's error is marked transient. It has
 * transactionalProducer() only when told that the real one has (which is known only once it is loaded).
 */
export class LazyKafkaClient implements KafkaClient {
  readonly #create: () => Promise<KafkaClient>
  #client: Promise<KafkaClient> | undefined
  #closed = false
  readonly transactionalProducer?: (
    transactionalId: string,
    options: TransactionOptions,
  ) => TransactionalProducer

  constructor(create: () => Promise<KafkaClient>, { transactions }: { transactions: boolean }) {
    this.#create = create
    if (transactions) this.transactionalProducer = (id, options) => this.#transactionalProducer(id, options)
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

  async commitOffsets(
    groupId: string,
    offsets: CommittedOffset[],
    generation?: GroupGeneration,
  ): Promise<void> {
    return (await this.#get()).commitOffsets(groupId, offsets, generation).catch(rethrowMarkingOutage)
  }

  async committedOffsets(
    groupId: string,
    partitions: TopicPartition[],
    options?: CommittedOffsetsOptions,
  ): Promise<TopicPartitionOffset[]> {
    return (await this.#get()).committedOffsets(groupId, partitions, options).catch(rethrowMarkingOutage)
  }

  async listOffsets(
    partitions: TopicPartition[],
    which: 'earliest' | 'latest',
  ): Promise<TopicPartitionOffset[]> {
    return (await this.#get()).listOffsets(partitions, which).catch(rethrowMarkingOutage)
  }

  async produce(messages: OutgoingMessage[], options?: ProduceOptions): Promise<void> {
    return (await this.#get()).produce(messages, options).catch(rethrowMarkingOutage)
  }

  #transactionalProducer(transactionalId: string, options: TransactionOptions): TransactionalProducer {
    let producer: Promise<TransactionalProducer> | undefined
    const get = () => {
      producer ??= this.#get().then((client) => {
        if (!client.transactionalProducer)
          throw new KafkaClientError('this Kafka client cannot do transactions')
        return client.transactionalProducer(transactionalId, options)
      })
      return producer
    }
    return {
      init: async () => (await get()).init().catch(rethrowMarkingOutage),
      produce: async (messages, produceOptions) =>
        (await get()).produce(messages, produceOptions).catch(rethrowMarkingOutage),
      commit: async (groupId, offsets, generation) =>
        (await get()).commit(groupId, offsets, generation).catch(rethrowMarkingOutage),
      abort: async (options) => (await get()).abort(options).catch(rethrowMarkingOutage),
    }
  }

  /** Closing a client that was never used loads nothing. */
  async close(): Promise<void> {
    this.#closed = true
    const client = await this.#client?.catch(() => undefined)
    await client?.close()
  }
}
