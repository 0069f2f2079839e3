// Kasper's TopicProcessor in this process: consume → identity → produce (acks = all) → commit.
// The window runs from runLoop() to the moment every partition is drained and committed.
import { createKafkaClient } from '../../src/kafka/index.ts'
import type { KafkaClientKind } from '../../src/kafka/types.ts'
import { basicLogger } from '../../src/logging/basic.ts'
import { TopicProcessor } from '../../src/processor/topic-processor.ts'
import { arg, report } from './report.ts'

const partitions = Number(arg('BENCH_PARTITIONS'))
const output = arg('BENCH_OUTPUT')
const client = createKafkaClient(arg('BENCH_CLIENT') as KafkaClientKind, {
  brokers: arg('BENCH_BROKERS').split(','),
  clientId: 'kasper-bench',
})
let messages = 0
const processor = new TopicProcessor(
  {
    name: arg('BENCH_GROUP'),
    client,
    inputTopics: [arg('BENCH_INPUT')],
    inputPartitions: Array.from({ length: partitions }, (_, p) => p),
    batchSize: Number(arg('BENCH_BATCH_SIZE')),
    batchWaitMs: 1000,
    logger: basicLogger({ level: 'warn' }),
  },
  () => ({
    process(batch, sender) {
      messages += batch.length
      for (const m of batch)
        sender.send({ topic: output, partition: m.partition, key: m.key, value: m.value })
    },
  }),
)
const started = performance.now()
const loop = processor.runLoop()
while (!(await processor.hasConsumedAllMessages())) await new Promise((resolve) => setTimeout(resolve, 50))
const seconds = (performance.now() - started) / 1000
await processor.close()
await loop
await client.close()
report(messages, seconds)
