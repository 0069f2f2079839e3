import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isTransient } from '../../src/kafka/errors.ts'
import type { IncomingMessage } from '../../src/kafka/messages.ts'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'
import { deadLetterHeaders, deadLetterRecord, describeFailure } from '../../src/processor/dead-letter.ts'
import {
  type Attempt,
  type ErrorPolicyOptions,
  ErrorPolicyRunner,
  OutputFailure,
  RetryInterrupted,
  resolveErrorPolicy,
} from '../../src/processor/error-policy.ts'
import { ConfigurationError } from '../../src/processor/errors.ts'
import { ReplayError, replayDeadLetters, replayGroupId } from '../../src/processor/replay-dead-letters.ts'
import { TopicProcessor } from '../../src/processor/topic-processor.ts'
import { RegistryError } from '../../src/serdes/registry-client.ts'
import { StoreError } from '../../src/stores/errors.ts'
import { captureLogger } from '../helpers/capture-logger.ts'
import { FakeKafka, runUntilCommitted } from './fake-kafka.ts'

const records = (values: string[]): IncomingMessage[] =>
  values.map((value, i) => ({
    topic: 'in',
    partition: 0,
    offset: BigInt(i),
    timestamp: 1_700_000_000_000 + i,
    key: Buffer.from(`k${i}`),
    value: Buffer.from(value),
    headers: { trace: Buffer.from(`t${i}`) },
  }))

const text = (messages: IncomingMessage[]) => messages.map((m) => m.value!.toString())

function runner(options: ErrorPolicyOptions, signal = new AbortController().signal) {
  const retries: number[] = []
  const policy = resolveErrorPolicy('p', { retryInitialBackoffMs: 1, ...options })
  return { retries, runner: new ErrorPolicyRunner(policy, (_e, retry) => retries.push(retry), signal) }
}

/** Fails every call that holds a value in `poison`; echoes the values it was given otherwise. */
function poisoned(poison: string[], calls: string[][] = []): Attempt {
  return async (messages) => {
    calls.push(text(messages))
    const bad = text(messages).find((v) => poison.includes(v))
    if (bad) throw new TypeError(`cannot parse ${bad}`)
    return text(messages).map((value) => ({ topic: 'out', value }))
  }
}

describe('error policy', () => {
  test('stop (the default) throws the first error and retries nothing', async () => {
    const { runner: r, retries } = runner({})
    await assert.rejects(r.run(records(['a', 'x']), poisoned(['x'])), /cannot parse x/)
    assert.deepEqual(retries, [])
  })

  test('retries in place with exponential backoff, capped, then succeeds', async () => {
    let failures = 3
    const delays: number[] = []
    const policy = resolveErrorPolicy('p', { retries: 5, retryInitialBackoffMs: 1, retryMaxBackoffMs: 3 })
    const r = new ErrorPolicyRunner(
      policy,
      (_e, _r, delayMs) => delays.push(delayMs),
      new AbortController().signal,
    )
    const outcome = await r.run(records(['a']), async (messages) => {
      if (failures-- > 0) throw new Error('flaky')
      return text(messages).map((value) => ({ topic: 'out', value }))
    })
    assert.deepEqual(delays, [1, 2, 3])
    assert.deepEqual(
      outcome.outgoing.map((m) => m.value),
      ['a'],
    )
    assert.deepEqual(outcome.failed, [])
  })

  test('bisecting isolates the bad records; the output of every good record is kept once, in offset order', async () => {
    const values = Array.from({ length: 100 }, (_, i) => `v${i}`)
    const calls: string[][] = []
    const { runner: r } = runner({ onFailure: 'dead-letter', retries: 1 })
    const outcome = await r.run(records(values), poisoned(['v37', 'v38', 'v90'], calls))
    assert.deepEqual(
      outcome.failed.map((f) => text([f.message])[0]),
      ['v37', 'v38', 'v90'],
    )
    assert.deepEqual(
      outcome.outgoing.map((m) => m.value),
      values.filter((v) => !['v37', 'v38', 'v90'].includes(v)),
    )
    // Each bad record: 2 whole-batch calls, one per bisection level holding it, then 2 calls alone.
    const v37 = outcome.failed[0]!
    assert.equal(v37.attempts, calls.filter((c) => c.includes('v37')).length)
    assert.ok(calls.length < 60, `${calls.length} process() calls`)
    assert.match(String(v37.error), /cannot parse v37/)
  })

  test('a failed flush is never isolated: it stops with the produce error after the retries', async () => {
    const { runner: r, retries } = runner({ onFailure: 'skip', retries: 2 })
    const produceError = new Error('broker down')
    await assert.rejects(
      r.run(records(['a', 'b']), async () => {
        throw new OutputFailure('flush failed', { cause: produceError })
      }),
      (error) => error === produceError,
    )
    assert.deepEqual(retries, [1, 2])
  })

  for (const onFailure of ['dead-letter', 'skip'] as const) {
    test(`the schema registry refusing Kasper (a RegistryError, even wrapped) is never isolated nor given up with ${onFailure}`, async () => {
      const { runner: r } = runner({ onFailure, retries: 1 })
      const refused = new RegistryError('POST https://registry/subjects/out-value/versions: TLS refused: …')
      const calls: string[][] = []
      await assert.rejects(
        r.run(records(['a', 'b', 'c', 'd']), async (messages) => {
          calls.push(text(messages))
          throw new Error('send failed', { cause: refused })
        }),
        (error: Error) => error.cause === refused,
      )
      assert.deepEqual(
        calls,
        [
          ['a', 'b', 'c', 'd'],
          ['a', 'b', 'c', 'd'],
        ],
        'no bisection',
      )
    })

    test(`an outage (a transient error, even wrapped) is never isolated nor given up with ${onFailure}: it stops after the retries`, async () => {
      const { runner: r, retries } = runner({ onFailure, retries: 2 })
      const outage = new StoreError('redis store "ids"', 'get', 'connect ECONNREFUSED', { transient: true })
      const calls: string[][] = []
      await assert.rejects(
        r.run(records(['a', 'b', 'c', 'd']), async (messages) => {
          calls.push(text(messages))
          throw new Error('lookup failed', { cause: outage })
        }),
        (error: Error) => error.cause === outage,
      )
      assert.deepEqual(retries, [1, 2])
      assert.deepEqual(
        calls,
        [
          ['a', 'b', 'c', 'd'],
          ['a', 'b', 'c', 'd'],
          ['a', 'b', 'c', 'd'],
        ],
        'no bisection',
      )
    })
  }

  test('a store outage in the middle of a bisection stops it; nothing is given up', async () => {
    const { runner: r } = runner({ onFailure: 'dead-letter' })
    let storeDown = false
    await assert.rejects(
      r.run(records(['a', 'x', 'c', 'd']), async () => {
        if (storeDown) throw new StoreError('redis store "ids"', 'get', 'no answer', { transient: true })
        storeDown = true
        throw new TypeError('cannot parse x')
      }),
      (error) => isTransient(error),
    )
  })

  test('close() during a retry wait interrupts it', async () => {
    const controller = new AbortController()
    const { runner: r } = runner(
      { retries: 3, retryInitialBackoffMs: 60_000, retryMaxBackoffMs: 60_000 },
      controller.signal,
    )
    const run = r.run(records(['x']), poisoned(['x']))
    setTimeout(() => controller.abort(), 20)
    await assert.rejects(run, RetryInterrupted)
  })

  test('options are checked, naming the field', () => {
    assert.throws(() => resolveErrorPolicy('p', { retries: -1 }), ConfigurationError)
    assert.throws(
      () => resolveErrorPolicy('p', { onFailure: 'ignore' as never }),
      /errorPolicy.onFailure: must be "stop", "dead-letter", "skip"/,
    )
    assert.throws(() => resolveErrorPolicy('p', { deadLetterTopic: 'a b' }), /deadLetterTopic/)
    assert.equal(resolveErrorPolicy('orders').deadLetterTopic, 'orders.dlq')
  })

  test('a dead-letter record keeps key, value and headers and names its origin and error', () => {
    const [message] = records(['x'])
    const error = new TypeError(`connect to redis://user:s3cret@host failed ${'!'.repeat(1000)}`)
    const record = deadLetterRecord({ message: message!, error, attempts: 4 }, 'orders', 'orders.dlq')
    assert.equal(record.topic, 'orders.dlq')
    assert.equal(record.key?.toString(), 'k0')
    assert.equal(record.value?.toString(), 'x')
    assert.equal(record.partition, undefined)
    const headers = record.headers!
    assert.equal(headers.trace?.toString(), 't0')
    assert.equal(headers[deadLetterHeaders.topic], 'in')
    assert.equal(headers[deadLetterHeaders.partition], '0')
    assert.equal(headers[deadLetterHeaders.offset], '0')
    assert.equal(headers[deadLetterHeaders.timestamp], '1700000000000')
    assert.equal(headers[deadLetterHeaders.processor], 'orders')
    assert.equal(headers[deadLetterHeaders.errorClass], 'TypeError')
    assert.equal(headers[deadLetterHeaders.attempts], '4')
    const errorMessage = String(headers[deadLetterHeaders.errorMessage])
    assert.equal(errorMessage.length, 500)
    assert.ok(!errorMessage.includes('s3cret'))
    assert.deepEqual(describeFailure('just a string'), {
      errorClass: 'string',
      errorMessage: 'just a string',
    })
  })
})

describe('TopicProcessor with an error policy (in-memory Kafka)', () => {
  const group = 'kasper-topic-processor-test'

  test('skip: the bad record is logged and counted, the rest is produced, offsets pass it', async () => {
    const kafka = new FakeKafka({ in: 1, out: 1 })
    kafka.append('in', 0, ['a', 'b', 'x', 'c'])
    const logger = captureLogger()
    const metrics = new PrometheusMetrics()
    const tp = new TopicProcessor(
      {
        name: 'test',
        client: kafka,
        inputTopics: ['in'],
        inputPartitions: [0],
        batchSize: 4,
        batchWaitMs: 10,
        logger,
        metrics,
        errorPolicy: { onFailure: 'skip', retries: 1, retryInitialBackoffMs: 1 },
      },
      () => ({
        process(messages, sender) {
          if (text(messages).includes('x')) throw new Error('bad x')
          for (const value of text(messages)) sender.send({ topic: 'out', value })
        },
      }),
    )
    await runUntilCommitted(tp, kafka, group, 4n)
    assert.equal(kafka.committed(group, 'in', 0), 4n, 'the committed offset is past the skipped record')
    assert.deepEqual(text(kafka.messages('out', 0)), ['a', 'b', 'c'])
    const skipped = logger.lines.filter((l) => l.message === 'record skipped')
    assert.deepEqual(
      skipped.map((l) => [l.level, l.fields.topic, l.fields.partition, l.fields.offset]),
      [['warn', 'in', 0, '2']],
    )
    const exposed = await metrics.registry.metrics()
    assert.match(exposed, /kasper_skipped_messages_total\{processor="test",topic="in",partition="0"\} 1/)
    // The whole batch once, then the record alone once (retries: 1 each time).
    assert.match(exposed, /kasper_batch_retries_total\{processor="test"\} 2/)
  })

  test('a stalled process() goes through the policy: the record that never settles is skipped', async () => {
    const kafka = new FakeKafka({ in: 1, out: 1 })
    kafka.append('in', 0, ['a', 'stall', 'b'])
    const logger = captureLogger()
    const tp = new TopicProcessor(
      {
        name: 'test',
        client: kafka,
        inputTopics: ['in'],
        inputPartitions: [0],
        batchSize: 3,
        batchWaitMs: 10,
        processTimeoutMs: 50,
        logger,
        errorPolicy: { onFailure: 'skip' },
      },
      () => ({
        async process(messages, sender) {
          if (text(messages).includes('stall')) await new Promise(() => {})
          for (const value of text(messages)) sender.send({ topic: 'out', value })
        },
      }),
    )
    await runUntilCommitted(tp, kafka, group, 3n)
    assert.equal(kafka.committed(group, 'in', 0), 3n)
    assert.deepEqual(text(kafka.messages('out', 0)), ['a', 'b'])
    const skipped = logger.lines.find((l) => l.message === 'record skipped')
    assert.equal(skipped?.fields.offset, '1')
    assert.match(String(skipped?.fields.err), /ProcessTimeoutError|did not settle within processTimeoutMs/)
  })

  test('close() while a failed batch waits for its retry stops cleanly without committing', async () => {
    const kafka = new FakeKafka({ in: 1 })
    kafka.append('in', 0, ['x'])
    let calls = 0
    const tp = new TopicProcessor(
      {
        name: 'test',
        client: kafka,
        inputTopics: ['in'],
        inputPartitions: [0],
        batchWaitMs: 10,
        logger: captureLogger(),
        errorPolicy: { retries: 5, retryInitialBackoffMs: 60_000, retryMaxBackoffMs: 60_000 },
      },
      () => ({
        process() {
          calls++
          throw new Error('bad')
        },
      }),
    )
    const loop = tp.runLoop()
    while (calls === 0) await new Promise((r) => setTimeout(r, 5))
    await tp.close()
    await loop
    assert.equal(calls, 1)
    assert.equal(kafka.committed(group, 'in', 0), undefined)
  })
})

describe('replayDeadLetters (in-memory Kafka)', () => {
  test('a missing dead-letter topic, or a record without origin headers, is a ReplayError', async () => {
    const kafka = new FakeKafka({ 'p.dlq': 1, other: 1 })
    await assert.rejects(
      replayDeadLetters({ client: kafka, deadLetterTopic: 'missing.dlq' }),
      new ReplayError('dead-letter topic missing.dlq does not exist'),
    )
    kafka.append('p.dlq', 0, ['not from kasper'])
    await assert.rejects(
      replayDeadLetters({ client: kafka, deadLetterTopic: 'p.dlq' }),
      new ReplayError('p.dlq/0@0 has no origin headers; copy it with --to <topic>'),
    )
    assert.equal(await replayDeadLetters({ client: kafka, deadLetterTopic: 'p.dlq', to: 'other' }), 1)
    assert.deepEqual(text(kafka.messages('other', 0)), ['not from kasper'])
    assert.equal(kafka.committed(replayGroupId('p.dlq'), 'p.dlq', 0), 1n)
    assert.equal(await replayDeadLetters({ client: kafka, deadLetterTopic: 'p.dlq', to: 'other' }), 0)
  })

  test('copies are compressed with the given compression', async () => {
    const kafka = new FakeKafka({ 'p.dlq': 1, other: 1 })
    kafka.append('p.dlq', 0, ['a', 'b'])
    const replay = { client: kafka, deadLetterTopic: 'p.dlq', to: 'other', compression: 'gzip' } as const
    assert.equal(await replayDeadLetters(replay), 2)
    assert.deepEqual(kafka.compressions, ['gzip'])
  })
})
