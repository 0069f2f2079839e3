import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { OutgoingMessage } from '../../src/kafka/messages.ts'
import { deadLetterHeaders } from '../../src/processor/dead-letter.ts'
import type { ErrorPolicyOptions } from '../../src/processor/error-policy.ts'
import { TopicProcessor } from '../../src/processor/topic-processor.ts'
import type { MessageProcessor } from '../../src/processor/types.ts'
import type { SerdesOptions } from '../../src/serdes/types.ts'
import { captureLogger } from '../helpers/capture-logger.ts'
import { FakeKafka, runUntilCommitted } from './fake-kafka.ts'

const group = 'kasper-topic-processor-test'
const text = (kafka: FakeKafka, topic: string) => kafka.messages(topic, 0).map((m) => m.value!.toString())

/** The Kafka fake, remembering every record produced (headers included). */
function kafkaWith(values: string[]) {
  const kafka = new FakeKafka({ in: 1, out: 1, 'test.dlq': 1, raw: 1 })
  kafka.append('in', 0, values)
  const produced: OutgoingMessage[] = []
  const produce = kafka.produce.bind(kafka)
  kafka.produce = async (messages, options) => {
    produced.push(...messages)
    return produce(messages, options)
  }
  return { kafka, produced }
}

interface Order {
  n: number
}

function processor(
  kafka: FakeKafka,
  serdes: SerdesOptions,
  errorPolicy: ErrorPolicyOptions,
  build: () => MessageProcessor<null, Order, null, unknown>,
) {
  const logger = captureLogger()
  const tp = new TopicProcessor<null, Order, null, unknown>(
    {
      name: 'test',
      client: kafka,
      inputTopics: ['in'],
      inputPartitions: [0],
      batchSize: 10,
      batchWaitMs: 10,
      logger,
      errorPolicy,
      serdes,
    },
    build,
  )
  return { tp, logger }
}

const jsonInOut: SerdesOptions = { inputs: { in: { value: 'json' } }, outputs: { out: { value: 'json' } } }

describe('TopicProcessor with serdes', () => {
  test('process() gets decoded values and its objects are written as JSON; other topics keep bytes', async () => {
    const { kafka } = kafkaWith(['{"n":1}', '{"n":2}'])
    const seen: unknown[] = []
    const { tp } = processor(kafka, jsonInOut, {}, () => ({
      process(messages, sender) {
        for (const m of messages) {
          seen.push(m.value)
          sender.send({ topic: 'out', key: null, value: { doubled: m.value.n * 2 } })
          sender.send({ topic: 'raw', key: null, value: Buffer.from(`n=${m.value.n}`) })
        }
      },
    }))
    await runUntilCommitted(tp, kafka, tp.groupId, 2n)
    assert.deepEqual(seen, [{ n: 1 }, { n: 2 }])
    assert.deepEqual(text(kafka, 'out'), ['{"doubled":2}', '{"doubled":4}'])
    assert.deepEqual(text(kafka, 'raw'), ['n=1', 'n=2'])
  })

  test('dead-letter: a record that does not decode keeps its original bytes, DecodeError and where it was', async () => {
    const { kafka, produced } = kafkaWith(['{"n":1}', 'not json', '{"n":3}'])
    const calls: number[][] = []
    const { tp, logger } = processor(kafka, jsonInOut, { onFailure: 'dead-letter' }, () => ({
      process(messages, sender) {
        calls.push(messages.map((m) => m.value.n))
        for (const m of messages) sender.send({ topic: 'out', key: null, value: m.value })
      },
    }))
    await runUntilCommitted(tp, kafka, tp.groupId, 3n)
    assert.deepEqual(calls, [[1, 3]], 'process() never sees the record and is called once')
    assert.deepEqual(text(kafka, 'out'), ['{"n":1}', '{"n":3}'])
    const dead = produced.filter((m) => m.topic === 'test.dlq')
    assert.equal(dead.length, 1)
    assert.deepEqual(dead[0]!.value, Buffer.from('not json'))
    const headers = dead[0]!.headers!
    assert.equal(headers[deadLetterHeaders.errorClass], 'DecodeError')
    assert.equal(headers[deadLetterHeaders.offset], '1')
    assert.match(
      String(headers[deadLetterHeaders.errorMessage]),
      /topic in partition 0 offset 1: the value does not decode as json/,
    )
    assert.equal(logger.lines.filter((l) => l.message === 'record dead-lettered').length, 1)
  })

  test('skip: the record is logged with its DecodeError and the others are processed', async () => {
    const { kafka } = kafkaWith(['oops', '{"n":2}'])
    const { tp, logger } = processor(kafka, jsonInOut, { onFailure: 'skip' }, () => ({
      process(messages, sender) {
        for (const m of messages) sender.send({ topic: 'out', key: null, value: m.value })
      },
    }))
    await runUntilCommitted(tp, kafka, tp.groupId, 2n)
    assert.deepEqual(text(kafka, 'out'), ['{"n":2}'])
    const skipped = logger.lines.find((l) => l.message === 'record skipped')
    assert.equal(skipped?.fields.offset, '0')
    assert.match(String(skipped?.fields.err), /DecodeError|does not decode as json/)
  })

  test('a batch whose every record fails to decode makes no process() call and is committed past', async () => {
    const { kafka } = kafkaWith(['x', 'y'])
    let calls = 0
    const { tp } = processor(kafka, jsonInOut, { onFailure: 'skip' }, () => ({
      process() {
        calls++
      },
    }))
    await runUntilCommitted(tp, kafka, tp.groupId, 2n)
    assert.equal(kafka.committed(tp.groupId, 'in', 0), 2n)
    assert.equal(calls, 0)
  })

  test('stop (the default): the loop stops with one message naming topic, partition and offset; nothing is produced or committed', async () => {
    const { kafka, produced } = kafkaWith(['{"n":1}', '{"n"'])
    const { tp, logger } = processor(kafka, jsonInOut, {}, () => ({
      process(messages, sender) {
        for (const m of messages) sender.send({ topic: 'out', key: null, value: m.value })
      },
    }))
    await assert.rejects(tp.runLoop(), {
      name: 'DecodeError',
      message: /^topic in partition 0 offset 1: the value does not decode as json: /,
    })
    assert.deepEqual(produced, [])
    assert.equal(kafka.committed(group, 'in', 0), undefined)
    assert.ok(logger.lines.some((l) => l.message === 'a record does not decode; the batch is not committed'))
  })

  test('an output that does not encode fails the batch before anything of it is produced', async () => {
    const { kafka, produced } = kafkaWith(['{"n":1}', '{"n":2}'])
    const { tp } = processor(
      kafka,
      { inputs: { in: { value: 'json' } }, outputs: { out: { value: 'string' } } },
      {},
      () => ({
        process(messages, sender) {
          sender.send({ topic: 'raw', key: null, value: Buffer.from('first') })
          for (const m of messages)
            sender.send({ topic: 'out', key: null, value: m.value.n === 2 ? 2 : 'one' })
        },
      }),
    )
    await assert.rejects(tp.runLoop(), {
      name: 'EncodeError',
      message: /an output to topic out: the value does not encode as string: .*got a number/,
    })
    assert.deepEqual(produced, [])
    assert.equal(kafka.committed(group, 'in', 0), undefined)
  })

  test('a registry format without a registry is a ConfigurationError naming the key', () => {
    const { kafka } = kafkaWith([])
    assert.throws(
      () => processor(kafka, { inputs: { in: { value: 'avro' } } }, {}, () => ({ process() {} })),
      {
        name: 'ConfigurationError',
        message: 'serdes.inputs.in.value: format avro needs serdes.registry',
      },
    )
  })
})
