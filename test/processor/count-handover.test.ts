import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { awaitOtherCounts, instanceCountOf, instanceMetadata } from '../../src/processor/count-handover.ts'
import { consumerGroupId } from '../../src/processor/options.ts'
import { TopicProcessor } from '../../src/processor/topic-processor.ts'
import type { MessageProcessor } from '../../src/processor/types.ts'
import { captureLogger } from '../helpers/capture-logger.ts'
import { FakeKafka } from './fake-kafka.ts'

const group = 'g'
const partitions = [
  { topic: 't', partition: 0 },
  { topic: 't', partition: 3 },
]

/** awaitOtherCounts for instance 0 of 3, on partitions 0 and 3 of topic t. */
const awaitAsInstanceOfThree = (
  kafka: FakeKafka,
  logger: ReturnType<typeof captureLogger>,
  timing: { quietMs: number; pollMs?: number },
) =>
  awaitOtherCounts({
    client: kafka,
    groupId: group,
    partitions,
    instance: { index: 0, count: 3 },
    logger,
    signal: new AbortController().signal,
    ...timing,
  })

/** Instance 0 of 3 (partitions 0 and 3 of topic t), waiting for `quietMs` of quiet. */
const countThree = (kafka: FakeKafka, quietMs: number, process: MessageProcessor['process']) =>
  new TopicProcessor(
    {
      name: 'handover',
      client: kafka,
      inputTopics: ['t'],
      inputPartitions: [0, 3],
      batchWaitMs: 10,
      instance: { index: 0, count: 3 },
      overlapCheckIntervalMs: quietMs,
      logger: captureLogger(),
    },
    () => ({ process }),
  )

describe('count handover', () => {
  test('commit metadata names the instance; anything else names none', () => {
    assert.equal(instanceMetadata({ index: 1, count: 3 }), 'kasper instance 1/3')
    assert.equal(instanceCountOf('kasper instance 1/3'), 3)
    for (const other of [undefined, '', 'kasper instance 1', 'consumer-1'])
      assert.equal(instanceCountOf(other), undefined, String(other))
  })

  test('no wait when every commit is of this count, of no instance, or absent', async () => {
    const kafka = new FakeKafka({ t: 4 })
    kafka.setCommitted(group, 't', 0, 5n, 'kasper instance 0/3')
    kafka.setCommitted(group, 't', 3, 7n, 'written by kafka-consumer-groups')
    const logger = captureLogger()
    // A wait would log, and last the test's whole time limit.
    assert.deepEqual(await awaitAsInstanceOfThree(kafka, logger, { quietMs: 600_000 }), [])
    assert.deepEqual(logger.lines, [])
  })

  test('waits while an instance of another count commits, until its commits stay still for quietMs', async () => {
    const kafka = new FakeKafka({ t: 4 })
    kafka.setCommitted(group, 't', 0, 10n, 'kasper instance 0/2')
    let offset = 10n
    const moving = setInterval(() => {
      offset += 1n
      kafka.setCommitted(group, 't', 0, offset, 'kasper instance 0/2')
    }, 20)
    setTimeout(() => clearInterval(moving), 300)
    const logger = captureLogger()
    const started = Date.now()
    const taken = await awaitAsInstanceOfThree(kafka, logger, { quietMs: 200, pollMs: 10 })
    const waited = Date.now() - started
    assert.ok(
      waited >= 450,
      `waited ${waited} ms: the other instance committed for 300 ms, then 200 ms of quiet`,
    )
    assert.deepEqual(taken, [{ topic: 't', partition: 0, offset, metadata: 'kasper instance 0/2' }])
    assert.deepEqual(
      logger.lines.map((l) => [l.level, l.message, l.fields.partitions, l.fields.counts]),
      [
        ['warn', 'waiting for instances of another count to stop committing these partitions', ['t/0'], [2]],
        [
          'info',
          'no instance of another count committed these partitions lately; taking them over',
          ['t/0'],
          [2],
        ],
      ],
    )
  })

  test('close() ends the wait, and the loop stops without processing', async () => {
    const kafka = new FakeKafka({ t: 4 })
    kafka.setCommitted(consumerGroupId('handover'), 't', 0, 0n, 'kasper instance 0/2')
    kafka.append('t', 0, ['a'])
    let processed = 0
    const tp = countThree(kafka, 60_000, (messages) => {
      processed += messages.length
    })
    const loop = tp.runLoop()
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.deepEqual(tp.progress(), [], 'not started while waiting')
    await tp.close()
    await loop
    assert.equal(processed, 0)
  })

  test('the loop takes the partitions over in its own name, then commits with its metadata', async () => {
    const kafka = new FakeKafka({ t: 4 })
    const groupId = consumerGroupId('handover')
    kafka.setCommitted(groupId, 't', 0, 0n, 'kasper instance 0/2')
    kafka.append('t', 0, ['a'])
    kafka.append('t', 3, ['b'])
    const tp = countThree(kafka, 50, () => {})
    const loop = tp.runLoop()
    const committedBoth = async () =>
      kafka.committed(groupId, 't', 0) === 1n && kafka.committed(groupId, 't', 3) === 1n
    while (!(await committedBoth())) await new Promise((resolve) => setTimeout(resolve, 10))
    await tp.close()
    await loop
    assert.equal(kafka.calls.filter((c) => c.startsWith('commit'))[0], 'commit t/0=0', 'the takeover commit')
    assert.deepEqual(
      [...kafka.commitMetadata.get(groupId)!.values()],
      ['kasper instance 0/3', 'kasper instance 0/3'],
    )
  })
})
