import type { GroupMember, GroupMemberOptions } from './group/types.ts'
import { LazyKafkaClient } from './lazy-client.ts'
import {
  defaultIsolationLevel,
  type KafkaClient,
  type KafkaClientKind,
  type KafkaConnectionOptions,
} from './types.ts'

/**
 * The KafkaClient of the chosen library; both pass the same contract tests. The library is loaded on the
 * client's first call, so a process or worker thread loads only the one it uses (each adds tens of MB to a
 * thread that loads it: docs/deployment.md, "Memory").
 */
export function createKafkaClient(kind: KafkaClientKind, connection: KafkaConnectionOptions): KafkaClient {
  const options = { ...connection, isolationLevel: connection.isolationLevel ?? defaultIsolationLevel }
  if (kind === 'platformatic')
    return new LazyKafkaClient(
      async () => {
        const { PlatformaticKafkaClient } = await importPlatformatic()
        return new PlatformaticKafkaClient(options)
      },
      { transactions: true },
    )
  if (kind === 'kafkajs')
    return new LazyKafkaClient(
      async () => {
        const { KafkaJsClient } = await importKafkaJs()
        return new KafkaJsClient(options)
      },
      { transactions: false },
    )
  throw new Error(`kafka.client: unknown client ${String(kind)} (platformatic or kafkajs)`)
}

const importPlatformatic = () => import('./platformatic/client.ts')
const importKafkaJs = () => import('./kafkajs/client.ts')

/**
 * Loads the library of `kind` (a worker thread starts it while it waits for its task), so that the client's
 * first call finds it loaded; resolves once it is. A failure is left for that call to report.
 */
export async function loadKafkaClientLibrary(kind: KafkaClientKind): Promise<void> {
  const load = kind === 'platformatic' ? importPlatformatic : kind === 'kafkajs' ? importKafkaJs : undefined
  await load?.().catch(() => {})
}

/**
 * A consumer group member (the classic protocol, assigned by the leader so that partition p of every topic
 * goes to one member). Always on @platformatic/kafka, whatever client the workers use: it runs in the main
 * thread, which loads no other Kafka library.
 */
export async function createGroupMember(
  connection: KafkaConnectionOptions,
  options: GroupMemberOptions,
): Promise<GroupMember> {
  const { PlatformaticGroupMember } = await import('./platformatic/group-member.ts')
  return new PlatformaticGroupMember(
    { ...connection, isolationLevel: connection.isolationLevel ?? defaultIsolationLevel },
    options,
  )
}

export { describeKafkaError } from './describe-error.ts'
export { errorNodes, hasKafkaError, isFatalKafkaError } from './errors/index.ts'
export {
  isTransient,
  KafkaClientError,
  ProduceError,
  type Transient,
  UnknownTopicError,
  unreachableService,
} from './errors.ts'
export { GroupMembershipLostError } from './group/membership-lost.ts'
export {
  initialSession,
  nextSession,
  type SessionEffect,
  type SessionEvent,
  type SessionState,
  type SessionStateName,
} from './group/session.ts'
export type {
  GroupAssignment,
  GroupGeneration,
  GroupMember,
  GroupMemberOptions,
  RebalanceProtocol,
  RejoinReason,
} from './group/types.ts'
export { unreachableBrokers } from './outage.ts'
export {
  createTopics,
  deleteCommittedOffsets,
  deleteRecordsBefore,
  deleteTopics,
  type TopicSpec,
} from './platformatic/admin.ts'
export { topicWriteAccess } from './platformatic/authorized-operations.ts'
export type {
  CompressionCodec,
  FetchedPartition,
  FetchOptions,
  KafkaClient,
  KafkaClientKind,
  KafkaConnectionOptions,
  ProduceOptions,
  SaslOptions,
  TlsOptions,
  TopicAccess,
  TopicPartition,
  TopicPartitionOffset,
} from './types.ts'
export { compressionCodecs, topicPartitionKey } from './types.ts'
