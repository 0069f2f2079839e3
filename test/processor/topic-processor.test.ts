import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ProducerFencedError } from '../../src/kafka/errors.ts'
import type { IncomingMessage } from '../../src/kafka/messages.ts'
import { ConfigurationError } from '../../src/processor/errors.ts'
import { failedBatchOf } from '../../src/processor/failed-batch.ts'
import { FencedError } from '../../src/processor/fenced.ts'
import { type TopicProcessorConfig, transactionalId } from '../../src/processor/options.ts'
import { TopicProcessor } from '../../src/processor/topic-processor.ts'
import type { MessageProcessor, Sender } from '../../src/processor/types.ts'
import { captureLogger } from '../helpers/capture-logger.ts'
import { FakeKafka } from './fake-kafka.ts'

const group = 'kasper-topic-processor-test'

function recorder() {
  const batches: Array<{ partition: number; values: string[] }> = []
  const processor = (partition: number): MessageProcessor => ({
    process(messages: IncomingMessage[]) {
      batches.push({ partition, values: messages.map((m) => `${m.topic}:${m.value?.toString()}`) })
    },
  })
  return { batches, processor }
}

function config(kafka: FakeKafka, overrides: Partial<TopicProcessorConfig> = {}): TopicProcessorConfig {
  return {
    name: 'test',
    client: kafka,
    inputTopics: ['in'],
    inputPartitions: [0],
    batchSize: 3,
    batchWaitMs: 30,
    logger: captureLogger(),
    ...overrides,
  }
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(5)
  }
}

/** Runs `tp` until partition 0 of 'in' is committed up to `offset`, then closes it. */
async function runUntilCommitted(tp: TopicProcessor, kafka: FakeKafka, offset: bigint): Promise<void> {
  const loop = tp.runLoop()
  await until(() => kafka.committed(group, 'in', 0) === offset)
  await tp.close()
  await loop
}

const valuesOf = (kafka: FakeKafka, topic: string) => kafka.messages(topic, 0).map((m) => m.value?.toString())

describe('TopicProcessor (in-memory Kafka)', () => {
  test('batches by size, then by wait time, and commits last offset + 1', async () => {
    const kafka = new FakeKafka({ in: 1 })
    kafka.append('in', 0, ['a', 'b', 'c', 'd', 'e', 'f', 'g'])
    const { batches, processor } = recorder()
    const tp = new TopicProcessor(config(kafka), processor)
    const loop = tp.runLoop()
    await until(() => kafka.committed(group, 'in', 0) === 7n)
    assert.deepEqual(
      batches.map((b) => b.values.length),
      [3, 3, 1],
    )
    assert.deepEqual(batches.flatMap((b) => b.values).join(','), 'in:a,in:b,in:c,in:d,in:e,in:f,in:g')
    await tp.close()
    await loop
  })

  test('batchWaitMs runs from when records arrive, even while the previous batch is processed', async () => {
    const kafka = new FakeKafka({ in: 1 })
    kafka.append('in', 0, ['first'])
    const batches: string[][] = []
    const processor: MessageProcessor = {
      async process(messages) {
        batches.push(messages.map((m) => m.value!.toString()))
        if (batches.length === 1) {
          // Fetched while this batch is processed; its 500 ms are over when this batch is done.
          kafka.append('in', 0, ['second'])
          await sleep(600)
          // Arrives after that: counting 'second' from the end of this batch would put both in one batch.
          setTimeout(() => kafka.append('in', 0, ['third']), 150)
        }
      },
    }
    const tp = new TopicProcessor(config(kafka, { batchSize: 100, batchWaitMs: 500 }), () => processor)
    const loop = tp.runLoop()
    await until(() => batches.flat().length === 3, 5000)
    await tp.close()
    await loop
    assert.deepEqual(batches, [['first'], ['second'], ['third']])
  })

  test('progress carries the timestamp of the next record to process until it is committed', async () => {
    const kafka = new FakeKafka({ in: 1 })
    kafka.append('in', 0, ['a', 'b'])
    const seen: Array<{ value: string; timestamp: number }> = []
    let release: () => void = () => {}
    const processor: MessageProcessor = {
      async process(messages) {
        seen.push(...messages.map((m) => ({ value: m.value!.toString(), timestamp: m.timestamp })))
        await new Promise<void>((resolve) => {
          release = resolve
        })
      },
    }
    const tp = new TopicProcessor(config(kafka, { batchSize: 1 }), () => processor)
    const loop = tp.runLoop()
    await until(() => seen.length === 1)
    assert.equal(tp.progress()[0]?.nextTimestampMs, seen[0]?.timestamp, 'a is being processed')
    release()
    await until(() => seen.length === 2)
    assert.equal(tp.progress()[0]?.next, 1n)
    assert.equal(tp.progress()[0]?.nextTimestampMs, seen[1]?.timestamp, 'b is next')
    release()
    await until(() => kafka.committed(group, 'in', 0) === 2n)
    assert.equal(tp.progress()[0]?.nextTimestampMs, undefined, 'nothing fetched is left to process')
    await tp.close()
    await loop
  })

  test('an empty batch never reaches process()', async () => {
    const kafka = new FakeKafka({ in: 1 })
    const { batches, processor } = recorder()
    const tp = new TopicProcessor(config(kafka, { fetch: { maxWaitMs: 10 } }), processor)
    const loop = tp.runLoop()
    await sleep(100)
    await tp.close()
    await loop
    assert.equal(batches.length, 0)
    assert.deepEqual(kafka.calls, [])
  })

  test('partition p of every input topic goes to the same processor in the same batch', async () => {
    const kafka = new FakeKafka({ tweets: 2, followers: 2 })
    kafka.append('tweets', 1, ['t1', 't2'])
    kafka.append('followers', 1, ['f1'])
    kafka.append('tweets', 0, ['t0'])
    const { batches, processor } = recorder()
    const tp = new TopicProcessor(
      config(kafka, { inputTopics: ['tweets', 'followers'], inputPartitions: [0, 1], batchSize: 100 }),
      processor,
    )
    const loop = tp.runLoop()
    await until(() => batches.length === 2)
    await tp.close()
    await loop
    const p1 = batches.find((b) => b.partition === 1)!
    assert.deepEqual(p1.values.sort(), ['followers:f1', 'tweets:t1', 'tweets:t2'])
    assert.deepEqual(
      p1.values.filter((v) => v.startsWith('tweets')),
      ['tweets:t1', 'tweets:t2'],
    )
  })

  test('sent messages are produced and acknowledged before offsets are committed', async () => {
    const kafka = new FakeKafka({ in: 1, out: 1 })
    kafka.append('in', 0, ['a', 'b', 'c'])
    const processor: MessageProcessor = {
      process(messages, sender: Sender) {
        for (const m of messages) sender.send({ topic: 'out', value: m.value })
      },
    }
    const tp = new TopicProcessor(config(kafka), () => processor)
    const loop = tp.runLoop()
    await until(() => kafka.committed(group, 'in', 0) === 3n)
    await tp.close()
    await loop
    assert.deepEqual(kafka.calls, ['produce 3', 'commit in/0=3'])
    assert.deepEqual(
      kafka.messages('out', 0).map((m) => m.value?.toString()),
      ['a', 'b', 'c'],
    )
  })

  test('flush() produces at once; a Sender cannot be used after process() returned', async () => {
    const kafka = new FakeKafka({ in: 1, out: 1 })
    kafka.append('in', 0, ['a', 'b', 'c'])
    let kept: Sender | undefined
    const processor: MessageProcessor = {
      async process(_messages, sender) {
        sender.send({ topic: 'out', value: 'first' })
        await sender.flush()
        assert.equal(kafka.messages('out', 0).length, 1)
        sender.send({ topic: 'out', value: 'second' })
        kept = sender
      },
    }
    const tp = new TopicProcessor(config(kafka), () => processor)
    const loop = tp.runLoop()
    await until(() => kafka.committed(group, 'in', 0) === 3n)
    await tp.close()
    await loop
    assert.deepEqual(kafka.calls, ['produce 1', 'produce 1', 'commit in/0=3'])
    assert.throws(() => kept!.send({ topic: 'out', value: 'late' }), /after process\(\) returned/)
  })

  test('an error thrown by process() stops the loop and the batch is not committed', async () => {
    const kafka = new FakeKafka({ in: 1 })
    kafka.append('in', 0, ['a', 'b', 'c', 'poison', 'e', 'f'])
    const poison = new Error('poison record')
    const logger = captureLogger()
    const processor: MessageProcessor = {
      process(messages) {
        if (messages.some((m) => m.value?.toString() === 'poison')) throw poison
      },
    }
    const tp = new TopicProcessor(config(kafka, { logger }), () => processor)
    await assert.rejects(tp.runLoop(), (error) => error === poison)
    assert.equal(kafka.committed(group, 'in', 0), 3n)
    const failure = logger.lines.find((l) => l.level === 'error')!
    assert.match(failure.message, /not committed/)
    assert.deepEqual(failure.fields.offsets, ['in/0@3..5'])
    assert.deepEqual(
      failedBatchOf(poison),
      ['in/0@3..5'],
      'the error carries the failed batch for the status page',
    )
    assert.equal(
      failure.fields.error,
      'poison record',
      'the message only: the stack is logged once, by the catcher',
    )
    await tp.close()
  })

  test('a produce failure stops the loop and the batch is not committed', async () => {
    const kafka = new FakeKafka({ in: 1, out: 1 })
    kafka.append('in', 0, ['a', 'b', 'c'])
    kafka.failNextProduce = new Error('broker said no')
    const processor: MessageProcessor = {
      process: (_messages, sender) => sender.send({ topic: 'out', value: 'x' }),
    }
    const tp = new TopicProcessor(config(kafka), () => processor)
    await assert.rejects(tp.runLoop(), /broker said no/)
    assert.equal(kafka.committed(group, 'in', 0), undefined)
  })

  test('outputs and dead letters are produced with processor compression', async () => {
    const kafka = new FakeKafka({ in: 1, out: 1, 'test.dlq': 1 })
    kafka.append('in', 0, ['a', 'x', 'b'])
    const tp = new TopicProcessor(
      config(kafka, { compression: 'zstd', errorPolicy: { onFailure: 'dead-letter' } }),
      () => ({
        process(messages, sender) {
          const values = messages.map((m) => m.value?.toString() ?? '')
          if (values.includes('x')) throw new Error('bad x')
          for (const value of values) sender.send({ topic: 'out', value })
        },
      }),
    )
    await runUntilCommitted(tp, kafka, 3n)
    assert.deepEqual(valuesOf(kafka, 'out'), ['a', 'b'])
    assert.deepEqual(
      kafka.messages('test.dlq', 0).map((m) => m.value?.toString()),
      ['x'],
    )
    assert.ok(kafka.compressions.length >= 2)
    assert.deepEqual(new Set(kafka.compressions), new Set(['zstd']))
  })

  test('a committed offset beyond the log end resumes at the log end', async () => {
    const kafka = new FakeKafka({ in: 1 })
    kafka.append('in', 0, ['a', 'b'])
    kafka.setCommitted(group, 'in', 0, 50n)
    const logger = captureLogger()
    const { batches, processor } = recorder()
    const tp = new TopicProcessor(config(kafka, { logger }), processor)
    const loop = tp.runLoop()
    await until(() => tp.progress().length === 1)
    kafka.append('in', 0, ['c'])
    await until(() => kafka.committed(group, 'in', 0) === 3n)
    await tp.close()
    await loop
    assert.deepEqual(
      batches.flatMap((b) => b.values),
      ['in:c'],
    )
    assert.ok(logger.lines.some((l) => l.level === 'warn' && /beyond the log end/.test(l.message)))
  })

  test('a committed offset deleted by retention falls back to the log start with a warning', async () => {
    const kafka = new FakeKafka({ in: 1 })
    kafka.append('in', 0, ['a', 'b', 'c', 'd'])
    kafka.deleteBefore('in', 0, 2n)
    kafka.setCommitted(group, 'in', 0, 1n)
    const logger = captureLogger()
    const { batches, processor } = recorder()
    const tp = new TopicProcessor(config(kafka, { logger }), processor)
    const loop = tp.runLoop()
    await until(() => kafka.committed(group, 'in', 0) === 4n)
    await tp.close()
    await loop
    assert.deepEqual(
      batches.flatMap((b) => b.values),
      ['in:c', 'in:d'],
    )
    const warning = logger.lines.find((l) => l.level === 'warn')!
    assert.match(warning.message, /deleted by retention/)
    assert.equal(warning.fields.skipped, '1')
  })

  test('retention overtaking a running processor resumes at the log start', async () => {
    const kafka = new FakeKafka({ in: 1 })
    const { batches, processor } = recorder()
    const logger = captureLogger()
    const tp = new TopicProcessor(config(kafka, { logger, fetch: { maxWaitMs: 10 } }), processor)
    const loop = tp.runLoop()
    await until(() => tp.progress().length === 1)
    await tp.close()
    await loop
    kafka.append('in', 0, ['a', 'b', 'c', 'd', 'e'])
    kafka.deleteBefore('in', 0, 3n)
    const again = new TopicProcessor(config(kafka, { logger }), processor)
    const loop2 = again.runLoop()
    await until(() => kafka.committed(group, 'in', 0) === 5n)
    await again.close()
    await loop2
    assert.deepEqual(
      batches.flatMap((b) => b.values),
      ['in:d', 'in:e'],
    )
  })

  test('hasConsumedAllMessages() compares with the live log end; empty partitions count as drained', async () => {
    const kafka = new FakeKafka({ in: 2 })
    kafka.append('in', 0, ['a'])
    const { processor } = recorder()
    const tp = new TopicProcessor(config(kafka, { inputPartitions: [0, 1], batchWaitMs: 10 }), processor)
    assert.equal(await tp.hasConsumedAllMessages(), false)
    const loop = tp.runLoop()
    await until(() => tp.hasConsumedAllMessages())
    kafka.append('in', 1, ['b'])
    assert.equal(await tp.hasConsumedAllMessages(), false)
    await until(() => tp.hasConsumedAllMessages())
    const status = await tp.drainStatus()
    assert.deepEqual(
      status.partitions.map((p) => [p.partition, p.next, p.logEnd, p.lag]),
      [
        [0, 1n, 1n, 0n],
        [1, 1n, 1n, 0n],
      ],
    )
    await tp.close()
    await tp.close()
    await loop
  })

  test('positions move past skipped records (transaction markers) and are committed past them', async () => {
    const kafka = new FakeKafka({ in: 2 })
    kafka.append('in', 0, ['a', 'b'])
    kafka.appendSkipped('in', 0, 1)
    kafka.appendSkipped('in', 1, 2)
    kafka.append('in', 1, ['c'])
    kafka.appendSkipped('in', 1, 1)
    const { batches, processor } = recorder()
    const tp = new TopicProcessor(config(kafka, { inputPartitions: [0, 1], batchWaitMs: 10 }), processor)
    const loop = tp.runLoop()
    await until(() => tp.hasConsumedAllMessages())
    assert.deepEqual(batches.flatMap((b) => b.values).sort(), ['in:a', 'in:b', 'in:c'])
    assert.equal(kafka.committed(group, 'in', 0), 3n)
    assert.equal(kafka.committed(group, 'in', 1), 4n)
    // Only skipped records arrive while idle: committed all the same.
    kafka.appendSkipped('in', 0, 2)
    await until(() => kafka.committed(group, 'in', 0) === 5n)
    assert.equal(await tp.hasConsumedAllMessages(), true)
    assert.equal(batches.flatMap((b) => b.values).length, 3)
    await tp.close()
    await loop
  })

  test('initialOffset "latest" skips the backlog of a group without commits', async () => {
    const kafka = new FakeKafka({ in: 1 })
    kafka.append('in', 0, ['old'])
    const { batches, processor } = recorder()
    const tp = new TopicProcessor(config(kafka, { initialOffset: 'latest' }), processor)
    const loop = tp.runLoop()
    await until(() => tp.progress().length === 1)
    kafka.append('in', 0, ['new'])
    await until(() => kafka.committed(group, 'in', 0) === 2n)
    await tp.close()
    await loop
    assert.deepEqual(
      batches.flatMap((b) => b.values),
      ['in:new'],
    )
  })

  test('close() before runLoop() makes runLoop() return at once', async () => {
    const kafka = new FakeKafka({ in: 1 })
    const tp = new TopicProcessor(config(kafka), recorder().processor)
    await tp.close()
    await tp.runLoop()
  })

  describe('bad configuration gives one clear error before anything is consumed', () => {
    const kafka = new FakeKafka({ a: 2, b: 3 })
    const cases: Array<[string, Partial<TopicProcessorConfig>, RegExp]> = [
      ['batchSize < 1', { batchSize: 0 }, /^batchSize: must be an integer ≥ 1/],
      ['no time for process()', { processTimeoutMs: 0 }, /^processTimeoutMs: must be an integer ≥ 1/],
      [
        'a duration longer than Node can wait',
        { batchWaitMs: 2 ** 31 },
        /^batchWaitMs: must be ≤ 2147483647 ms/,
      ],
      [
        'partition listed twice',
        { inputPartitions: [0, 1, 0] },
        /^inputPartitions: partition 0 is listed twice/,
      ],
      ['no input topics', { inputTopics: [] }, /^inputTopics: at least one topic/],
      ['bad initialOffset', { initialOffset: 'newest' as 'latest' }, /^initialOffset: must be/],
      [
        'unknown compression',
        { compression: 'brotli' as 'lz4' },
        /^compression: must be one of none, gzip, snappy, lz4, zstd \(got brotli\)/,
      ],
    ]
    for (const [what, overrides, message] of cases) {
      test(what, () => {
        assert.throws(
          () => new TopicProcessor(config(kafka, { inputTopics: ['a'], ...overrides }), recorder().processor),
          (error) => error instanceof ConfigurationError && message.test(error.message),
        )
      })
    }

    test('a partition without a processor', () => {
      assert.throws(
        () => new TopicProcessor(config(kafka, { inputTopics: ['a'], inputPartitions: [0, 1] }), new Map()),
        /^ConfigurationError: processors: no MessageProcessor for partition 0/,
      )
    })

    const runtimeCases: Array<[string, Partial<TopicProcessorConfig>, RegExp]> = [
      [
        'unknown topic',
        { inputTopics: ['a', 'nope', 'neither'] },
        /^inputTopics: unknown topics: nope, neither/,
      ],
      ['different partition counts', { inputTopics: ['a', 'b'] }, /same partition count \(a=2, b=3\)/],
      [
        'a partition that does not exist',
        { inputTopics: ['a'], inputPartitions: [1, 2] },
        /partition 2 does not exist/,
      ],
    ]
    for (const [what, overrides, message] of runtimeCases) {
      test(what, async () => {
        const tp = new TopicProcessor(config(kafka, overrides), recorder().processor)
        await assert.rejects(tp.runLoop(), (e) => e instanceof ConfigurationError && message.test(e.message))
        assert.equal(kafka.commits.size, 0)
      })
    }
  })
})

describe('TopicProcessor exactly-once (in-memory Kafka)', () => {
  const exactlyOnce = (kafka: FakeKafka, overrides: Partial<TopicProcessorConfig> = {}) =>
    config(kafka, { guarantee: 'exactly-once', ...overrides })
  const upper = (flushFirst = false): MessageProcessor => ({
    async process(messages: IncomingMessage[], sender: Sender) {
      for (const m of messages) {
        sender.send({ topic: 'out', value: m.value!.toString().toUpperCase() })
        if (flushFirst) await sender.flush()
      }
    },
  })

  test('the transactional id names the processor and its sorted partitions as ranges', () => {
    assert.equal(transactionalId('orders', [7, 2, 0, 1, 3, 9, 8]), 'kasper-topic-processor-orders:0-3,7-9')
    assert.equal(transactionalId('orders', [4]), 'kasper-topic-processor-orders:4')
  })

  test('fences first, then produces outputs (flushed ones too) and commits offsets in one transaction per batch', async () => {
    const kafka = new FakeKafka({ in: 2, out: 1 })
    kafka.append('in', 1, ['a', 'b'])
    const tp = new TopicProcessor(exactlyOnce(kafka, { inputPartitions: [1, 0] }), () => upper(true))
    const loop = tp.runLoop()
    await until(() => kafka.committed(group, 'in', 1) === 2n)
    await tp.close()
    await loop
    assert.deepEqual(kafka.transactionalIds, ['kasper-topic-processor-test:0-1'])
    assert.deepEqual(kafka.calls, ['txn init', 'txn produce out:A out:B', 'txn commit in/1=2'])
    assert.deepEqual(
      kafka.messages('out', 0).map((m) => m.value?.toString()),
      ['A', 'B'],
    )
  })

  test('a failed produce aborts the transaction: neither outputs nor offsets land, the loop stops', async () => {
    const kafka = new FakeKafka({ in: 1, out: 1 })
    kafka.append('in', 0, ['a'])
    kafka.failNextProduce = new Error('broker says no')
    const tp = new TopicProcessor(exactlyOnce(kafka), () => upper())
    await assert.rejects(tp.runLoop(), /broker says no/)
    assert.deepEqual(kafka.calls, ['txn init', 'txn produce out:A', 'txn abort'])
    assert.equal(kafka.messages('out', 0).length, 0)
    assert.equal(kafka.committed(group, 'in', 0), undefined)
  })

  test('a retried call leaves nothing of what it flushed; dead-letter records go in the transaction', async () => {
    const kafka = new FakeKafka({ in: 1, out: 1, 'test.dlq': 1 })
    kafka.append('in', 0, ['a', 'bad', 'c'])
    let calls = 0
    const flaky: MessageProcessor = {
      async process(messages, sender) {
        calls++
        for (const m of messages) {
          sender.send({ topic: 'out', value: m.value!.toString() })
          await sender.flush()
          if (m.value!.toString() === 'bad' || calls === 1) throw new Error(`failed on ${m.value}`)
        }
      },
    }
    const tp = new TopicProcessor(
      exactlyOnce(kafka, {
        errorPolicy: { retries: 1, retryInitialBackoffMs: 1, onFailure: 'dead-letter' },
      }),
      () => flaky,
    )
    await runUntilCommitted(tp, kafka, 3n)
    assert.deepEqual(valuesOf(kafka, 'out'), ['a', 'c'])
    assert.equal(kafka.messages('test.dlq', 0).length, 1)
    assert.deepEqual(
      kafka.calls.filter((c) => c.startsWith('txn')),
      ['txn init', 'txn produce test.dlq:bad out:a out:c', 'txn commit in/0=3'],
    )
  })

  test('a fenced producer stops the loop with an error naming the partitions', async () => {
    const kafka = new FakeKafka({ in: 2, out: 1 })
    kafka.append('in', 0, ['a'])
    kafka.fenceNext = new ProducerFencedError('kasper-topic-processor-test:0-1')
    const tp = new TopicProcessor(exactlyOnce(kafka, { inputPartitions: [0, 1] }), () => upper())
    await assert.rejects(tp.runLoop(), (error: Error) => {
      assert.ok(error instanceof FencedError)
      assert.match(error.message, /processor test was fenced on in\/0, in\/1: another producer/)
      return true
    })
    assert.deepEqual(kafka.calls, ['txn init', 'txn produce out:A', 'txn abort'])
  })

  test('exactly-once is refused for a client without transactions', () => {
    const kafka = new FakeKafka({ in: 1 })
    Object.defineProperty(kafka, 'transactionalProducer', { value: undefined })
    assert.throws(
      () => new TopicProcessor(exactlyOnce(kafka), () => upper()),
      (error: Error) =>
        error instanceof ConfigurationError && /exactly-once needs a Kafka client/.test(error.message),
    )
  })
})
