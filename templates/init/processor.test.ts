import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IncomingMessage, OutgoingMessage, Sender } from 'kasper-node'
import { shouter } from './processor.ts'

/** A sender that keeps what is sent, in place of Kafka. */
function fakeSender(): Sender & { sent: OutgoingMessage[] } {
  const sent: OutgoingMessage[] = []
  return { sent, send: (message) => void sent.push(message), flush: async () => {} }
}

const record = (partition: number, offset: number, value: string): IncomingMessage => ({
  topic: 'words',
  partition,
  offset: BigInt(offset),
  timestamp: Date.now(),
  key: Buffer.from(value),
  value: Buffer.from(value),
  headers: {},
})

test('writes every value upper-cased to the output topic, in the same partition', async () => {
  const sender = fakeSender()
  await shouter('shouts').process([record(1, 0, 'ada'), record(1, 1, 'alan')], sender)
  assert.deepEqual(
    sender.sent.map((m) => [m.topic, m.partition, m.value]),
    [
      ['shouts', 1, 'ADA'],
      ['shouts', 1, 'ALAN'],
    ],
  )
})
