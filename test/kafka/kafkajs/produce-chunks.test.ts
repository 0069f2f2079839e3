import assert from 'node:assert/strict'
import { test } from 'node:test'
import { chunkForProduce } from '../../../src/kafka/kafkajs/produce-chunks.ts'
import type { OutgoingMessage } from '../../../src/kafka/messages.ts'

const message = (topic: string, partition: number | undefined, bytes: number): OutgoingMessage => ({
  topic,
  ...(partition === undefined ? {} : { partition }),
  value: Buffer.alloc(bytes),
})

test('chunks keep order and never give one partition more than the limit', () => {
  const limit = 1000
  const messages = [
    message('a', 0, 400),
    message('a', 1, 400),
    message('b', 0, 400),
    message('a', 0, 400),
    message('a', 0, 400),
    message('a', undefined, 900),
    message('a', undefined, 100),
  ]
  const chunks = chunkForProduce(messages, limit)
  assert.deepEqual(chunks.flat(), messages)
  // a/0 fills with its second message (2 × (64 + 400)); the third opens a new chunk; keyless records
  // are counted together.
  assert.deepEqual(
    chunks.map((chunk) => chunk.length),
    [4, 2, 1],
  )
})

test('a message above the limit still goes, alone, and a small batch is one chunk', () => {
  const big = message('a', 0, 5000)
  assert.deepEqual(chunkForProduce([big, message('a', 0, 10)], 1000), [[big], [message('a', 0, 10)]])
  const small = [message('a', 0, 10), message('a', 1, 10)]
  assert.deepEqual(chunkForProduce(small, 1000), [small])
  assert.deepEqual(chunkForProduce([], 1000), [])
})

test('header sizes count toward the limit', () => {
  const withHeaders: OutgoingMessage = {
    topic: 'a',
    partition: 0,
    value: 'x',
    headers: { trace: 'y'.repeat(600) },
  }
  assert.equal(chunkForProduce([withHeaders, withHeaders], 1000).length, 2)
})
