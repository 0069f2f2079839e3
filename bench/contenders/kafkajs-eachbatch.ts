// The common Node.js pipeline: a KafkaJS consumer group with eachBatch, producing each batch (acks = all,
// idempotent) before resolving and committing its offsets. The window runs from the first batch to the
// commit of the last message.
import { Kafka, logLevel } from 'kafkajs'
import { arg, report } from './report.ts'

const total = Number(arg('BENCH_MESSAGES'))
const output = arg('BENCH_OUTPUT')
const kafka = new Kafka({
  clientId: 'kafkajs-bench',
  brokers: arg('BENCH_BROKERS').split(','),
  logLevel: logLevel.NOTHING,
})
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
const consumer = kafka.consumer({ groupId: arg('BENCH_GROUP'), maxBytesPerPartition: 1024 * 1024 })
await Promise.all([producer.connect(), consumer.connect()])
await consumer.subscribe({ topic: arg('BENCH_INPUT'), fromBeginning: true })

let messages = 0
let started = 0
const done = new Promise<number>((resolve) => {
  void consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      if (batch.messages.length === 0) return
      started ||= performance.now()
      await producer.send({
        topic: output,
        acks: -1,
        messages: batch.messages.map((m) => ({ partition: batch.partition, key: m.key, value: m.value })),
      })
      resolveOffset(batch.lastOffset())
      await consumer.commitOffsets([
        {
          topic: batch.topic,
          partition: batch.partition,
          offset: (BigInt(batch.lastOffset()) + 1n).toString(),
        },
      ])
      await commitOffsetsIfNecessary()
      messages += batch.messages.length
      if (messages >= total) resolve(performance.now())
    },
  })
})
const finished = await done
await Promise.all([consumer.disconnect(), producer.disconnect()])
report(messages, (finished - started) / 1000)
