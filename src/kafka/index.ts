import { LazyKafkaClient } from './lazy-client.ts'
import {
  defaultIsolationLevel,
  type KafkaClient,
  type KafkaClientKind,
  type KafkaConnectionOptions,
} from './types.ts'

/**
 * The KafkaClient of the chosen library; both pass the same contract tests. The library is loaded on the
 * client's first call, so a process or worker thread loads only the one it uses (@platformatic/kafka adds
 * about 60 MB to each thread that loads it).
 */
export function createKafkaClient(kind: KafkaClientKind, connection: KafkaConnectionOptions): KafkaClient {
  const options = { ...connection, isolationLevel: connection.isolationLevel ?? defaultIsolationLevel }
  if (kind === 'platformatic')
    return new LazyKafkaClient(async () => {
      const { PlatformaticKafkaClient } = await import('./platformatic/client.ts')
      return new PlatformaticKafkaClient(options)
    })
  if (kind === 'kafkajs')
    return new LazyKafkaClient(async () => {
      const { KafkaJsClient } = await import('./kafkajs/client.ts')
      return new KafkaJsClient(options)
    })
  throw new Error(`kafka.client: unknown client ${String(kind)} (platformatic or kafkajs)`)
}

export { describeKafkaError } from './describe-error.ts'
export {
  isTransient,
  KafkaClientError,
  ProduceError,
  type Transient,
  UnknownTopicError,
} from './errors.ts'
export {
  createTopics,
  deleteCommittedOffsets,
  deleteRecordsBefore,
  deleteTopics,
  type TopicSpec,
} from './platformatic/admin.ts'
export type {
  FetchedPartition,
  FetchOptions,
  KafkaClient,
  KafkaClientKind,
  KafkaConnectionOptions,
  SaslOptions,
  TlsOptions,
  TopicPartition,
  TopicPartitionOffset,
} from './types.ts'
export { topicPartitionKey } from './types.ts'
