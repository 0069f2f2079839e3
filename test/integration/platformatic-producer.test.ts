import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { Base } from '#platformatic-kafka'
import type { OutgoingMessage } from '../../src/kafka/messages.ts'
import { BatchBuffers } from '../../src/kafka/platformatic/batch-buffers.ts'
import { IdempotentProducer } from '../../src/kafka/platformatic/producer.ts'
import { freshTopics, readAll, testClient } from '../helpers/kafka.ts'
import { jvmRead, transactionsFixture } from '../helpers/kafka-tools.ts'
import { filterAnswers } from '../helpers/platformatic-answers.ts'
import { kafkaBrokers } from '../helpers/services.ts'

const produceApiKey = 0

/**
 * Connections on which the broker's answers to the next `count` Produce requests are lost: the broker
 * appends the records, the producer sees a network error.
 */
function losingAnswers(base: Base, state: { count: number }): Base {
  return filterAnswers(base, (apiKey, error, value, answer) => {
    if (apiKey === produceApiKey && state.count > 0) {
      state.count--
      answer(new Error('the answer was lost'))
    } else answer(error, value)
  })
}

const values = (messages: Array<{ value: Buffer | null }>) => messages.map((m) => m.value?.toString())

describe('IdempotentProducer against a real broker', () => {
  const reader = testClient('platformatic')
  const producers: IdempotentProducer[] = []
  const producerWith = (state: { count: number }, buffers?: BatchBuffers) => {
    const base = new Base({ clientId: 'kasper-test-producer', bootstrapBrokers: kafkaBrokers() })
    const producer = new IdempotentProducer(losingAnswers(base, state), 10_000, undefined, buffers)
    producers.push(producer)
    return producer
  }
  after(async () => {
    await reader.close()
    await Promise.all(producers.map((producer) => producer.close()))
  })

  test('a produce whose answer was lost is sent again and written once', async () => {
    const [topic] = (await freshTopics('lost-answer', 2)) as [string]
    const state = { count: 1 }
    const producer = producerWith(state)
    const batch = (from: number): OutgoingMessage[] =>
      Array.from({ length: 10 }, (_, i) => ({ topic, partition: i % 2, value: `v${from + i}` }))
    await producer.produce(batch(0))
    assert.equal(state.count, 0, 'an answer was lost')
    await producer.produce(batch(10))
    const written = await readAll(reader, topic, 2)
    assert.deepEqual(values(written.filter((m) => m.partition === 0)), [
      'v0',
      'v2',
      'v4',
      'v6',
      'v8',
      'v10',
      'v12',
      'v14',
      'v16',
      'v18',
    ])
    assert.equal(written.length, 20)
  })

  test('record batch buffers serve later batches: every produce writes its own records, byte for byte', async () => {
    const [topic] = (await freshTopics('reused-buffers', 2)) as [string]
    const state = { count: 0 }
    const producer = producerWith(state)
    // 100 records of 1 KiB per partition: batches large enough for the pool.
    const batch = (round: number): OutgoingMessage[] =>
      Array.from({ length: 200 }, (_, i) => ({
        topic,
        partition: i % 2,
        value: Buffer.alloc(1024, `${round}:${i};`),
      }))
    for (let round = 0; round < 6; round++) {
      state.count = round === 2 ? 1 : 0 // one produce whose answer is lost: its batches are sent again
      await producer.produce(batch(round))
    }
    const written = await readAll(reader, topic, 2)
    for (const partition of [0, 1]) {
      const expected = [0, 1, 2, 3, 4, 5].flatMap((round) =>
        batch(round).filter((m) => m.partition === partition),
      )
      const got = written.filter((m) => m.partition === partition)
      assert.equal(got.length, expected.length)
      assert.deepEqual(
        got.map((m) => m.value),
        expected.map((m) => m.value),
      )
    }
    // The same as an independent client reads it: the JVM consumer.
    const produced = [0, 1, 2, 3, 4, 5].flatMap((round) => batch(round).map((m) => m.value!.toString()))
    const read = jvmRead(transactionsFixture(), topic, 2, 'read_uncommitted')
    // Compared as one string: a diff of 1,200 values of 1 KiB would take the runner minutes to print.
    assert.ok(
      read.join('\n') === produced.sort().join('\n'),
      `the JVM consumer read ${read.length} values, other than the ${produced.length} produced`,
    )
  })

  test('a batch sent in a request that got no answer never gives its buffer back; an answered one does', async () => {
    const [topic] = (await freshTopics('unanswered-buffers', 1)) as [string]
    const released: Buffer[] = []
    const buffers = new (class extends BatchBuffers {
      override release(buffer: Buffer): void {
        released.push(buffer)
        super.release(buffer)
      }
    })(32 * 1024 * 1024)
    const state = { count: 1 }
    const producer = producerWith(state, buffers)
    const batch = (fill: string): OutgoingMessage[] =>
      Array.from({ length: 100 }, () => ({ topic, partition: 0, value: Buffer.alloc(1024, fill) }))
    await producer.produce(batch('a'))
    assert.equal(state.count, 0, 'an answer was lost: the batch went out again, as it was')
    assert.equal(released.length, 0, 'a socket may still hold the unanswered request')
    await producer.produce(batch('b'))
    assert.equal(released.length, 1, 'an answered batch gives its buffer back')
    assert.deepEqual(values(await readAll(reader, topic, 1)), [
      ...batch('a').map((m) => m.value?.toString()),
      ...batch('b').map((m) => m.value?.toString()),
    ])
  })

  test('after a produce failed for good, later records are not mistaken for duplicates', async () => {
    const [topic] = (await freshTopics('failed-produce', 1)) as [string]
    const state = { count: 100 }
    const producer = producerWith(state)
    await assert.rejects(producer.produce([{ topic, partition: 0, value: 'written, unanswered' }]))
    state.count = 0
    await producer.produce([{ topic, partition: 0, value: 'next' }])
    assert.deepEqual(values(await readAll(reader, topic, 1)), ['written, unanswered', 'next'])
  })
})
