import { errorNodes, someCause } from './errors/causes.ts'

/**
 * A KafkaClient's own error: the Kafka client library or the broker answered with something unexpected (a
 * partition left out, a corrupt record batch, an unsupported version) or the client is closed. The
 * subclasses name the cases a caller acts on.
 */
export class KafkaClientError extends Error {
  override name = 'KafkaClientError'
}

export class UnknownTopicError extends KafkaClientError {
  override name = 'UnknownTopicError'
  readonly topics: string[]
  constructor(topics: string[]) {
    super(`unknown topic${topics.length > 1 ? 's' : ''}: ${topics.join(', ')}`)
    this.topics = topics
  }
}

/** A produce failed; names the topic-partition so the user can find the record at fault. */
export class ProduceError extends KafkaClientError {
  override name = 'ProduceError'
  readonly topic: string
  readonly partition: number | undefined
  constructor(message: string, topic: string, partition: number | undefined, options?: ErrorOptions) {
    super(message, options)
    this.topic = topic
    this.partition = partition
  }
}

/** Metadata names no usable leader for a partition (an election is under way): worth a refresh and a retry. */
export class StaleMetadataError extends KafkaClientError {
  override name = 'StaleMetadataError'
  readonly retriable = true
}

/**
 * A producer with the same transactional id started after this one (or the broker denied the id): this
 * producer can no longer write or commit.
 */
export class ProducerFencedError extends KafkaClientError {
  override name = 'ProducerFencedError'
  readonly transactionalId: string
  constructor(transactionalId: string, options?: ErrorOptions) {
    super(
      `the producer with transactional id ${transactionalId} was fenced: another producer with the same id started since`,
      options,
    )
    this.transactionalId = transactionalId
  }
}

/**
 * The marker of an outage: the server an operation needs (a broker, a store) is unreachable or does not
 * answer, so the same operation can succeed once it is back. The error policy never isolates, dead-letters or
 * skips records over such an error, and the runtime waits it out without counting it as a failure. Kafka
 * errors are marked by the KafkaClient, store errors by the store; an error counts as transient when it or
 * one of its causes carries the marker.
 */
export interface Transient {
  readonly transient: true
  /** What is unreachable when it is not Kafka (a store, the schema registry), for the outage warning and /status. */
  readonly service?: string
}

export const isTransient = (error: unknown): boolean => someCause(error, (node) => node.transient === true)

/** What an outage's error, or the first of its causes that says, names as unreachable when it is not Kafka. */
export function unreachableService(error: unknown): string | undefined {
  for (const { node } of errorNodes(error))
    if (node.transient === true && typeof node.service === 'string') return node.service
  return undefined
}

/** Marks `error` as an outage (see Transient) of `service` (undefined: Kafka), in place, and returns it. */
export function markTransient<E>(error: E, service?: string): E {
  if (error && typeof error === 'object' && !Object.isFrozen(error)) {
    Object.defineProperty(error, 'transient', { value: true, enumerable: false, configurable: true })
    if (service !== undefined)
      Object.defineProperty(error, 'service', { value: service, enumerable: false, configurable: true })
  }
  return error
}
