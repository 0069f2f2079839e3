// A static instance count change: instances of the old and the new count must not process the same
// partitions side by side. Commits carry `kasper instance <index>/<count>` as their metadata (read back
// here through both clients), and a new instance waits while one of another count still commits.
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import type { KafkaClient } from '../../src/kafka/types.ts'
import { consumerGroupId, type TopicProcessorConfig } from '../../src/processor/options.ts'
import { TopicProcessor } from '../../src/processor/topic-processor.ts'
import { captureLogger } from '../helpers/capture-logger.ts'
import { clientKinds, freshTopics, testClient, waitFor } from '../helpers/kafka.ts'
import { uniqueName } from '../helpers/services.ts'

for (const kind of clientKinds) {
  describe(`instance count change (${kind})`, () => {
    const client: KafkaClient = testClient(kind)
    after(() => client.close())

    test('a new count waits until the old one stops committing, then takes over in its own name', async () => {
      const [input] = await freshTopics('count-change', 6)
      assert.ok(input)
      const name = uniqueName('count')
      const group = consumerGroupId(name)
      const processed: string[] = []
      const instance = (index: number, count: number, logger = captureLogger()) => {
        const config: TopicProcessorConfig = {
          name,
          client,
          inputTopics: [input],
          inputPartitions: [0, 1, 2, 3, 4, 5].filter((p) => p % count === index),
          batchWaitMs: 50,
          overlapCheckIntervalMs: 1500,
          instance: { index, count },
          logger,
        }
        const tp = new TopicProcessor(config, (partition) => ({
          process(messages) {
            for (const m of messages) processed.push(`${index}/${count}:${partition}:${m.value}`)
          },
        }))
        return { tp, loop: tp.runLoop(), logger }
      }
      let sent = 0
      const producing = setInterval(() => {
        sent++
        void client.produce([{ topic: input, partition: 0, value: String(sent) }])
      }, 50)
      try {
        const old = instance(0, 2)
        await waitFor(async () => processed.length > 5, 20_000, 'the count-2 instance to process')
        const metadata = async () =>
          (await client.committedOffsets(group, [{ topic: input, partition: 0 }]))[0]?.metadata
        assert.equal(await metadata(), 'kasper instance 0/2', 'commits carry the instance')

        const successor = instance(0, 3)
        await waitFor(
          async () => successor.logger.lines.some((l) => l.message.startsWith('waiting for instances')),
          10_000,
          'the count-3 instance to wait',
        )
        await new Promise((resolve) => setTimeout(resolve, 3000))
        assert.deepEqual(successor.tp.progress(), [], 'not started while the count-2 instance commits')
        assert.ok(
          !processed.some((p) => p.startsWith('0/3')),
          'nothing processed by the count-3 instance yet',
        )

        await old.tp.close()
        await old.loop
        const stoppedAt = processed.length
        await waitFor(
          async () => successor.tp.progress().length === 2,
          15_000,
          'the count-3 instance to start',
        )
        assert.equal(await metadata(), 'kasper instance 0/3', 'taken over in its own name')
        await waitFor(
          async () => processed.slice(stoppedAt).some((p) => p.startsWith('0/3:0:')),
          15_000,
          'the count-3 instance to process partition 0',
        )

        // The old count, started again beside the new one, now waits in turn.
        const returning = instance(0, 2)
        await waitFor(
          async () => returning.logger.lines.some((l) => l.message.startsWith('waiting for instances')),
          10_000,
          'the count-2 instance to wait',
        )
        assert.deepEqual(returning.tp.progress(), [])
        await returning.tp.close()
        await returning.loop
        await successor.tp.close()
        await successor.loop
      } finally {
        clearInterval(producing)
      }
      const values = processed.map((p) => p.split(':')[2])
      const expected = new Set(values)
      assert.equal(values.length, expected.size, 'no record processed twice across the handover')
    })
  })
}
