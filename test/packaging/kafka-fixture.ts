// Kafka side of test/packaging/image.sh:
//   setup BROKERS INPUT OUTPUT...   creates the topics (2 partitions each) and produces four names on INPUT
//   check BROKERS INPUT OUTPUT      asserts OUTPUT holds exactly one greeting per name (hello-world)
//   enriched BROKERS INPUT OUTPUT   asserts OUTPUT holds exactly one enriched record per name (examples/docker)
import { createKafkaClient, createTopics } from '../../src/kafka/index.ts'

const [command, brokers, input, ...outputs] = process.argv.slice(2)
const output = outputs[0]
if (!command || !brokers || !input || !output)
  throw new Error('usage: setup|check|enriched BROKERS INPUT OUTPUT')
const connection = { brokers: brokers.split(','), clientId: 'image-test' }
const names = ['Ada', 'Grace', 'Linus', 'Barbara']

async function readAll(topic: string): Promise<string[]> {
  const client = createKafkaClient('platformatic', connection)
  const values: string[] = []
  for (const partition of [0, 1]) {
    const [fetched] = await client.fetch([{ topic, partition, offset: 0n }], {
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 1_000_000,
      maxBytesPerPartition: 1_000_000,
    })
    if (fetched?.kind === 'records') values.push(...fetched.messages.map((m) => m.value?.toString() ?? ''))
  }
  await client.close()
  return values.sort()
}

function expectValues(topic: string, got: string[], expected: string[]): void {
  if (JSON.stringify(got) !== JSON.stringify([...expected].sort())) {
    console.error(`${topic}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`)
    process.exit(1)
  }
  console.log(`${topic}: all ${got.length} expected records, no duplicates`)
}

if (command === 'setup') {
  await createTopics(
    connection,
    [input, ...outputs].map((name) => ({ name, partitions: 2 })),
  )
  const client = createKafkaClient('platformatic', connection)
  await client.produce(names.map((value, i) => ({ topic: input, partition: i % 2, value })))
  await client.close()
} else if (command === 'check') {
  expectValues(
    output,
    await readAll(output),
    names.map((name) => `Hello, ${name}!`),
  )
} else if (command === 'enriched') {
  expectValues(
    output,
    await readAll(output),
    names.map((name) => JSON.stringify({ value: name, user: null })),
  )
} else {
  throw new Error(`unknown command ${command}`)
}
