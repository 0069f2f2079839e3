import type { API, Connection, metadataV12 } from '#platformatic-kafka'
import { hasKafkaError } from '../errors/index.ts'
import { UnknownTopicError } from '../errors.ts'
import { rethrowMarkingOutage } from '../outage.ts'
import type { KafkaConnectionOptions, TopicAccess } from '../types.ts'
import { withAdmin } from './admin.ts'
import { callback } from './callback.ts'

/** Metadata's topic_authorized_operations when the broker does not report them (KIP-430): INT32_MIN. */
const notReported = -2147483648

/**
 * What a topic_authorized_operations bit field (bit n set: AclOperation code n allowed) says of `operation`.
 * A broker without an authorizer reports every operation as allowed.
 */
export function accessIn(authorizedOperations: number, operation: number): TopicAccess {
  if (authorizedOperations === notReported) return 'not-reported'
  return (authorizedOperations & (1 << operation)) !== 0 ? 'allowed' : 'denied'
}

/**
 * Whether the connection's principal may write to `topic`, from a Metadata request asking for the topic's
 * authorized operations (v8 and later; an older broker does not report them). A principal that may not even
 * describe the topic is denied (the broker does not say whether it exists); a topic the principal may
 * describe but that does not exist rejects with UnknownTopicError. Always on @platformatic/kafka, whichever
 * client kafka.client chose: kafkajs 2.2.4 sends Metadata up to v6 only.
 */
export function topicWriteAccess(connection: KafkaConnectionOptions, topic: string): Promise<TopicAccess> {
  return withAdmin(connection, async (admin) => {
    const kafka = await import('#platformatic-kafka')
    const broker = await callback<Connection>((done) => admin[kafka.kGetBootstrapConnection](done))
    // Whichever version both sides know; from v8 on it can ask for the authorized operations.
    const metadata = await callback<API<[string[], boolean, boolean], metadataV12.MetadataResponse>>((done) =>
      admin[kafka.kGetApi]('Metadata', done),
    )
    try {
      const { topics } = await metadata.async(broker, [topic], false, true)
      const operations = topics.find((t) => t.name === topic)?.topicAuthorizedOperations ?? notReported
      return accessIn(operations, kafka.AclOperations.WRITE)
    } catch (error) {
      if (hasKafkaError(error, 'TOPIC_AUTHORIZATION_FAILED')) return 'denied'
      if (hasKafkaError(error, 'UNKNOWN_TOPIC_OR_PARTITION')) throw new UnknownTopicError([topic])
      throw error
    }
  }).catch(rethrowMarkingOutage)
}
