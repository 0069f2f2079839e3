import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { deleteCommittedOffsets, deleteRecordsBefore } from '../../src/kafka/index.ts'
import type { IncomingMessage } from '../../src/kafka/messages.ts'
import type { KafkaClient } from '../../src/kafka/types.ts'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'
import { ProcessTimeoutError } from '../../src/processor/deadline.ts'
import { ConfigurationError } from '../../src/processor/errors.ts'
import { consumerGroupId, type TopicProcessorConfig } from '../../src/processor/options.ts'
import { OverlapError } from '../../src/processor/overlap-guard.ts'
import { TopicProcessor } from '../../src/processor/topic-processor.ts'
import type { MessageProcessor } from '../../src/processor/types.ts'
import { captureLogger } from '../helpers/capture-logger.ts'
import { clientKinds, freshTopics, readAll, testClient, waitFor } from '../helpers/kafka.ts'
import { kafkaBrokers, uniqueName } from '../helpers/services.ts'

const text = (m: IncomingMessage) => m.value?.toString() ?? ''

/** Starts the loop with its rejection handled at once: it may stop before the test asks how (howItStops). */
const startLoop = (tp: TopicProcessor): Promise<void> => {
  const loop = tp.runLoop()
  loop.catch(() => {})
  return loop
}

/** The error that stopped a loop, or a string saying it did not stop with one within 15 s. */
const howItStops = (loop: Promise<void>): Promise<Error | string> =>
  Promise.race([
    loop.then(
      () => 'stopped without error',
      (error: Error) => error,
    ),
    new Promise<string>((resolve) => setTimeout(resolve, 15_000, 'still running').unref()),
  ])

for (const kind of clientKinds) {
  describe(`TopicProcessor against a real broker (${kind})`, () => {
    const client: KafkaClient = testClient(kind)
    after(() => client.close())

    const config = (
      overrides: Partial<TopicProcessorConfig> & Pick<TopicProcessorConfig, 'inputTopics'>,
    ) => ({
      name: uniqueName('tp'),
      client,
      inputPartitions: [0],
      batchSize: 3,
      batchWaitMs: 200,
      logger: captureLogger(),
      ...overrides,
    })

    test("Kasper's scenario: characters joined with fictions per partition, batchSize 3, exact output", async () => {
      const [characters, fictions, output] = await freshTopics('kasper', 2, 3)
      assert.ok(characters && fictions && output)
      const fictionsData = [
        { partition: 0, key: 'f1', value: 'The Hobbit' },
        { partition: 1, key: 'f2', value: 'Dune' },
      ]
      const charactersData = [
        { partition: 0, key: 'c1', value: 'Bilbo@f1' },
        { partition: 0, key: 'c2', value: 'Gandalf@f1' },
        { partition: 1, key: 'c3', value: 'Paul@f2' },
        { partition: 0, key: 'c4', value: 'Smaug@f1' },
        { partition: 1, key: 'c5', value: 'Chani@f2' },
      ]
      await client.produce(fictionsData.map((m) => ({ topic: fictions, ...m })))
      await client.produce(charactersData.map((m) => ({ topic: characters, ...m })))

      const batchSizes: number[] = []
      const joinProcessor = (partition: number): MessageProcessor => {
        const titles = new Map<string, string>()
        const waiting: string[] = []
        return {
          process(messages, sender) {
            batchSizes.push(messages.length)
            for (const m of messages) assert.equal(m.partition, partition)
            for (const m of messages.filter((m) => m.topic === fictions))
              titles.set(m.key!.toString(), text(m))
            waiting.push(...messages.filter((m) => m.topic === characters).map(text))
            for (const entry of waiting.splice(0)) {
              const [name, fiction] = entry.split('@') as [string, string]
              const title = titles.get(fiction)
              if (title === undefined) waiting.push(entry)
              else sender.send({ topic: output, partition, key: name, value: `${name} appears in ${title}` })
            }
          },
        }
      }
      const tp = new TopicProcessor(
        config({ inputTopics: [characters, fictions], inputPartitions: [0, 1] }),
        joinProcessor,
      )
      const loop = tp.runLoop()
      await waitFor(() => tp.hasConsumedAllMessages(), 20_000, 'the processor to drain')
      await tp.close()
      await tp.close()
      await loop
      assert.ok(
        batchSizes.every((size) => size >= 1 && size <= 3),
        `batch sizes ${batchSizes}`,
      )
      const produced = await readAll(client, output, 2)
      assert.deepEqual(produced.map((m) => `${m.partition}:${text(m)}`).sort(), [
        '0:Bilbo appears in The Hobbit',
        '0:Gandalf appears in The Hobbit',
        '0:Smaug appears in The Hobbit',
        '1:Chani appears in Dune',
        '1:Paul appears in Dune',
      ])
      const inPartition0 = produced.filter((m) => m.partition === 0).map((m) => m.key?.toString())
      assert.deepEqual(inPartition0, ['Bilbo', 'Gandalf', 'Smaug'], 'order within a partition is preserved')
    })

    test('a batch closes at batchSize or batchWaitMs after its first message; empty batches never reach process()', async () => {
      const [input] = await freshTopics('batching', 1)
      assert.ok(input)
      await client.produce(['a', 'b', 'c', 'd', 'e'].map((value) => ({ topic: input, partition: 0, value })))
      const batches: string[][] = []
      const arrivals: number[] = []
      const tp = new TopicProcessor(config({ inputTopics: [input], batchWaitMs: 400 }), () => ({
        process(messages) {
          batches.push(messages.map(text))
          arrivals.push(Date.now())
        },
      }))
      const loop = tp.runLoop()
      await waitFor(() => batches.flat().length === 5, 10_000, 'five messages')
      const lateProduce = Date.now()
      await client.produce([{ topic: input, partition: 0, value: 'f' }])
      await waitFor(() => batches.flat().length === 6, 10_000, 'the sixth message')
      assert.ok(arrivals.at(-1)! - lateProduce >= 300, 'a lone message waits for batchWaitMs')
      await new Promise((resolve) => setTimeout(resolve, 600))
      await tp.close()
      await loop
      assert.deepEqual(batches, [['a', 'b', 'c'], ['d', 'e'], ['f']])
    })

    test('sent messages are acknowledged before the batch offsets (last + 1) are committed', async () => {
      const [input, output] = await freshTopics('ack', 1, 2)
      assert.ok(input && output)
      await client.produce(['1', '2', '3'].map((value) => ({ topic: input, partition: 0, value })))
      const name = uniqueName('ack')
      const observations: string[] = []
      const tp = new TopicProcessor(config({ name, inputTopics: [input] }), () => ({
        async process(messages, sender) {
          for (const m of messages) sender.send({ topic: output, partition: 0, value: `out-${text(m)}` })
          const committedBefore = await client.committedOffsets(consumerGroupId(name), [
            { topic: input, partition: 0 },
          ])
          observations.push(`committed before return: ${committedBefore.length}`)
        },
      }))
      const loop = tp.runLoop()
      await waitFor(
        async () =>
          (await client.committedOffsets(consumerGroupId(name), [{ topic: input, partition: 0 }]))[0]
            ?.offset === 3n,
        10_000,
        'the commit of offset 3',
      )
      const produced = await readAll(client, output, 1)
      assert.deepEqual(produced.map(text), ['out-1', 'out-2', 'out-3'])
      assert.deepEqual(observations, ['committed before return: 0'])
      await tp.close()
      await loop
    })

    test('an error thrown by process() stops the loop; runLoop rejects and the batch is not committed', async () => {
      const [input] = await freshTopics('fail', 1)
      assert.ok(input)
      await client.produce(['x', 'y'].map((value) => ({ topic: input, partition: 0, value })))
      const name = uniqueName('fail')
      const tp = new TopicProcessor(config({ name, inputTopics: [input] }), () => ({
        process() {
          throw new Error('enrichment service down')
        },
      }))
      await assert.rejects(tp.runLoop(), /enrichment service down/)
      const committed = await client.committedOffsets(consumerGroupId(name), [{ topic: input, partition: 0 }])
      assert.deepEqual(committed, [])
    })

    test('a committed offset beyond the log end resumes at the log end', async () => {
      const [input] = await freshTopics('beyond', 1)
      assert.ok(input)
      await client.produce(['old'].map((value) => ({ topic: input, partition: 0, value })))
      const name = uniqueName('beyond')
      await client.commitOffsets(consumerGroupId(name), [{ topic: input, partition: 0, offset: 1000n }])
      const seen: string[] = []
      const logger = captureLogger()
      const tp = new TopicProcessor(config({ name, inputTopics: [input], logger }), () => ({
        process(messages) {
          seen.push(...messages.map(text))
        },
      }))
      const loop = tp.runLoop()
      await waitFor(() => tp.progress().length > 0, 10_000, 'the processor to start')
      await client.produce([{ topic: input, partition: 0, value: 'new' }])
      await waitFor(() => seen.length > 0, 10_000, 'the new message')
      await tp.close()
      await loop
      assert.deepEqual(seen, ['new'])
      assert.ok(logger.lines.some((l) => l.level === 'warn' && /beyond the log end/.test(l.message)))
    })

    test('a committed offset deleted by retention falls back to the log start with a warning', async () => {
      const [input] = await freshTopics('retention', 1)
      assert.ok(input)
      await client.produce(['a', 'b', 'c', 'd'].map((value) => ({ topic: input, partition: 0, value })))
      const name = uniqueName('retention')
      await client.commitOffsets(consumerGroupId(name), [{ topic: input, partition: 0, offset: 1n }])
      await deleteRecordsBefore({ brokers: kafkaBrokers(), clientId: 'test' }, input, 0, 3n)
      const seen: string[] = []
      const logger = captureLogger()
      const tp = new TopicProcessor(config({ name, inputTopics: [input], logger }), () => ({
        process(messages) {
          seen.push(...messages.map(text))
        },
      }))
      const loop = tp.runLoop()
      await waitFor(() => tp.hasConsumedAllMessages(), 10_000, 'the processor to drain')
      await tp.close()
      await loop
      assert.deepEqual(seen, ['d'])
      assert.ok(logger.lines.some((l) => l.level === 'warn' && /deleted by retention/.test(l.message)))
    })

    test('hasConsumedAllMessages() is fresh, and empty partitions count as drained', async () => {
      const [input] = await freshTopics('drain', 3)
      assert.ok(input)
      const tp = new TopicProcessor(config({ inputTopics: [input], inputPartitions: [0, 1, 2] }), () => ({
        process() {},
      }))
      const loop = tp.runLoop()
      await waitFor(() => tp.hasConsumedAllMessages(), 10_000, 'empty partitions to count as drained')
      await client.produce([{ topic: input, partition: 2, value: 'late' }])
      assert.equal(await tp.hasConsumedAllMessages(), false, 'a new message is seen at once')
      await waitFor(() => tp.hasConsumedAllMessages(), 10_000, 'the late message to be processed')
      await tp.close()
      await loop
    })

    test('another consumer committing to the same partitions stops the loop; its batch is not committed', async () => {
      const [input] = await freshTopics('overlap', 1)
      assert.ok(input)
      const name = uniqueName('tp')
      const group = consumerGroupId(name)
      const committed = async () =>
        (await client.committedOffsets(group, [{ topic: input, partition: 0 }]))[0]?.offset
      await client.produce(['a', 'b', 'c'].map((value) => ({ topic: input, partition: 0, value })))
      const tp = new TopicProcessor(
        config({ name, inputTopics: [input], overlapCheckIntervalMs: 1 }),
        () => ({
          process() {},
        }),
      )
      const loop = startLoop(tp)
      await waitFor(async () => (await committed()) === 3n, 10_000, 'the first batch to be committed')
      // What a second instance with an overlapping partition set would do.
      await client.commitOffsets(group, [{ topic: input, partition: 0, offset: 1n }])
      await client.produce(['d', 'e', 'f'].map((value) => ({ topic: input, partition: 0, value })))
      const stopped = await howItStops(loop)
      await tp.close()
      assert.ok(stopped instanceof OverlapError, String(stopped))
      assert.match(stopped.message, new RegExp(`${input}/0 is at 1, expected 3`))
      assert.match(stopped.message, /instance\.index, instance\.count and processor\.partitions/)
      assert.equal(await committed(), 1n, 'the batch d..f is not committed')
    })

    test('a processor that has not committed yet, even an idle one, notices another consumer committing', async () => {
      const [input] = await freshTopics('overlap-idle', 1)
      assert.ok(input)
      const name = uniqueName('tp')
      const group = consumerGroupId(name)
      await client.commitOffsets(group, [{ topic: input, partition: 0, offset: 0n }])
      const tp = new TopicProcessor(
        config({ name, inputTopics: [input], overlapCheckIntervalMs: 1 }),
        () => ({
          process() {},
        }),
      )
      const loop = startLoop(tp)
      await waitFor(async () => tp.progress().length === 1, 10_000, 'the processor to start')
      await client.commitOffsets(group, [{ topic: input, partition: 0, offset: 5n }])
      const stopped = await howItStops(loop)
      await tp.close()
      assert.ok(stopped instanceof OverlapError, String(stopped))
      assert.match(stopped.message, new RegExp(`${input}/0 is at 5, expected 0`))
    })

    test('an expired committed offset of an idle partition is not an overlap: it is committed again', async () => {
      const [input] = await freshTopics('expired', 2)
      assert.ok(input)
      const name = uniqueName('tp')
      const group = consumerGroupId(name)
      const committed = async (partition: number) =>
        (await client.committedOffsets(group, [{ topic: input, partition }]))[0]?.offset
      await client.produce([
        ...['a', 'b', 'c'].map((value) => ({ topic: input, partition: 0, value })),
        { topic: input, partition: 1, value: 'x' },
      ])
      const logger = captureLogger()
      const tp = new TopicProcessor(
        config({ name, inputTopics: [input], inputPartitions: [0, 1], overlapCheckIntervalMs: 1, logger }),
        () => ({ process() {} }),
      )
      const loop = tp.runLoop()
      await waitFor(async () => (await committed(1)) === 1n, 10_000, 'partition 1 to be committed')
      const recommitted = () =>
        logger.lines.filter((l) => l.message === 'committed offsets had expired; committed them again')
      assert.deepEqual(recommitted(), [])
      // The processor may commit it again before the deletion's response arrives, so the test does not read
      // the gap: the warning says the processor saw it.
      await deleteCommittedOffsets({ brokers: kafkaBrokers(), clientId: 'test' }, group, input, [1])
      await waitFor(async () => recommitted().length > 0, 10_000, 'the processor to see the expiry')
      assert.deepEqual(recommitted()[0]?.fields.partitions, [`${input}/1@1`])
      await client.produce(['d', 'e', 'f'].map((value) => ({ topic: input, partition: 0, value })))
      await waitFor(async () => (await committed(1)) === 1n, 10_000, 'partition 1 to be committed again')
      await waitFor(async () => (await committed(0)) === 6n, 10_000, 'partition 0 to be processed on')
      await tp.close()
      await loop
    })

    test('a process() that never settles fails its batch within processTimeoutMs; the batch is not committed', async () => {
      const [input] = await freshTopics('stall', 1)
      assert.ok(input)
      await client.produce(['a', 'b', 'c', 'd', 'e', 'f'].map((value) => ({ topic: input, value })))
      const name = uniqueName('stall')
      const logger = captureLogger()
      const metrics = new PrometheusMetrics()
      let stalledAtMs = 0
      const processor: MessageProcessor = {
        process(messages) {
          if (messages[0]!.offset === 0n) return
          stalledAtMs = performance.now()
          return new Promise<void>(() => {})
        },
      }
      const processTimeoutMs = 1000
      const loop = new TopicProcessor(
        config({ name, inputTopics: [input], logger, metrics, processTimeoutMs }),
        () => processor,
      ).runLoop()
      const stopped = await howItStops(loop)
      const detectedAfterMs = performance.now() - stalledAtMs
      assert.ok(stopped instanceof ProcessTimeoutError, String(stopped))
      assert.match(
        stopped.message,
        /process\(\) of partition 0 did not settle within processTimeoutMs \(1000 ms\)/,
      )
      assert.ok(
        // The limit runs from the batch's start, a moment before process() is called; timers may be late.
        detectedAfterMs >= processTimeoutMs - 50 && detectedAfterMs < processTimeoutMs + 2000,
        `detected after ${detectedAfterMs} ms`,
      )
      const [committed] = await client.committedOffsets(consumerGroupId(name), [
        { topic: input, partition: 0 },
      ])
      assert.equal(committed?.offset, 3n, 'the first batch is committed, the stalled one is not')
      const stall = logger.lines.find((l) => l.level === 'error')!
      assert.match(stall.message, /process\(\) stalled/)
      assert.equal(stall.fields.partition, 0)
      assert.deepEqual(stall.fields.offsets, [`${input}/0@3..5`])
      assert.match(
        await metrics.registry.metrics(),
        new RegExp(`kasper_batch_timeouts_total\\{processor="${name}"\\} 1`),
      )
    })

    test('bad configuration is one clear error before anything is consumed', async () => {
      const [a] = await freshTopics('cfg-a', 2)
      const [b] = await freshTopics('cfg-b', 3)
      assert.ok(a && b)
      const runWith = (overrides: Partial<TopicProcessorConfig>) =>
        new TopicProcessor(config({ inputTopics: [a], ...overrides }), () => ({ process() {} })).runLoop()
      await assert.rejects(runWith({ inputTopics: [uniqueName('missing')] }), (error: Error) => {
        assert.ok(error instanceof ConfigurationError)
        assert.match(error.message, /unknown topic/)
        return true
      })
      await assert.rejects(runWith({ inputTopics: [a, b] }), /same partition count/)
      await assert.rejects(runWith({ inputPartitions: [5] }), /partition 5 does not exist/)
    })
  })
}
