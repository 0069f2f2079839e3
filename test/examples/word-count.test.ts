import assert from 'node:assert/strict'
import { test } from 'node:test'
import createWordCount from '../../examples/word-count/processor.ts'
import type { IncomingMessage, OutgoingMessage } from '../../src/kafka/messages.ts'
import { NoopMetrics } from '../../src/metrics/noop.ts'
import { MapStore } from '../../src/stores/map.ts'
import type { ProcessorContext } from '../../src/worker/processor-module.ts'
import { captureLogger } from '../helpers/capture-logger.ts'

const message = (offset: bigint, value: string): IncomingMessage => ({
  topic: 'lines',
  partition: 0,
  offset,
  timestamp: 0,
  key: null,
  value: Buffer.from(value),
  headers: {},
})

test('word-count does not count a re-delivered batch twice', async () => {
  const counts = new MapStore()
  const context = {
    partition: 0,
    logger: captureLogger(),
    metrics: new NoopMetrics(),
    options: { outputTopic: 'out' },
    stores: new Map([['counts', counts]]),
  } as unknown as ProcessorContext
  const processor = createWordCount(context)
  const sent: OutgoingMessage[] = []
  const sender = { send: (m: OutgoingMessage) => void sent.push(m), flush: async () => {} }
  const batch = [message(0n, 'a b a'), message(1n, 'b c')]
  await processor.process(batch, sender)
  await processor.process(batch, sender)
  await processor.process([message(1n, 'b c'), message(2n, 'a')], sender)
  const value = (word: string) => JSON.parse(counts.getMap().get(`p0:${word}`)!.toString())
  assert.deepEqual([value('a'), value('b'), value('c')], [3, 2, 1])
  assert.equal(JSON.parse(counts.getMap().get('p0:next-offset')!.toString()), '3')
})
