import { UnknownTopicError } from '../kafka/errors.ts'
import type { IncomingMessage, OutgoingMessage } from '../kafka/messages.ts'
import type { CompressionCodec, KafkaClient, TopicPartition } from '../kafka/types.ts'
import { topicPartitionKey } from '../kafka/types.ts'
import { deadLetterOrigin, forwardHeaders } from './dead-letter.ts'
import { defaults } from './options.ts'

export interface ReplayOptions {
  client: KafkaClient
  deadLetterTopic: string
  /** Copy every record to this topic (partition by key); default: back to its origin topic and partition. */
  to?: string
  /** How the copies are compressed (the processor's compression); uncompressed when absent. */
  compression?: CompressionCodec
}

/** A replay that cannot go on; the message says why. Nothing after the last commit was copied. */
export class ReplayError extends Error {
  override name = 'ReplayError'
}

/** The consumer group that keeps the replay's position in a dead-letter topic. */
export const replayGroupId = (deadLetterTopic: string): string => `kasper-replay-${deadLetterTopic}`

function replayRecord(message: IncomingMessage, to: string | undefined): OutgoingMessage {
  const origin = to === undefined ? deadLetterOrigin(message) : { topic: to, partition: undefined }
  if (!origin) {
    throw new ReplayError(
      `${topicPartitionKey(message.topic, message.partition)}@${message.offset} has no origin headers; copy it with --to <topic>`,
    )
  }
  return {
    topic: origin.topic,
    ...(origin.partition === undefined ? {} : { partition: origin.partition }),
    key: message.key,
    value: message.value,
    headers: forwardHeaders(message.headers),
  }
}

async function partitionsOf(client: KafkaClient, topic: string): Promise<TopicPartition[]> {
  try {
    const count = (await client.partitionCounts([topic])).get(topic)!
    return Array.from({ length: count }, (_, partition) => ({ topic, partition }))
  } catch (error) {
    if (error instanceof UnknownTopicError) throw new ReplayError(`dead-letter topic ${topic} does not exist`)
    throw error
  }
}

/**
 * Copies the dead-letter topic's records, from the replay group's committed position (else the log start)
 * up to the log end as it was when the replay started, committing after each acknowledged slice: a rerun
 * copies only what was dead-lettered since. Resolves with the number of records copied.
 */
export async function replayDeadLetters({
  client,
  deadLetterTopic,
  to,
  compression,
}: ReplayOptions): Promise<number> {
  const group = replayGroupId(deadLetterTopic)
  const partitions = await partitionsOf(client, deadLetterTopic)
  const [committed, starts, ends] = await Promise.all([
    client.committedOffsets(group, partitions),
    client.listOffsets(partitions, 'earliest'),
    client.listOffsets(partitions, 'latest'),
  ])
  const offsetOf = (list: Array<TopicPartition & { offset: bigint }>, partition: number) =>
    list.find((o) => o.partition === partition)?.offset
  let copied = 0
  for (const tp of partitions) {
    const start = offsetOf(starts, tp.partition) ?? 0n
    const end = offsetOf(ends, tp.partition) ?? 0n
    let next = offsetOf(committed, tp.partition) ?? start
    if (next < start) next = start
    while (next < end) {
      const [fetched] = await client.fetch([{ ...tp, offset: next }], defaults.fetch)
      if (fetched?.kind !== 'records')
        throw new ReplayError(`${topicPartitionKey(tp.topic, tp.partition)}@${next} is out of range`)
      const messages = fetched.messages.filter((m) => m.offset < end)
      if (messages.length > 0)
        await client.produce(
          messages.map((m) => replayRecord(m, to)),
          { compression },
        )
      // nextOffset moves past transaction markers and aborted records too, which a fetch may hold alone.
      const moved = fetched.nextOffset < end ? fetched.nextOffset : end
      if (moved <= next) break
      next = moved
      await client.commitOffsets(group, [{ ...tp, offset: next }])
      copied += messages.length
    }
  }
  return copied
}
