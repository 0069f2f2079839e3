import {
  createKafkaClient,
  describeKafkaError,
  type KafkaClientKind,
  type KafkaConnectionOptions,
} from '../kafka/index.ts'
import { ConfigurationError } from '../processor/errors.ts'
import { inputPartitionCount } from '../processor/input-topics.ts'

/** What the partition count thread is given; it loads no configuration code. */
export interface PartitionCountTask {
  client: KafkaClientKind
  connection: KafkaConnectionOptions
  inputTopics: string[]
}

/** The count, or the message of the error that the main thread throws (a ConfigurationError or not). */
export type PartitionCountResult = { count: number } | { message: string; configurationError: boolean }

/** The input topics' shared partition count, read from Kafka in this thread. */
export async function readPartitionCount(task: PartitionCountTask): Promise<PartitionCountResult> {
  const client = createKafkaClient(task.client, task.connection)
  try {
    return { count: await inputPartitionCount(client, task.inputTopics, 'processor.inputTopics') }
  } catch (error) {
    if (error instanceof ConfigurationError) return { message: error.message, configurationError: true }
    return {
      message: `cannot read topic metadata from kafka.brokers (${task.connection.brokers.join(', ')}): ${describeKafkaError(error)}`,
      configurationError: false,
    }
  } finally {
    await client.close().catch(() => {})
  }
}
