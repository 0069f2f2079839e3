import { createKafkaClient, createTopics } from '../src/kafka/index.ts'
import type { KafkaConnectionOptions } from '../src/kafka/types.ts'

export const partitions = 12

/**
 * Fills `topic` with `records` values (`value(i)` for record i, round robin over the partitions) once: a
 * topic that already holds them is reused, one that holds another count is an error.
 */
export async function ensureTopicFilled(
  connection: KafkaConnectionOptions,
  topic: string,
  records: number,
  value: (index: number) => Buffer,
): Promise<string> {
  await createTopics(connection, [{ name: topic, partitions }])
  const client = createKafkaClient('platformatic', connection)
  try {
    const ends = await client.listOffsets(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
      'latest',
    )
    const present = ends.reduce((sum, end) => sum + Number(end.offset), 0)
    if (present === records) return topic
    if (present !== 0)
      throw new Error(`${topic} holds ${present} records, not ${records}: delete it and run again`)
    const chunk = 20_000
    for (let start = 0; start < records; start += chunk) {
      const count = Math.min(chunk, records - start)
      await client.produce(
        Array.from({ length: count }, (_, i) => ({
          topic,
          partition: (start + i) % partitions,
          value: value(start + i),
        })),
      )
    }
    return topic
  } finally {
    await client.close()
  }
}

/** The input topic of `records` values of `valueBytes`, produced once and reused by later runs. */
export async function ensureDataset(
  connection: KafkaConnectionOptions,
  records: number,
  valueBytes: number,
): Promise<string> {
  const value = Buffer.alloc(valueBytes, 'x')
  return ensureTopicFilled(connection, `bench-in-${valueBytes}b-${records}`, records, () => value)
}
