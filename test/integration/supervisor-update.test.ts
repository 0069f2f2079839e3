import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseConfig } from '../../src/config/index.ts'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'
import { consumerGroupId } from '../../src/processor/options.ts'
import { Supervisor } from '../../src/supervisor/supervisor.ts'
import { captureLogger } from '../helpers/capture-logger.ts'
import { freshTopics, testClient, waitFor } from '../helpers/kafka.ts'
import { kafkaBrokers, uniqueName } from '../helpers/services.ts'

const trackingProcessor = fileURLToPath(new URL('./fixtures/tracking-processor.ts', import.meta.url))
const client = testClient('platformatic')
after(() => client.close())

/** The fixture's log: what was built, started, processed and closed, by partition and instance. */
function readLog(file: string) {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '))
  const of = (what: string, partition: number) =>
    lines.filter(([kind, p]) => kind === what && Number(p) === partition)
  return {
    built: (partition: number) => of('built', partition).map(([, , instance]) => instance!),
    closed: (partition: number) => of('closed', partition).map(([, , instance]) => instance!),
    started: (partition: number) => of('start', partition).map(([, , , offset]) => Number(offset)),
    /** Offset → the instance that processed it. */
    processed: (partition: number) =>
      new Map(of('processed', partition).map(([, , instance, offset]) => [Number(offset), instance!])),
  }
}

test('update(): kept partitions keep their processor objects; revoked ones are committed before it resolves', async () => {
  const [input] = await freshTopics('update', 4)
  assert.ok(input)
  const logFile = join(mkdtempSync(join(tmpdir(), 'kasper-update-')), 'log')
  writeFileSync(logFile, '')
  const name = uniqueName('update')
  const config = parseConfig(
    {
      kafka: { brokers: kafkaBrokers() },
      processor: {
        name,
        module: trackingProcessor,
        inputTopics: [input],
        batchSize: 5,
        batchWaitMs: 50,
        options: { logFile, slowMs: 1000 },
      },
      workers: { threads: 2 },
      shutdown: { timeoutMs: 30_000 },
      logging: { level: 'warn' },
    },
    { source: 'test', baseDir: '/', env: {} },
  )
  const supervisor = new Supervisor(config, captureLogger(), new PrometheusMetrics())
  const produce = (partition: number, count: number) =>
    client.produce(Array.from({ length: count }, (_, i) => ({ topic: input, partition, value: `r${i}` })))
  const committed = async (partition: number) =>
    (await client.committedOffsets(consumerGroupId(name), [{ topic: input, partition }]))[0]?.offset
  try {
    for (const p of [0, 1, 2, 3]) await produce(p, 5)
    await supervisor.update([0, 1, 2, 3])
    await waitFor(
      async () => (await Promise.all([0, 1, 2, 3].map(committed))).every((o) => o === 5n),
      60_000,
      'the first records of every partition committed',
    )
    const before = readLog(logFile)
    // A batch of partition 3 is in flight (its processor sleeps 1 s) when partition 3 is revoked.
    await produce(3, 5)
    await waitFor(
      async () => readLog(logFile).started(3).includes(5),
      30_000,
      'a batch of partition 3 started',
    )
    await supervisor.update([0, 1, 2])
    const atRevoke = readLog(logFile)
    const processed3 = [...atRevoke.processed(3).keys()]
    const last3 = Math.max(...processed3)
    assert.ok(last3 >= 5, `the batch in flight was finished (last offset ${last3})`)
    assert.equal(
      await committed(3),
      BigInt(last3 + 1),
      'partition 3 is committed up to its last processed record',
    )
    assert.deepEqual(atRevoke.closed(3), atRevoke.built(3), "partition 3's processor was closed")

    for (const p of [0, 1, 2, 3]) await produce(p, 5)
    await waitFor(
      async () => (await Promise.all([0, 1, 2].map(committed))).every((o) => o === 10n),
      60_000,
      'the kept partitions processed on',
    )
    const after = readLog(logFile)
    for (const p of [0, 1, 2]) {
      assert.equal(after.built(p).length, 1, `partition ${p}'s processor was built once`)
      assert.deepEqual(after.closed(p), [], `partition ${p}'s processor was not closed`)
      assert.equal(
        after.processed(p).get(9),
        before.processed(p).get(0),
        `partition ${p} kept its processor object`,
      )
    }
    assert.equal(await committed(3), BigInt(last3 + 1), 'partition 3 is no longer consumed here')
    assert.equal(Math.max(...after.processed(3).keys()), last3)

    // Given back, partition 3 gets a new processor; the others still keep theirs.
    await supervisor.update([0, 1, 2, 3])
    await waitFor(async () => (await committed(3)) === 15n, 60_000, 'partition 3 processed again')
    const end = readLog(logFile)
    assert.equal(end.built(3).length, 2)
    for (const p of [0, 1, 2]) assert.equal(end.built(p).length, 1)
    console.log(
      `update kept partitions 0-2 on their processors; partition 3 revoked mid-batch, committed at ${last3 + 1}, rebuilt once when given back`,
    )
  } finally {
    await supervisor.stop('test over')
  }
})
