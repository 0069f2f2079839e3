import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { isTransient } from '../../src/kafka/errors.ts'
import type { IncomingMessage } from '../../src/kafka/messages.ts'
import type { KafkaClient } from '../../src/kafka/types.ts'
import { DeadLetterError, deadLetterHeaders } from '../../src/processor/dead-letter.ts'
import type { ErrorPolicyOptions } from '../../src/processor/error-policy.ts'
import { consumerGroupId } from '../../src/processor/options.ts'
import { replayDeadLetters } from '../../src/processor/replay-dead-letters.ts'
import { TopicProcessor } from '../../src/processor/topic-processor.ts'
import { StoreError } from '../../src/stores/errors.ts'
import { RedisStore } from '../../src/stores/redis.ts'
import { captureLogger } from '../helpers/capture-logger.ts'
import { killRunningClis, startCli, writeConfig } from '../helpers/cli.ts'
import { clientKinds, freshTopics, readAll, testClient, waitFor } from '../helpers/kafka.ts'
import { consoleConsume, kafkaLibs } from '../helpers/kafka-tools.ts'
import { kafkaBrokers, redisUrl, uniqueName } from '../helpers/services.ts'
import { hostAndPort, TcpProxy } from '../helpers/tcp-proxy.ts'

const text = (m: IncomingMessage) => m.value?.toString() ?? ''
const header = (m: IncomingMessage, key: string) => {
  const value = m.headers[key]
  return Array.isArray(value) ? value.map(String) : value?.toString()
}
const records = 1000
const poisonOffset = 500
const values = Array.from({ length: records }, (_, i) => `r${i}`)

for (const kind of clientKinds) {
  describe(`error policy against a real broker (${kind})`, () => {
    const client: KafkaClient = testClient(kind)
    after(() => client.close())

    /** 1,000 records with a poison one at offset 500, processed in one batch under `errorPolicy`. */
    async function poisonScenario(errorPolicy: ErrorPolicyOptions, deadLetterTopic?: string) {
      const [input, output] = await freshTopics('poison', 1, 2)
      assert.ok(input && output)
      await client.produce(
        values.map((value, i) => ({
          topic: input,
          partition: 0,
          key: `k${i}`,
          value,
          headers: { trace: `t${i}` },
        })),
      )
      const name = uniqueName('poison')
      const logger = captureLogger()
      const batchSizes: number[] = []
      const tp = new TopicProcessor(
        {
          name,
          client,
          inputTopics: [input],
          inputPartitions: [0],
          batchSize: records,
          batchWaitMs: 2000,
          logger,
          errorPolicy: {
            retries: 1,
            retryInitialBackoffMs: 10,
            ...(deadLetterTopic ? { deadLetterTopic } : {}),
            ...errorPolicy,
          },
        },
        () => ({
          process(messages, sender) {
            batchSizes.push(messages.length)
            for (const m of messages) {
              if (m.offset === BigInt(poisonOffset)) throw new TypeError(`cannot parse ${text(m)}`)
              sender.send({ topic: output, partition: 0, key: m.key, value: text(m) })
            }
          },
        }),
      )
      let stopped: unknown = 'running'
      const loop = tp.runLoop()
      loop.then(
        () => (stopped = 'stopped'),
        (error: unknown) => (stopped = error),
      )
      const committed = async () =>
        (await client.committedOffsets(consumerGroupId(name), [{ topic: input, partition: 0 }]))[0]?.offset
      return { input, output, tp, loop, logger, batchSizes, committed, stopped: () => stopped }
    }

    /** The batch is committed past the poison record, the loop runs on, the rest is in the output. */
    async function assertPoisonGivenUp(run: Awaited<ReturnType<typeof poisonScenario>>, logMessage: string) {
      await waitFor(async () => (await run.committed()) === BigInt(records), 20_000, 'the batch commit')
      assert.equal(run.batchSizes[0], records, 'the first process() call held the whole batch')
      assert.equal(run.stopped(), 'running')
      const output = await readAll(client, run.output, 1)
      assert.deepEqual(
        output.map(text),
        values.filter((_, i) => i !== poisonOffset),
      )
      const warned = run.logger.lines.filter((l) => l.message === logMessage)
      assert.deepEqual(
        warned.map((l) => [l.level, l.fields.topic, l.fields.partition, l.fields.offset]),
        [['warn', run.input, 0, String(poisonOffset)]],
      )
    }

    test('dead-letter: the poison record alone reaches the dead-letter topic, the rest the output', async () => {
      const [deadLetterTopic] = await freshTopics('dlq', 1)
      assert.ok(deadLetterTopic)
      const run = await poisonScenario({ onFailure: 'dead-letter' }, deadLetterTopic)
      await assertPoisonGivenUp(run, 'record dead-lettered')
      const [dead, ...more] = await readAll(client, deadLetterTopic, 1)
      assert.ok(dead)
      assert.equal(more.length, 0)
      assert.equal(text(dead), `r${poisonOffset}`)
      assert.equal(dead.key?.toString(), `k${poisonOffset}`)
      assert.equal(header(dead, 'trace'), `t${poisonOffset}`)
      assert.equal(header(dead, deadLetterHeaders.topic), run.input)
      assert.equal(header(dead, deadLetterHeaders.partition), '0')
      assert.equal(header(dead, deadLetterHeaders.offset), String(poisonOffset))
      assert.match(String(header(dead, deadLetterHeaders.timestamp)), /^\d{13}$/)
      assert.equal(header(dead, deadLetterHeaders.processor), run.tp.name)
      assert.equal(header(dead, deadLetterHeaders.errorClass), 'TypeError')
      assert.equal(header(dead, deadLetterHeaders.errorMessage), `cannot parse r${poisonOffset}`)
      // 2 calls of the whole batch, 9 bisection levels holding it (500, 250, …, 2), 2 calls alone.
      assert.equal(header(dead, deadLetterHeaders.attempts), '13')
      await run.tp.close()
      await run.loop

      const libs = kafkaLibs()
      if (kind === clientKinds[0] && libs) {
        const [line, ...rest] = await consoleConsume(libs, deadLetterTopic, 1)
        assert.equal(rest.length, 0)
        for (const expected of [
          `trace:t${poisonOffset}`,
          `${deadLetterHeaders.topic}:${run.input}`,
          `${deadLetterHeaders.partition}:0`,
          `${deadLetterHeaders.offset}:${poisonOffset}`,
          `${deadLetterHeaders.processor}:${run.tp.name}`,
          `${deadLetterHeaders.errorClass}:TypeError`,
          `${deadLetterHeaders.errorMessage}:cannot parse r${poisonOffset}`,
          `${deadLetterHeaders.attempts}:13`,
        ])
          assert.ok(line?.includes(expected), `${expected} in ${line}`)
        assert.match(line!, new RegExp(`\\tk${poisonOffset}\\tr${poisonOffset}$`))
      }

      // Once the processor is fixed: the record goes back to its origin, keeping its headers, once.
      assert.equal(await replayDeadLetters({ client, deadLetterTopic }), 1)
      const input = await readAll(client, run.input, 1)
      const replayed = input.at(-1)!
      assert.equal(input.length, records + 1)
      assert.equal(text(replayed), `r${poisonOffset}`)
      assert.equal(replayed.key?.toString(), `k${poisonOffset}`)
      assert.equal(header(replayed, 'trace'), `t${poisonOffset}`)
      assert.equal(header(replayed, deadLetterHeaders.offset), String(poisonOffset))
      assert.equal(header(replayed, deadLetterHeaders.errorClass), 'TypeError')
      if (kind === clientKinds[0]) {
        const config = {
          kafka: { brokers: kafkaBrokers(), client: kind },
          processor: {
            name: run.tp.name,
            // Not loaded: the replay only reads the connection and the error policy.
            module: join(import.meta.dirname, 'fixtures/failing-processor.ts'),
            inputTopics: [run.input],
            errorPolicy: { onFailure: 'dead-letter', deadLetterTopic },
          },
        }
        const cli = startCli(['replay-dead-letters', '--config', await writeConfig(config)])
        assert.equal((await cli.exited).code, 0, cli.output())
        assert.match(cli.output(), new RegExp(`copied 0 record\\(s\\) from ${deadLetterTopic}`))
      } else assert.equal(await replayDeadLetters({ client, deadLetterTopic }), 0)
      assert.equal((await readAll(client, run.input, 1)).length, records + 1)
    })

    test('skip: the same without a dead-letter record, and a warning naming the record', async () => {
      const run = await poisonScenario({ onFailure: 'skip' })
      await assertPoisonGivenUp(run, 'record skipped')
      await run.tp.close()
      await run.loop
    })

    test('an unwritable dead-letter topic stops the loop, and nothing is committed or produced', async () => {
      const run = await poisonScenario({ onFailure: 'dead-letter' }, uniqueName('missing-dlq'))
      await assert.rejects(run.loop, (error) => error instanceof DeadLetterError && !isTransient(error))
      assert.equal(await run.committed(), undefined)
      assert.deepEqual(await readAll(client, run.output, 1), [])
    })
  })
}

describe('a store outage under dead-letter (real Redis through a proxy)', () => {
  const client = testClient(clientKinds[0]!)
  after(() => client.close())

  test('longer than the retries: no good record is dead-lettered or committed; once Redis is back, every record is processed', async () => {
    const [input, output, deadLetterTopic] = await freshTopics('store-outage', 1, 3)
    assert.ok(input && output && deadLetterTopic)
    const sent = Array.from({ length: 50 }, (_, i) => `s${i}`)
    await client.produce(sent.map((value) => ({ topic: input, partition: 0, value })))
    const proxy = new TcpProxy(hostAndPort(redisUrl()))
    const port = await proxy.start()
    await proxy.cut()
    const name = uniqueName('store-outage')
    const store = new RedisStore({
      redis: `redis://127.0.0.1:${port}`,
      keyPrefix: name,
      operationTimeoutMs: 300,
    })
    const logger = captureLogger()
    const processor = () =>
      new TopicProcessor(
        {
          name,
          client,
          inputTopics: [input],
          inputPartitions: [0],
          batchSize: 100,
          batchWaitMs: 200,
          logger,
          errorPolicy: { retries: 2, retryInitialBackoffMs: 50, onFailure: 'dead-letter', deadLetterTopic },
        },
        () => ({
          async process(messages, sender) {
            for (const m of messages) {
              await store.put(text(m), '{"seen":true}')
              sender.send({ topic: output, partition: 0, value: text(m) })
            }
          },
        }),
      )
    const committed = async () =>
      (await client.committedOffsets(consumerGroupId(name), [{ topic: input, partition: 0 }]))[0]?.offset
    const endOf = async (topic: string) =>
      (await client.listOffsets([{ topic, partition: 0 }], 'latest'))[0]?.offset
    try {
      await assert.rejects(
        processor().runLoop(),
        (error) => error instanceof StoreError && isTransient(error),
        'the loop stops with the outage, to be waited out',
      )
      assert.equal(await endOf(deadLetterTopic), 0n, 'nothing dead-lettered')
      assert.equal(await committed(), undefined, 'nothing committed')
      assert.equal(logger.lines.filter((l) => /dead-lettered|skipped/.test(l.message)).length, 0)
      assert.equal(logger.lines.filter((l) => l.message === 'process() failed; retrying in place').length, 2)
      await proxy.start()
      const again = processor()
      const loop = again.runLoop()
      await waitFor(async () => (await committed()) === BigInt(sent.length), 20_000, 'the commit')
      await again.close()
      await loop
      assert.deepEqual((await readAll(client, output, 1)).map(text), sent)
      assert.equal(await endOf(deadLetterTopic), 0n)
    } finally {
      await store.close()
      await proxy.cut()
    }
  })
})

describe('kasper run with processor.errorPolicy', () => {
  const client = testClient(clientKinds[0]!)
  after(async () => {
    killRunningClis()
    await client.close()
  })

  test('onFailure skip: the worker runs on past a poison record, and /metrics counts it', async () => {
    const [input] = await freshTopics('run-skip', 1)
    assert.ok(input)
    await client.produce(['a', 'poison', 'b'].map((value) => ({ topic: input, partition: 0, value })))
    const name = uniqueName('run-skip')
    const config = {
      kafka: { brokers: kafkaBrokers(), client: clientKinds[0] },
      processor: {
        name,
        module: join(import.meta.dirname, 'fixtures/failing-processor.ts'),
        inputTopics: [input],
        batchWaitMs: 100,
        errorPolicy: { retries: 1, retryInitialBackoffMs: 10, onFailure: 'skip' },
      },
      workers: { threads: 1 },
      admin: { host: '127.0.0.1', port: 0 },
    }
    const cli = startCli(['run', '--config', await writeConfig(config)])
    const base = await cli.adminUrl
    // The worker label goes once core metrics lose it (wave 2); either way the series is the same.
    const series = (metric: string, labels: string, value: number) =>
      new RegExp(`${metric}\\{${labels}(,worker="0")?\\} ${value}\n`)
    const skipped = series(
      'kasper_skipped_messages_total',
      `processor="${name}",topic="${input}",partition="0"`,
      1,
    )
    await waitFor(
      async () => skipped.test(await (await fetch(`${base}/metrics`)).text()),
      20_000,
      'the skipped record in /metrics',
    )
    const committed = await client.committedOffsets(consumerGroupId(name), [{ topic: input, partition: 0 }])
    assert.equal(committed[0]?.offset, 3n)
    const metrics = await (await fetch(`${base}/metrics`)).text()
    assert.match(metrics, series('kasper_batch_retries_total', `processor="${name}"`, 2))
    const warning = cli
      .output()
      .split('\n')
      .find((line) => line.includes('"msg":"record skipped"'))
    assert.match(warning ?? '', new RegExp(`"level":"warn",.*"topic":"${input}","partition":0,"offset":"1"`))
    cli.process.kill('SIGTERM')
    assert.equal((await cli.exited).code, 0, cli.output())
  })
})
