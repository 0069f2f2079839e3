export class KafkaBoundaryError extends Error {
  override name = 'KafkaBoundaryError'
}

export class UnknownTopicError extends KafkaBoundaryError {
  override name = 'UnknownTopicError'
  readonly topics: string[]
  constructor(topics: string[]) {
    super(`unknown topic${topics.length > 1 ? 's' : ''}: ${topics.join(', ')}`)
    this.topics = topics
  }
}

/** A produce failed; names the topic-partition so the user can find the record at fault. */
export class ProduceError extends KafkaBoundaryError {
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
export class StaleMetadataError extends KafkaBoundaryError {
  override name = 'StaleMetadataError'
  readonly retriable = true
}
