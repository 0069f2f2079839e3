import { UnknownTopicError } from '../kafka/errors.ts'
import { topicWriteAccess } from '../kafka/index.ts'
import type { KafkaClient, KafkaConnectionOptions } from '../kafka/types.ts'
import { ConfigurationError } from './errors.ts'

/**
 * The partition count all input topics share (partition p of every topic goes to the same processor).
 * `field` names the setting in errors: `inputTopics` for the library, a configuration path for the runtime.
 */
export async function inputPartitionCount(
  client: KafkaClient,
  inputTopics: string[],
  field = 'inputTopics',
): Promise<number> {
  let counts: Map<string, number>
  try {
    counts = await client.partitionCounts(inputTopics)
  } catch (error) {
    if (error instanceof UnknownTopicError)
      throw new ConfigurationError(`${field}: ${error.message}`, { keys: [field] })
    throw error
  }
  return sharedPartitionCount(counts, inputTopics, field)
}

/** The one partition count of `counts` (each input topic's), or a ConfigurationError naming `field`. */
export function sharedPartitionCount(
  counts: ReadonlyMap<string, number>,
  inputTopics: string[],
  field: string,
): number {
  if (new Set(counts.values()).size > 1) {
    const listing = inputTopics.map((topic) => `${topic}=${counts.get(topic)}`).join(', ')
    throw new ConfigurationError(
      `${field}: all input topics must have the same partition count (${listing})`,
      { keys: [field] },
    )
  }
  return counts.get(inputTopics[0]!)!
}

/**
 * Throws a ConfigurationError naming `field` (and `why` the topic is needed) unless `topic` exists; resolves
 * with its partition count.
 */
export async function requireTopic(
  client: KafkaClient,
  topic: string,
  field: string,
  why: string,
): Promise<number> {
  try {
    return (await client.partitionCounts([topic])).get(topic)!
  } catch (error) {
    if (error instanceof UnknownTopicError)
      throw new ConfigurationError(`${field}: unknown topic: ${topic} (${why})`, {
        keys: [field],
      })
    throw error
  }
}

/**
 * Throws a ConfigurationError naming `field` (and `why` the topic is written) when the broker reports that
 * the connection's principal may not write to `topic`, or may not even describe it: without DESCRIBE the topic
 * looks missing, so this comes before requireTopic. A topic that does not exist, and a broker that does not
 * report authorized operations, pass (requireTopic, and the first write, tell).
 */
export async function requireWritableTopic(
  connection: KafkaConnectionOptions,
  topic: string,
  field: string,
  why: string,
): Promise<void> {
  try {
    if ((await topicWriteAccess(connection, topic)) !== 'denied') return
  } catch (error) {
    if (error instanceof UnknownTopicError) return
    throw error
  }
  const principal = connection.sasl ? `User:${connection.sasl.username}` : 'the principal Kasper connects as'
  throw new ConfigurationError(
    `${field}: not authorized to write to topic ${topic} (${why}): grant ${principal} WRITE on it`,
    { keys: [field] },
  )
}
