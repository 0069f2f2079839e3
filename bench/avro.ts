import { createKafkaClient, createTopics, type KafkaConnectionOptions } from '../src/kafka/index.ts'
import { compileAvro } from '../src/serdes/avro.ts'
import { RegistryClient } from '../src/serdes/registry-client.ts'
import { writeHeader } from '../src/serdes/wire-format.ts'
import { partitions } from './dataset.ts'

/** The Avro contender's record: a few typed fields and a string that brings it to the value size. */
export const benchEventSchema = JSON.stringify({
  type: 'record',
  name: 'BenchEvent',
  namespace: 'kasper.bench',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'user', type: 'string' },
    { name: 'kind', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'payload', type: 'string' },
  ],
})

/**
 * `records` Avro values of about `valueBytes` in the Confluent wire format (the schema registered under
 * `<topic>-value`), made once per size and count like the bytes data set.
 */
export async function ensureAvroDataset(
  connection: KafkaConnectionOptions,
  registryUrl: string,
  records: number,
  valueBytes: number,
): Promise<string> {
  const topic = `bench-in-avro-${valueBytes}b-${records}`
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
    const codec = compileAvro(benchEventSchema)
    const id = await new RegistryClient({ url: registryUrl }).schemaId(
      `${topic}-value`,
      { schema: benchEventSchema, schemaType: 'AVRO' },
      true,
    )
    const event = (i: number) => ({
      id: i,
      user: `user-${i % 1000}`,
      kind: 'purchase',
      amount: i / 100,
      tags: ['a', 'b', 'c'],
      payload: '',
    })
    const padding = Math.max(0, valueBytes - writeHeader(id, codec.encode(event(0)).payload).length - 2)
    const chunk = 20_000
    for (let start = 0; start < records; start += chunk) {
      const count = Math.min(chunk, records - start)
      await client.produce(
        Array.from({ length: count }, (_, i) => ({
          topic,
          partition: (start + i) % partitions,
          value: writeHeader(id, codec.encode({ ...event(start + i), payload: 'x'.repeat(padding) }).payload),
        })),
      )
    }
    return topic
  } finally {
    await client.close()
  }
}
