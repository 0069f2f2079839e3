import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { markTransient, ProducerFencedError } from '../../src/kafka/errors.ts'
import { commitFailure, GroupMembershipLostError } from '../../src/kafka/group/membership-lost.ts'
import type { IncomingMessage } from '../../src/kafka/messages.ts'
import { ConfigurationError } from '../../src/processor/errors.ts'
import { failedBatchOf } from '../../src/processor/failed-batch.ts'
import { FencedError } from '../../src/processor/fenced.ts'
import { type TopicProcessorConfig, transactionalId } from '../../src/processor/options.ts'
import { TopicProcessor } from '../../src/processor/topic-processor.ts'
import type { MessageProcessor, Sender } from '../../src/processor/types.ts'
import { captureLogger } from '../helpers/capture-logger.ts'
import { waitFor } from '../helpers/wait.ts'
import { FakeKafka, runUntilCommitted } from './fake-kafka.ts'

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

/** Waits, polling the in-memory Kafka often, until `condition` holds; fails the test if it never does. */
const until = (condition: () => boolean | Promise<boolean>, what = 'the condition') =>
  waitFor(condition, 30_000, what, 5)

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
    await until(() => batches.flat().length === 3)
    await tp.close()
    await loop
    assert.deepEqual(batches, [['first'], ['second'], ['third']])
  })

  test('the backlog at start is processed once fetched, not held for batchWaitMs; later records are', async () => {
    const kafka = new FakeKafka({ in: 2 })
    kafka.append('in', 0, ['a', 'b'])
    const { batches, processor } = recorder()
    const tp = new TopicProcessor(
      config(kafka, { inputPartitions: [0, 1], batchSize: 100, batchWaitMs: 60_000 }),
      processor,
    )
    const loop = tp.runLoop()
    // Within the test's 30 s, so not after the 60 s batchWaitMs.
    await until(() => kafka.committed(group, 'in', 0) === 2n, 'the backlog committed')
    kafka.append('in', 0, ['c'])
    await until(() => tp.progress().find((p) => p.partition === 0)?.logEnd === 3n, 'c fetched')
    await sleep(200)
    assert.equal(kafka.committed(group, 'in', 0), 2n, 'c waits in a batch of 1 out of 100 for batchWaitMs')
    assert.deepEqual(batches, [{ partition: 0, values: ['in:a', 'in:b'] }])
    await tp.close()
    await loop
  })

  test('a backlog at start of transaction markers only is forgotten once fetched: a later record waits for batchWaitMs', async () => {
    const kafka = new FakeKafka({ in: 1 })
    kafka.appendSkipped('in', 0, 2)
    const { batches, processor } = recorder()
    const tp = new TopicProcessor(config(kafka, { batchSize: 100, batchWaitMs: 60_000 }), processor)
    const loop = tp.runLoop()
    try {
      await sleep(300)
      kafka.append('in', 0, ['c'])
      await until(() => tp.progress().find((p) => p.partition === 0)?.logEnd === 3n, 'c fetched')
      await sleep(200)
      assert.deepEqual(batches, [], 'c waits in a batch of 1 out of 100 for batchWaitMs')
    } finally {
      await tp.close()
      await loop
    }
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
    await runUntilCommitted(tp, kafka, group, 3n)
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

  describe('assign(): partitions change between batches, without stopping the loop', () => {
    /** Processors that remember which instance processed what, and which were built and closed. */
    function tracked() {
      const built: number[] = []
      const closed: number[] = []
      const processedBy = new Map<string, MessageProcessor>()
      const factory = (partition: number): MessageProcessor => {
        built.push(partition)
        const processor: MessageProcessor = {
          process(messages) {
            for (const m of messages) processedBy.set(`${m.partition}:${m.value?.toString()}`, processor)
          },
          close() {
            closed.push(partition)
          },
        }
        return processor
      }
      return { built, closed, processedBy, factory }
    }

    test('kept partitions keep their processor; added ones get one; revoked ones are committed, then closed', async () => {
      const kafka = new FakeKafka({ in: 3 })
      kafka.append('in', 0, ['a0'])
      kafka.append('in', 1, ['a1'])
      kafka.append('in', 2, ['a2'])
      const { built, closed, processedBy, factory } = tracked()
      const tp = new TopicProcessor(
        config(kafka, { inputPartitions: [0, 1], groupGeneration: { memberId: 'm', generationId: 1 } }),
        factory,
      )
      const loop = tp.runLoop()
      await until(() => kafka.committed(group, 'in', 0) === 1n && kafka.committed(group, 'in', 1) === 1n)
      await tp.assign({
        partitions: [1, 2],
        processors: factory,
        groupGeneration: { memberId: 'm', generationId: 2 },
      })
      assert.deepEqual(tp.inputPartitions, [1, 2])
      assert.deepEqual(built, [0, 1, 2], 'a processor is built for the added partition only')
      assert.deepEqual(closed, [0], 'the revoked partition is closed')
      kafka.append('in', 0, ['b0'])
      kafka.append('in', 1, ['b1'])
      await until(() => kafka.committed(group, 'in', 1) === 2n && kafka.committed(group, 'in', 2) === 1n)
      assert.equal(processedBy.get('1:b1'), processedBy.get('1:a1'), 'partition 1 kept its processor object')
      assert.equal(processedBy.has('0:b0'), false, 'the revoked partition is no longer consumed')
      assert.equal(kafka.committed(group, 'in', 0), 1n)
      assert.equal(kafka.commitGenerations.at(-1), 2, 'commits carry the new generation')
      await tp.close()
      await loop
      assert.deepEqual(closed.sort(), [0, 1, 2], 'close() reaches the processors still assigned')
    })

    /** A member of generation 1 whose first commit the group refuses with `code`. */
    async function refusedCommit(code: string) {
      const kafka = new FakeKafka({ in: 1 })
      const { processedBy, factory } = tracked()
      const generation = { memberId: 'm', generationId: 1 }
      const tp = new TopicProcessor(config(kafka, { groupGeneration: generation }), factory)
      const loop = tp.runLoop()
      await until(() => tp.progress().length === 1)
      const refusal = Object.assign(new Error('refused'), { apiId: code })
      kafka.failNextCommit = commitFailure(refusal, group, generation) as Error
      kafka.append('in', 0, ['a'])
      return { kafka, processedBy, factory, tp, loop }
    }

    test('a commit refused because a cooperative rebalance moved the generation on is made in the next one', async () => {
      const { kafka, processedBy, factory, tp, loop } = await refusedCommit('ILLEGAL_GENERATION')
      await until(() => kafka.commitGenerations.length === 1)
      await sleep(50)
      assert.equal(kafka.committed(group, 'in', 0), undefined, 'refused in generation 1')
      const next = { memberId: 'm', generationId: 2 }
      await tp.assign({ partitions: [0], processors: factory, groupGeneration: next })
      await until(() => kafka.committed(group, 'in', 0) === 1n)
      assert.deepEqual(kafka.commitGenerations, [1, 2], 'the same commit again, in generation 2')
      assert.equal(processedBy.size, 1, 'the batch was processed once')
      await tp.close()
      await loop
    })

    test('a commit refused because the member is unknown stops the loop: nothing is committed', async () => {
      const { kafka, loop } = await refusedCommit('UNKNOWN_MEMBER_ID')
      await assert.rejects(loop, GroupMembershipLostError)
      assert.equal(kafka.committed(group, 'in', 0), undefined)
    })

    test('what is buffered of a revoked partition is dropped, not processed', async () => {
      const kafka = new FakeKafka({ in: 2 })
      const { processedBy, factory } = tracked()
      // A batch waits up to batchWaitMs for more records: the revoke comes while they are buffered.
      const tp = new TopicProcessor(
        config(kafka, { inputPartitions: [0, 1], batchSize: 3, batchWaitMs: 60_000 }),
        factory,
      )
      const loop = tp.runLoop()
      await until(() => tp.progress().length === 2)
      kafka.append('in', 0, ['x'])
      kafka.append('in', 1, ['y'])
      // Fetched (the log ends are known) but not processed: the batch waits for a third record.
      await until(() => tp.progress().every((p) => p.logEnd === 1n))
      await tp.assign({ partitions: [1], processors: factory })
      assert.equal(processedBy.size, 0)
      assert.deepEqual(
        tp.progress().map((p) => p.partition),
        [1],
      )
      // Two more records of partition 1 fill a batch: had x stayed buffered, it would be in it.
      kafka.append('in', 1, ['z', 'w'])
      await until(() => kafka.committed(group, 'in', 1) === 3n)
      assert.deepEqual([...processedBy.keys()].sort(), ['1:w', '1:y', '1:z'])
      await tp.close()
      await loop
      assert.equal(processedBy.has('0:x'), false)
      assert.equal(kafka.committed(group, 'in', 0), undefined, 'nothing of partition 0 was committed')
    })

    test('a MessageProcessor whose close() never settles is left behind after processTimeoutMs', async () => {
      const kafka = new FakeKafka({ in: 2 })
      const { processedBy, factory } = tracked()
      const hanging: MessageProcessor = { process() {}, close: () => new Promise<void>(() => {}) }
      const tp = new TopicProcessor(
        config(kafka, { inputPartitions: [0, 1], processTimeoutMs: 50 }),
        (partition) => (partition === 0 ? hanging : factory(partition)),
      )
      const loop = tp.runLoop()
      await until(() => tp.progress().length === 2)
      const change = tp.assign({ partitions: [1], processors: factory })
      kafka.append('in', 1, ['a'])
      // The loop applies the change between batches: a close() it waited on forever would stop it there.
      await until(() => kafka.committed(group, 'in', 1) === 1n)
      await change
      assert.equal(processedBy.has('1:a'), true, 'partition 1 goes on after the revoke')
      await tp.close()
      await loop
    })

    test('processors handed to a change that is never applied are closed', async () => {
      const kafka = new FakeKafka({ in: 3 })
      const { closed, factory } = tracked()
      const tp = new TopicProcessor(config(kafka, { inputPartitions: [0] }), factory)
      const loop = tp.runLoop()
      await until(() => tp.progress().length === 1)
      await tp.close()
      await loop
      closed.length = 0
      await tp.assign({ partitions: [0, 1], processors: new Map([[1, factory(1)]]) })
      assert.deepEqual(closed, [1], 'a change after the loop ended')
      // Refused: no MessageProcessor for partition 2 (the built one for 1 is closed).
      const failing = new TopicProcessor(config(kafka, { inputPartitions: [0] }), factory)
      const failed = failing.runLoop()
      await until(() => failing.progress().length === 1)
      closed.length = 0
      await assert.rejects(
        failing.assign({ partitions: [0, 1, 2], processors: new Map([[1, factory(1)]]) }),
        /no MessageProcessor for partition 2/,
      )
      await assert.rejects(failed, /no MessageProcessor for partition 2/)
      assert.deepEqual(closed.sort(), [0, 1], 'the one never applied, then those of the failed loop')
    })

    const nextGeneration = { memberId: 'm', generationId: 2 }
    const refusals: Array<[string, 'on its way' | 'before it', 'assign' | 'setGeneration']> = [
      [
        'a commit refused because the generation changed on its way is made again in the new generation',
        'on its way',
        'assign',
      ],
      [
        'a commit refused by a rebalance in progress waits for the next generation and is made in it',
        'before it',
        'assign',
      ],
      [
        'a commit refused by a rebalance in progress is made once setGeneration() brings the next generation, no partition change needed',
        'before it',
        'setGeneration',
      ],
    ]
    for (const [title, when, via] of refusals)
      test(title, async () => {
        const kafka = new FakeKafka({ in: 1 })
        const { processedBy, factory } = tracked()
        const tp = new TopicProcessor(
          config(kafka, { groupGeneration: { memberId: 'm', generationId: 1 } }),
          factory,
        )
        const next = () =>
          via === 'assign'
            ? tp.assign({ partitions: [0], processors: factory, groupGeneration: nextGeneration })
            : tp.setGeneration(nextGeneration)
        if (when === 'on its way')
          kafka.beforeCommit = () => {
            kafka.beforeCommit = undefined
            void next()
            kafka.failNextCommit = new GroupMembershipLostError('ILLEGAL_GENERATION', {
              generationMoved: true,
            })
          }
        else
          kafka.failNextCommit = new GroupMembershipLostError('REBALANCE_IN_PROGRESS', {
            generationMoved: true,
          })
        kafka.append('in', 0, ['a', 'b'])
        const loop = tp.runLoop()
        if (when === 'before it') {
          await until(() => kafka.commitGenerations.length === 1)
          await sleep(50)
          assert.equal(
            kafka.committed(group, 'in', 0),
            undefined,
            'nothing committed before the next generation',
          )
          void next()
        }
        await until(() => kafka.committed(group, 'in', 0) === 2n)
        assert.deepEqual(kafka.commitGenerations.slice(0, 2), [1, 2])
        assert.equal(processedBy.size, 2, 'the batch was processed once')
        await tp.close()
        await loop
      })

    test('a commit refused because the group no longer knows the member stops the loop', async () => {
      const kafka = new FakeKafka({ in: 1 })
      const tp = new TopicProcessor(
        config(kafka, { groupGeneration: { memberId: 'm', generationId: 1 } }),
        tracked().factory,
      )
      kafka.failNextCommit = new GroupMembershipLostError('UNKNOWN_MEMBER_ID', { generationMoved: false })
      kafka.append('in', 0, ['a'])
      await assert.rejects(tp.runLoop(), GroupMembershipLostError)
      assert.equal(kafka.committed(group, 'in', 0), undefined)
    })

    test('assign() after close() resolves at once; an empty set is refused', async () => {
      const kafka = new FakeKafka({ in: 2 })
      const tp = new TopicProcessor(config(kafka), recorder().processor)
      await assert.rejects(
        tp.assign({ partitions: [], processors: recorder().processor }),
        /inputPartitions: at least one partition is required/,
      )
      await tp.close()
      await tp.assign({ partitions: [1], processors: recorder().processor })
      assert.deepEqual(tp.inputPartitions, [0])
    })
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

  test('a changed partition set is refused in place (the transactional id names the partitions)', async () => {
    const kafka = new FakeKafka({ in: 2 })
    const tp = new TopicProcessor(exactlyOnce(kafka), () => upper())
    await assert.rejects(
      tp.assign({ partitions: [1], processors: () => upper() }),
      /exactly-once partitions cannot change in place/,
    )
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

  test('fences (InitProducerId) before any read of committed offsets, the wait for another instance count included', async () => {
    const kafka = new FakeKafka({ in: 2, out: 1 })
    kafka.append('in', 0, ['a'])
    const reads: string[] = []
    const read = kafka.committedOffsets.bind(kafka)
    kafka.committedOffsets = (groupId, partitions) => {
      reads.push(kafka.calls.includes('txn init') ? 'after init' : 'before init')
      return read(groupId, partitions)
    }
    const tp = new TopicProcessor(
      exactlyOnce(kafka, { instance: { index: 0, count: 2 }, overlapCheckIntervalMs: 60_000 }),
      () => upper(),
    )
    await runUntilCommitted(tp, kafka, tp.groupId, 1n)
    assert.ok(
      reads.length >= 2,
      `the count handover and the start positions read committed offsets: ${reads}`,
    )
    assert.deepEqual(new Set(reads), new Set(['after init']))
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

  test('a produce failed by an outage aborts the transaction with one attempt, not the retries across a coordinator move', async () => {
    const kafka = new FakeKafka({ in: 1, out: 1 })
    kafka.append('in', 0, ['a'])
    kafka.failNextProduce = markTransient(new Error('NOT_ENOUGH_REPLICAS'))
    const tp = new TopicProcessor(exactlyOnce(kafka), () => upper())
    await assert.rejects(tp.runLoop(), /NOT_ENOUGH_REPLICAS/)
    assert.deepEqual(kafka.calls, ['txn init', 'txn produce out:A', 'txn abort once'])
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
    await runUntilCommitted(tp, kafka, group, 3n)
    assert.deepEqual(valuesOf(kafka, 'out'), ['a', 'c'])
    assert.equal(kafka.messages('test.dlq', 0).length, 1)
    assert.deepEqual(
      kafka.calls.filter((c) => c.startsWith('txn')),
      ['txn init', 'txn produce test.dlq:bad out:a out:c', 'txn commit in/0=3'],
    )
  })

  const refusedTransactions: Array<[string, 'on its way' | 'before it', 'assign' | 'setGeneration']> = [
    [
      'a transaction whose offset commit the generation moved past on its way is aborted, and its batch committed once in the next generation',
      'on its way',
      'setGeneration',
    ],
    [
      'a transaction whose offset commit a rebalance in progress refused is aborted at once, and its batch committed once in the next generation',
      'before it',
      'assign',
    ],
  ]
  for (const [title, when, via] of refusedTransactions)
    test(title, async () => {
      const kafka = new FakeKafka({ in: 1, out: 1 })
      const processed: string[] = []
      const tp = new TopicProcessor(
        exactlyOnce(kafka, { groupGeneration: { memberId: 'm', generationId: 1 } }),
        () => ({
          process(messages: IncomingMessage[], sender: Sender) {
            for (const m of messages) {
              processed.push(m.value!.toString())
              sender.send({ topic: 'out', value: m.value!.toString().toUpperCase() })
            }
          },
        }),
      )
      const nextGeneration = { memberId: 'm', generationId: 2 }
      const next = () =>
        via === 'assign'
          ? tp.assign({ partitions: [0], processors: () => upper(), groupGeneration: nextGeneration })
          : tp.setGeneration(nextGeneration)
      const refusal = (code: string) => new GroupMembershipLostError(code, { generationMoved: true })
      if (when === 'on its way')
        kafka.beforeCommit = () => {
          kafka.beforeCommit = undefined
          void next()
          kafka.failNextCommit = refusal('ILLEGAL_GENERATION')
        }
      else kafka.failNextCommit = refusal('REBALANCE_IN_PROGRESS')
      kafka.append('in', 0, ['a', 'b'])
      const loop = tp.runLoop()
      if (when === 'before it') {
        await until(() => kafka.calls.includes('txn abort'))
        await sleep(50)
        assert.equal(
          kafka.committed(group, 'in', 0),
          undefined,
          'nothing committed before the next generation',
        )
        assert.deepEqual(valuesOf(kafka, 'out'), [], 'the aborted outputs are not visible')
        void next()
      }
      await until(() => kafka.committed(group, 'in', 0) === 2n)
      await tp.close()
      await loop
      assert.deepEqual(kafka.commitGenerations, [1, 2], 'one refused commit, one in generation 2')
      assert.deepEqual(kafka.calls, [
        'txn init',
        'txn produce out:A out:B',
        'txn commit in/0=2',
        'txn abort',
        'txn produce out:A out:B',
        'txn commit in/0=2',
      ])
      assert.deepEqual(processed, ['a', 'b', 'a', 'b'], 'the aborted batch was processed again')
      assert.deepEqual(valuesOf(kafka, 'out'), ['A', 'B'], 'committed outputs: each input once')
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
