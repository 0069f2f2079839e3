import {
  createKafkaClient,
  isTransient,
  type KafkaClientKind,
  type KafkaConnectionOptions,
} from '../kafka/index.ts'
import { ConfigurationError } from '../processor/errors.ts'
import { inputPartitionCount, requireTopic, requireWritableTopic } from '../processor/input-topics.ts'
import { kafkaFailureMessage } from './kafka-failure.ts'

/** What the partition count thread is given; it loads no configuration code. */
export interface PartitionCountTask {
  client: KafkaClientKind
  connection: KafkaConnectionOptions
  inputTopics: string[]
  /**
   * Checked to exist, and to be writable by the connection's principal, when onFailure is dead-letter: found
   * at start, not when the first record fails.
   */
  deadLetterTopic?: string
}

/**
 * The count, or what the main thread needs to throw the error again: its message, whether it is a
 * ConfigurationError (and its keys) and whether it is an outage (transient).
 */
export type PartitionCountResult =
  | { count: number }
  | { message: string; configurationError: boolean; keys?: readonly string[]; transient?: boolean }

/** The input topics' shared partition count, read from Kafka in this thread. */
export async function readPartitionCount(task: PartitionCountTask): Promise<PartitionCountResult> {
  const client = createKafkaClient(task.client, task.connection)
  try {
    const count = await inputPartitionCount(client, task.inputTopics, 'processor.inputTopics')
    if (task.deadLetterTopic !== undefined) {
      const field = 'processor.errorPolicy.deadLetterTopic'
      const why = 'onFailure: dead-letter writes there'
      await requireWritableTopic(task.connection, task.deadLetterTopic, field, why)
      await requireTopic(client, task.deadLetterTopic, field, `${why}: create it before a record fails`)
    }
    return { count }
  } catch (error) {
    if (error instanceof ConfigurationError)
      return { message: error.message, configurationError: true, keys: error.keys }
    return {
      message: kafkaFailureMessage('cannot read topic metadata', task.connection.brokers, error),
      configurationError: false,
      transient: isTransient(error),
    }
  } finally {
    await client.close().catch(() => {})
  }
}
