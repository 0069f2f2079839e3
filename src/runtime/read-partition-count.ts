import { createKafkaClient, isTransient } from '../kafka/index.ts'
import { ConfigurationError } from '../processor/errors.ts'
import { inputPartitionCount, requireTopic, requireWritableTopic } from '../processor/input-topics.ts'
import type { PartitionCountResult, PartitionCountTask } from '../worker/protocol.ts'
import { kafkaFailureMessage } from './kafka-failure.ts'

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
