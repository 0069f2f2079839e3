import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { Admin } from '#platformatic-kafka'
import type { CompressionCodec, KafkaClientKind } from '../../src/kafka/types.ts'
import { deadLetterHeaders } from '../../src/processor/dead-letter.ts'
import { TopicProcessor } from '../../src/processor/topic-processor.ts'
import { captureLogger } from '../helpers/capture-logger.ts'
import { clientKinds, freshTopics, testClient, waitFor } from '../helpers/kafka.ts'
import { batchCodecs } from '../helpers/kafka-tools.ts'
import { kafkaBrokers, kafkaJarsDir, uniqueName } from '../helpers/services.ts'

// Every codec both ways, checked by independent JVM clients: the console producer writes compressed input,
// Kasper (each client) reads it and writes its outputs and dead letters compressed, and the console consumer
// reads them back. The broker's log sizes show that both sides really are compressed.

const codecs = ['gzip', 'snappy', 'lz4', 'zstd'] as const satisfies readonly CompressionCodec[]
const recordsPerCodec = 20
const filler = ' lorem ipsum dolor sit amet'.repeat(40)

interface Written {
  key: string
  value: string
  header: string
}

const written = (codec: string): Written[] =>
  Array.from({ length: recordsPerCodec + 1 }, (_, i) => ({
    key: `k${i}`,
    // The last record is the poison one, dead-lettered.
    value: i === recordsPerCodec ? `${codec} poison` : `${codec} value ${i}${filler}`,
    header: `${codec}-${i}`,
  }))

async function java(mainClass: string, args: string[], input = ''): Promise<string> {
  const run = promisify(execFile)('java', ['-cp', `${kafkaJarsDir()}/*`, mainClass, ...args], {
    encoding: 'utf8',
    timeout: 90_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  run.child.stdin?.end(input)
  return (await run).stdout
}

/** Each line of the console consumer's output: its headers (name:value, comma-separated), key and value. */
function parseConsumed(output: string): Array<{ headers: string; key: string; value: string }> {
  return output
    .split('\n')
    .filter((line) => line.includes('\t'))
    .map((line) => {
      const [headers, key, value] = line.split('\t') as [string, string, string]
      return { headers, key, value }
    })
}

async function logSizes(topics: string[]): Promise<Map<string, number>> {
  const admin = new Admin({ clientId: 'kasper-test-log-dirs', bootstrapBrokers: kafkaBrokers() })
  try {
    const brokers = await admin.describeLogDirs({ topics: topics.map((name) => ({ name, partitions: [0] })) })
    const sizes = new Map<string, number>()
    for (const result of brokers.flatMap((b) => b.results))
      for (const topic of result.topics)
        for (const p of topic.partitions)
          sizes.set(topic.name, (sizes.get(topic.name) ?? 0) + Number(p.partitionSize))
    return sizes
  } finally {
    await admin.close()
  }
}

describe('compression, every codec both ways, checked by the JVM console producer and consumer', () => {
  const topics = new Map<string, { input: string; output: string; deadLetters: string }>()
  const received = new Map<string, Written[]>()

  before(async () => {
    for (const codec of codecs) {
      const [input, output, deadLetters] = (await freshTopics(`cmp-${codec}-`, 1, 3)) as [
        string,
        string,
        string,
      ]
      topics.set(codec, { input, output, deadLetters })
    }
    await Promise.all(
      [...topics].map(([codec, { input }]) => {
        const lines = written(codec).map(({ key, value, header }) => `h:${header}\t${key}\t${value}`)
        return java(
          'org.apache.kafka.tools.ConsoleProducer',
          [
            '--bootstrap-server',
            kafkaBrokers().join(','),
            '--topic',
            input,
            '--compression-codec',
            codec,
            '--reader-property',
            'parse.key=true',
            '--reader-property',
            'parse.headers=true',
          ],
          `${lines.join('\n')}\n`,
        )
      }),
    )
  })

  async function copy(kind: KafkaClientKind, codec: CompressionCodec): Promise<void> {
    const { input, output, deadLetters } = topics.get(codec)!
    const client = testClient(kind)
    const seen: Written[] = []
    const processor = new TopicProcessor(
      {
        name: uniqueName(`cmp-${codec}-${kind}`),
        client,
        inputTopics: [input],
        inputPartitions: [0],
        batchSize: 100,
        batchWaitMs: 200,
        compression: codec,
        errorPolicy: { onFailure: 'dead-letter', deadLetterTopic: deadLetters },
        logger: captureLogger(),
      },
      () => ({
        process(messages, sender) {
          for (const m of messages) {
            const record = {
              key: m.key!.toString(),
              value: m.value!.toString(),
              header: m.headers.h!.toString(),
            }
            if (!seen.some((s) => s.key === record.key)) seen.push(record)
            if (record.value.endsWith('poison')) throw new Error('poison')
          }
          for (const m of messages)
            sender.send({
              topic: output,
              key: m.key,
              value: m.value,
              headers: { ...m.headers, client: kind },
            })
        },
      }),
    )
    const loop = processor.runLoop()
    try {
      await waitFor(() => processor.hasConsumedAllMessages(), 30_000, `${kind} to drain ${input}`)
    } finally {
      await processor.close()
      await loop
      await client.close()
    }
    received.set(`${codec} ${kind}`, seen)
  }

  for (const codec of codecs) {
    for (const kind of clientKinds) {
      test(`${kind} reads the JVM's ${codec} records and writes its outputs and dead letters in ${codec}`, async () => {
        await copy(kind, codec)
        assert.deepEqual(received.get(`${codec} ${kind}`), written(codec))
      })
    }
  }

  test('the JVM console consumer reads every output and dead letter back: keys, values, headers', async () => {
    const all = [...topics.values()].flatMap((t) => [t.output, t.deadLetters])
    const expected = codecs.length * clientKinds.length * (recordsPerCodec + 1)
    const consumed = parseConsumed(
      await java('org.apache.kafka.tools.consumer.ConsoleConsumer', [
        '--bootstrap-server',
        kafkaBrokers().join(','),
        '--include',
        `^(${all.join('|')})$`,
        '--from-beginning',
        '--max-messages',
        String(expected),
        '--timeout-ms',
        '60000',
        '--formatter-property',
        'print.key=true',
        '--formatter-property',
        'print.headers=true',
      ]),
    )
    assert.equal(consumed.length, expected)
    for (const codec of codecs) {
      for (const kind of clientKinds) {
        const mine = consumed.filter(
          (c) => c.value.startsWith(`${codec} `) && c.headers.includes(`client:${kind}`),
        )
        assert.deepEqual(
          mine.map((c) => `${c.headers}\t${c.key}\t${c.value}`),
          written(codec)
            .slice(0, recordsPerCodec)
            .map((w) => `h:${w.header},client:${kind}\t${w.key}\t${w.value}`),
          `${codec} outputs of ${kind}`,
        )
      }
      const dead = consumed.filter((c) => c.value === `${codec} poison`)
      assert.equal(dead.length, clientKinds.length, `${codec} dead letters`)
      for (const d of dead) {
        assert.equal(d.key, `k${recordsPerCodec}`)
        assert.ok(d.headers.startsWith(`h:${codec}-${recordsPerCodec},`), d.headers)
        assert.ok(d.headers.includes(`${deadLetterHeaders.errorMessage}:poison`), d.headers)
      }
    }
  })

  test('the input batches the console producer wrote, and the outputs, are compressed with the intended codec (DumpLogSegments on the broker log)', async (t) => {
    for (const [codec, { input, output }] of topics) {
      const inputCodecs = await batchCodecs(input, 0)
      if (inputCodecs === undefined) {
        t.skip('the test broker is not this checkout harness broker: its log files cannot be read')
        return
      }
      assert.ok(inputCodecs.length > 0, `${input} has record batches`)
      assert.deepEqual(new Set(inputCodecs), new Set([codec]), `${codec} input batches`)
      assert.deepEqual(new Set(await batchCodecs(output, 0)), new Set([codec]), `${codec} output batches`)
    }
  })

  test("the broker stores inputs and outputs compressed: each log a fraction of its records' size", async () => {
    const sizes = await logSizes([...topics.values()].flatMap((t) => [t.input, t.output]))
    const valueBytes = written('gzip')[0]!.value.length * recordsPerCodec
    for (const [codec, { input, output }] of topics) {
      assert.ok(sizes.get(input)! < valueBytes / 4, `${codec} input: ${sizes.get(input)} bytes`)
      const outputBytes = valueBytes * clientKinds.length
      assert.ok(sizes.get(output)! < outputBytes / 4, `${codec} output: ${sizes.get(output)} bytes`)
    }
  })
})
