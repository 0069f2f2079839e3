// The library API without the runtime: one TopicProcessor in this process.
//   KAFKA_BROKERS=host:9092,host2:9092 ./kasperw node examples/hello-world/main.ts
// Greets every name on hello-input onto hello-output, stops once drained. Without KAFKA_BROKERS it uses
// the project's test Kafka (`npm run services -- up kafka`): 127.0.0.1:19092 + KASPER_SERVICES_PORT_OFFSET.
import { createKafkaClient, createTopics, jsonLogger, TopicProcessor } from 'kasper-node'

const testKafka = `127.0.0.1:${19092 + Number(process.env.KASPER_SERVICES_PORT_OFFSET ?? 0)}`
const brokers = (process.env.KAFKA_BROKERS ?? testKafka).split(',')
const connection = { brokers, clientId: 'hello-world' }
await createTopics(connection, [
  { name: 'hello-input', partitions: 2 },
  { name: 'hello-output', partitions: 2 },
])

const client = createKafkaClient('platformatic', connection)
await client.produce(
  ['Ada', 'Grace', 'Linus'].map((name, i) => ({ topic: 'hello-input', partition: i % 2, value: name })),
)

const processor = new TopicProcessor(
  {
    name: 'hello-world',
    client,
    inputTopics: ['hello-input'],
    inputPartitions: [0, 1],
    batchSize: 100,
    batchWaitMs: 500,
    logger: jsonLogger({ level: 'warn' }),
  },
  () => ({
    process(messages, sender) {
      for (const message of messages) {
        console.log(`partition ${message.partition} offset ${message.offset}: ${message.value}`)
        sender.send({
          topic: 'hello-output',
          partition: message.partition,
          value: `Hello, ${message.value}!`,
        })
      }
    },
  }),
)

const loop = processor.runLoop()
while (!(await processor.hasConsumedAllMessages())) await new Promise((resolve) => setTimeout(resolve, 200))
await processor.close()
await loop
await client.close()
console.log('drained: every greeting is on hello-output and the offsets are committed')
