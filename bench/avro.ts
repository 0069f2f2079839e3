import type { KafkaConnectionOptions } from '../src/kafka/index.ts'
import { compileAvro } from '../src/serdes/avro.ts'
import { RegistryClient } from '../src/serdes/registry-client.ts'
import { writeHeader } from '../src/serdes/wire-format.ts'
import { ensureTopicFilled } from './dataset.ts'

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
  const codec = compileAvro(benchEventSchema)
  const schema = { schema: benchEventSchema, schemaType: 'AVRO' } as const
  const id = await new RegistryClient({ url: registryUrl }).schemaId(`${topic}-value`, schema, true)
  const event = (i: number, payload: string) => ({
    id: i,
    user: `user-${i % 1000}`,
    kind: 'purchase',
    amount: i / 100,
    tags: ['a', 'b', 'c'],
    payload,
  })
  // The payload string's length prefix takes two bytes at these sizes.
  const padding = 'x'.repeat(
    Math.max(0, valueBytes - writeHeader(id, codec.encode(event(0, '')).payload).length - 2),
  )
  return ensureTopicFilled(connection, topic, records, (i) =>
    writeHeader(id, codec.encode(event(i, padding)).payload),
  )
}
