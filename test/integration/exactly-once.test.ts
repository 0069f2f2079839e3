import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { ProducerFencedError } from '../../src/kafka/errors.ts'
import { createGroupMember, createTopics, type GroupMember } from '../../src/kafka/index.ts'
import type { TopicPartition, TransactionalProducer } from '../../src/kafka/types.ts'
import { consumerGroupId, type TopicProcessorConfig } from '../../src/processor/options.ts'
import { TopicProcessor } from '../../src/processor/topic-processor.ts'
import type { MessageProcessor } from '../../src/processor/types.ts'
import { captureLogger } from '../helpers/capture-logger.ts'
import { freshTopics, testClient, waitFor } from '../helpers/kafka.ts'
import { jvmRead, transactionsFixture } from '../helpers/kafka-tools.ts'
import { kafkaBrokers, uniqueName } from '../helpers/services.ts'

// processor.guarantee: exactly-once against the real broker; what reached Kafka is read back by the JVM
// consumer (an independent client) under read_committed and read_uncommitted.

const partitions = 2
const values = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`)

describe('exactly-once: Kafka transactions of the platformatic client', () => {
  const client = testClient('platformatic')
  let jvm: (...args: string[]) => string[]
  const read = (topic: string, isolation: 'read_committed' | 'read_uncommitted') =>
    jvmRead(jvm, topic, partitions, isolation)
  const transactional = (id: string): TransactionalProducer =>
    client.transactionalProducer!(id, { transactionTimeoutMs: 120_000 })
  const all = (topic: string): TopicPartition[] =>
    Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))

  /** An exactly-once TopicProcessor of partition 0, batches of up to 10 records. */
  const processorOf = (
    config: Pick<TopicProcessorConfig, 'name' | 'inputTopics'> & Partial<TopicProcessorConfig>,
    processor: MessageProcessor,
  ) =>
    new TopicProcessor(
      {
        client,
        inputPartitions: [0],
        batchSize: 10,
        batchWaitMs: 20,
        guarantee: 'exactly-once',
        logger: captureLogger(),
        ...config,
      },
      () => processor,
    )

  before(() => {
    jvm = transactionsFixture()
  })
  after(() => client.close())

  test('outputs are seen by read_committed readers only after the commit, with the offsets committed in it', async () => {
    const [output, input] = (await freshTopics('eos-out', partitions, 2)) as [string, string]
    const group = consumerGroupId(uniqueName('eos'))
    const producer = transactional(uniqueName('eos-commit'))
    await producer.init()
    const written = values('c', 6)
    await producer.produce(written.map((value, i) => ({ topic: output, partition: i % partitions, value })))
    assert.deepEqual(read(output, 'read_committed'), [], 'nothing before the commit')
    await producer.commit(group, [
      { topic: input, partition: 0, offset: 5n },
      { topic: input, partition: 1, offset: 7n },
    ])
    const committed = await client.committedOffsets(group, all(input))
    assert.deepEqual(
      committed.map((o) => [o.partition, o.offset]),
      [
        [0, 5n],
        [1, 7n],
      ],
    )
    // A second transaction on the same producer: a transaction per batch.
    await producer.produce([{ topic: output, partition: 0, value: 'c-next' }])
    await producer.commit(group, [{ topic: input, partition: 0, offset: 6n }])
    assert.deepEqual(read(output, 'read_committed'), [...written, 'c-next'].sort())
  })

  test('an aborted transaction leaves its records to read_uncommitted readers only, and no offsets', async () => {
    const [output, input] = (await freshTopics('eos-abort', partitions, 2)) as [string, string]
    const group = consumerGroupId(uniqueName('eos'))
    const producer = transactional(uniqueName('eos-abort'))
    const written = values('a', 4)
    await producer.produce(written.map((value, i) => ({ topic: output, partition: i % partitions, value })))
    await producer.abort()
    assert.deepEqual(await client.committedOffsets(group, all(input)), [])
    // The producer goes on after an abort, with a new epoch.
    await producer.produce([{ topic: output, partition: 1, value: 'after-abort' }])
    await producer.commit(group, [{ topic: input, partition: 1, offset: 1n }])
    assert.deepEqual(read(output, 'read_committed'), ['after-abort'])
    assert.deepEqual(read(output, 'read_uncommitted'), [...written, 'after-abort'].sort())
  })

  test('a newer producer with the same transactional id fences the older ones and aborts their transactions', async () => {
    const [output, input] = (await freshTopics('eos-fence', partitions, 2)) as [string, string]
    const group = consumerGroupId(uniqueName('eos'))
    const id = uniqueName('eos-fence')
    const fenced = (error: Error) => error instanceof ProducerFencedError && error.message.includes(id)
    const first = transactional(id)
    await first.produce([{ topic: output, partition: 0, value: 'first' }])
    const second = transactional(id)
    await second.init()
    await second.produce([{ topic: output, partition: 1, value: 'second' }])
    const successor = transactional(id)
    await successor.init()
    // A partition already in the transaction: the broker refuses the produce itself.
    await assert.rejects(first.produce([{ topic: output, partition: 0, value: 'first-late' }]), fenced)
    // The transaction coordinator refuses adding the offsets.
    await assert.rejects(second.commit(group, [{ topic: input, partition: 0, offset: 1n }]), fenced)
    await first.abort().catch(() => {})
    await second.abort().catch(() => {})
    await successor.produce([{ topic: output, partition: 0, value: 'successor' }])
    await successor.commit(group, [{ topic: input, partition: 0, offset: 1n }])
    assert.deepEqual(read(output, 'read_committed'), ['successor'])
    assert.deepEqual(read(output, 'read_uncommitted'), ['first', 'second', 'successor'])
  })

  test('the TopicProcessor: every input once in the output, offsets committed in the transactions', async () => {
    const [input, output] = (await freshTopics('eos-run', partitions, 2)) as [string, string]
    const inputs = values('r', 40)
    await client.produce(inputs.map((value, i) => ({ topic: input, partition: i % partitions, value })))
    const upper: MessageProcessor = {
      async process(messages, sender) {
        for (const m of messages) sender.send({ topic: output, partition: m.partition, value: m.value })
        await sender.flush()
      },
    }
    const name = uniqueName('eos-run')
    const processor = new TopicProcessor(
      {
        name,
        client,
        inputTopics: [input],
        inputPartitions: [0, 1],
        batchSize: 7,
        batchWaitMs: 20,
        guarantee: 'exactly-once',
        logger: captureLogger(),
      },
      () => upper,
    )
    const loop = processor.runLoop()
    await waitFor(() => processor.hasConsumedAllMessages(), 20_000, 'the processor to drain')
    await processor.close()
    await loop
    assert.deepEqual(read(output, 'read_committed'), [...inputs].sort())
    const ends = await client.listOffsets(all(output), 'latest')
    assert.ok(
      ends.reduce((sum, e) => sum + e.offset, 0n) > BigInt(inputs.length),
      'the output holds commit markers: it was written in transactions',
    )
    const committed = await client.committedOffsets(consumerGroupId(name), all(input))
    assert.deepEqual(
      committed.map((o) => o.offset),
      [20n, 20n],
    )
  })

  test('a transaction whose offset commit the group refuses because its generation moved on is aborted, and the batch committed once in the next generation', async () => {
    const [input, output] = (await freshTopics('eos-moved', partitions, 2)) as [string, string]
    const name = uniqueName('eos-moved')
    const members: GroupMember[] = []
    const member = async () => {
      const created = await createGroupMember(
        { brokers: kafkaBrokers(), clientId: uniqueName('eos-member') },
        {
          groupId: consumerGroupId(name),
          topics: [input],
          partitions: () => [0, 1],
          rebalanceProtocol: 'eager',
          sessionTimeoutMs: 10_000,
          heartbeatIntervalMs: 300,
          rebalanceTimeoutMs: 20_000,
          onRetry: () => {},
        },
      )
      members.push(created)
      return created
    }
    const abort = new AbortController()
    const logger = captureLogger()
    try {
      const first = await member()
      const old = await first.join(abort.signal, [])
      const processed: string[] = []
      const copy: MessageProcessor = {
        process(messages, sender) {
          for (const m of messages) {
            processed.push(m.value!.toString())
            sender.send({ topic: output, partition: 0, value: m.value })
          }
        },
      }
      const processor = processorOf({ name, inputTopics: [input], groupGeneration: old, logger }, copy)
      const loop = processor.runLoop()
      // A second member joins: the generation moves on while the processor still commits in the old one.
      const second = await member()
      const joining = second.join(abort.signal, [])
      await first.rejoinNeeded()
      const [current] = await Promise.all([first.join(abort.signal, []), joining])
      assert.ok(current.generationId > old.generationId)
      const inputs = values('m', 5)
      await client.produce(inputs.map((value) => ({ topic: input, partition: 0, value })))
      const refusal = () => logger.lines.find((l) => /generation moved on/.test(l.message))
      await waitFor(() => refusal() !== undefined, 30_000, 'the refusal')
      assert.match(String(refusal()!.fields.err), /ILLEGAL_GENERATION/)
      processor.setGeneration(current)
      await waitFor(() => processor.hasConsumedAllMessages(), 30_000, 'the processor to drain')
      await processor.close()
      await loop
      assert.deepEqual(new Set(processed), new Set(inputs))
      assert.ok(processed.length > inputs.length, `the aborted batch was processed again: ${processed}`)
      assert.deepEqual(read(output, 'read_committed'), [...inputs].sort(), 'each input once')
      assert.deepEqual(read(output, 'read_uncommitted'), [...processed].sort(), 'the aborted attempt too')
      const committed = await client.committedOffsets(consumerGroupId(name), [{ topic: input, partition: 0 }])
      assert.deepEqual(
        committed.map((o) => o.offset),
        [5n],
      )
    } finally {
      abort.abort()
      await Promise.all(members.map((m) => m.leave().catch(() => {})))
    }
  })

  test('a failed produce aborts the batch: read_committed sees nothing of it, read_uncommitted the aborted part', async () => {
    const [input, output] = (await freshTopics('eos-fail', partitions, 2)) as [string, string]
    const small = uniqueName('eos-small')
    await createTopics({ brokers: kafkaBrokers(), clientId: 'kasper-test-admin' }, [
      { name: small, partitions: 1, configs: { 'max.message.bytes': '1000' } },
    ])
    await client.produce([
      { topic: input, partition: 0, value: 'fine' },
      { topic: input, partition: 0, value: 'too-big' },
    ])
    const splitter: MessageProcessor = {
      process(messages, sender) {
        for (const m of messages) {
          sender.send({ topic: output, partition: 0, value: m.value })
          if (m.value?.toString() === 'too-big') sender.send({ topic: small, value: 'x'.repeat(5000) })
        }
      },
    }
    const processor = processorOf({ name: uniqueName('eos-fail'), inputTopics: [input] }, splitter)
    await assert.rejects(processor.runLoop(), /MESSAGE_TOO_LARGE|too large/i)
    assert.deepEqual(read(output, 'read_committed'), [])
    assert.deepEqual(read(output, 'read_uncommitted'), ['fine', 'too-big'])
  })
})
