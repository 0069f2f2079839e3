import { KafkaJsClient } from './kafkajs/client.ts'
import { PlatformaticKafkaClient } from './platformatic/client.ts'
import type { KafkaClient, KafkaClientKind, KafkaConnectionOptions } from './types.ts'

/** The KafkaClient of the chosen library; both pass the same contract tests. */
export function createKafkaClient(kind: KafkaClientKind, options: KafkaConnectionOptions): KafkaClient {
  if (kind === 'platformatic') return new PlatformaticKafkaClient(options)
  if (kind === 'kafkajs') return new KafkaJsClient(options)
  throw new Error(`kafka.client: unknown client ${String(kind)} (platformatic or kafkajs)`)
}

export {
  createTopics,
  deleteCommittedOffsets,
  deleteRecordsBefore,
  deleteTopics,
  type TopicSpec,
} from './admin.ts'
export { KafkaBoundaryError, ProduceError, UnknownTopicError } from './errors.ts'
export { describeKafkaError } from './records.ts'
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
export { partitionKey } from './types.ts'
