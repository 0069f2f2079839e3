import {
  createKafkaClient,
  describeKafkaError,
  isTransient,
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
    return { count: await inputPartitionCount(client, task.inputTopics, 'processor.inputTopics') }
  } catch (error) {
    if (error instanceof ConfigurationError)
      return { message: error.message, configurationError: true, keys: error.keys }
    return {
      message: `cannot read topic metadata from kafka.brokers (${task.connection.brokers.join(', ')}): ${describeKafkaError(error)}`,
      configurationError: false,
      transient: isTransient(error),
    }
  } finally {
    await client.close().catch(() => {})
  }
}
