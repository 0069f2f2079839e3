import { createKafkaClient, createTopics, topicPartitionKey } from '../../src/kafka/index.ts'
import type { IncomingMessage } from '../../src/kafka/messages.ts'
import type { KafkaClient, KafkaClientKind } from '../../src/kafka/types.ts'
import { kafkaBrokers, uniqueName } from './services.ts'

export const clientKinds: readonly KafkaClientKind[] = (process.env.KASPER_TEST_CLIENTS?.split(',') as
  | KafkaClientKind[]
  | undefined) ?? ['platformatic', 'kafkajs']

export function testClient(kind: KafkaClientKind): KafkaClient {
  return createKafkaClient(kind, { brokers: kafkaBrokers(), clientId: uniqueName('kasper-test') })
}

/** Creates topics with unique names and returns those names, in order. */
export async function freshTopics(prefix: string, partitions: number, count = 1): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => uniqueName(`${prefix}${count > 1 ? i : ''}`))
  await createTopics(
    { brokers: kafkaBrokers(), clientId: 'kasper-test-admin' },
    names.map((name) => ({ name, partitions })),
  )
  return names
}

/** Every message of `topic` up to its current log end, per partition in offset order. */
export async function readAll(
  client: KafkaClient,
  topic: string,
  partitions: number,
): Promise<IncomingMessage[]> {
  const assigned = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))
  const ends = await client.listOffsets(assigned, 'latest')
  const result: IncomingMessage[] = []
  for (const tp of assigned) {
    const end = ends.find((e) => e.partition === tp.partition)?.offset ?? 0n
    let next = 0n
    while (next < end) {
      const [fetched] = await client.fetch([{ ...tp, offset: next }], {
        maxWaitMs: 200,
        minBytes: 1,
        maxBytes: 10_000_000,
        maxBytesPerPartition: 10_000_000,
      })
      if (fetched?.kind !== 'records')
        throw new Error(`cannot read ${topicPartitionKey(topic, tp.partition)} at ${next}`)
      for (const message of fetched.messages) result.push(message)
      next = fetched.nextOffset
    }
  }
  return result
}

export { waitFor } from './wait.ts'
