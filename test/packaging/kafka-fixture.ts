// Kafka side of test/packaging/image.sh: `setup BROKERS INPUT OUTPUT` creates the topics and produces
// names; `check BROKERS INPUT OUTPUT` asserts every greeting reached the output topic.
import { createKafkaClient, createTopics } from '../../src/kafka/index.ts'

const [command, brokers, input, output] = process.argv.slice(2)
if (!command || !brokers || !input || !output) throw new Error('usage: setup|check BROKERS INPUT OUTPUT')
const connection = { brokers: brokers.split(','), clientId: 'image-test' }
const names = ['Ada', 'Grace', 'Linus', 'Barbara']

if (command === 'setup') {
  await createTopics(connection, [
    { name: input, partitions: 2 },
    { name: output, partitions: 2 },
  ])
  const client = createKafkaClient('platformatic', connection)
  await client.produce(names.map((value, i) => ({ topic: input, partition: i % 2, value })))
  await client.close()
} else {
  const client = createKafkaClient('platformatic', connection)
  const greetings: string[] = []
  for (const partition of [0, 1]) {
    const [fetched] = await client.fetch([{ topic: output, partition, offset: 0n }], {
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 1_000_000,
      maxBytesPerPartition: 1_000_000,
    })
    if (fetched?.kind === 'records') greetings.push(...fetched.messages.map((m) => m.value?.toString() ?? ''))
  }
  await client.close()
  const expected = names.map((name) => `Hello, ${name}!`).sort()
  if (JSON.stringify(greetings.sort()) !== JSON.stringify(expected)) {
    console.error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(greetings)}`)
    process.exit(1)
  }
  console.log(`all ${greetings.length} greetings produced by the image`)
}
