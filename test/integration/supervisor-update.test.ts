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

/** A supervisor over a fresh 4-partition topic, running the tracking processor (1 s per batch) on 2 threads. */
async function tracked(prefix: string, guarantee: 'at-least-once' | 'exactly-once' = 'at-least-once') {
  const [input] = await freshTopics(prefix, 4)
  assert.ok(input)
  const logFile = join(mkdtempSync(join(tmpdir(), `kasper-${prefix}-`)), 'log')
  writeFileSync(logFile, '')
  const name = uniqueName(prefix)
  const config = parseConfig(
    {
      kafka: {
        brokers: kafkaBrokers(),
        ...(guarantee === 'exactly-once' ? { client: 'platformatic', isolationLevel: 'read_committed' } : {}),
      },
      processor: {
        name,
        guarantee,
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
  const metrics = new PrometheusMetrics()
  const supervisor = new Supervisor(config, captureLogger(), metrics)
  const produce = (partition: number, count: number) =>
    client.produce(Array.from({ length: count }, (_, i) => ({ topic: input, partition, value: `r${i}` })))
  const committed = async (partition: number) =>
    (await client.committedOffsets(consumerGroupId(name), [{ topic: input, partition }]))[0]?.offset
  /** Waits until every one of `partitions` is committed up to `offset`. */
  const committedUpTo = (partitions: number[], offset: bigint, what: string) =>
    waitFor(
      async () => (await Promise.all(partitions.map(committed))).every((o) => o === offset),
      60_000,
      what,
    )
  const batchStarted = (partition: number, offset: number) =>
    waitFor(
      async () => readLog(logFile).started(partition).includes(offset),
      30_000,
      `a batch of partition ${partition} started`,
    )
  return { supervisor, metrics, logFile, produce, committed, committedUpTo, batchStarted }
}

test('update(): kept partitions keep their processor objects; revoked ones are committed before it resolves', async () => {
  const { supervisor, logFile, produce, committed, committedUpTo, batchStarted } = await tracked('update')
  try {
    for (const p of [0, 1, 2, 3]) await produce(p, 5)
    await supervisor.update([0, 1, 2, 3])
    await committedUpTo([0, 1, 2, 3], 5n, 'the first records of every partition committed')
    const before = readLog(logFile)
    // A batch of partition 3 is in flight (its processor sleeps 1 s) when partition 3 is revoked.
    await produce(3, 5)
    await batchStarted(3, 5)
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
    await committedUpTo([0, 1, 2], 10n, 'the kept partitions processed on')
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
    const report = await supervisor.drainReport()
    assert.deepEqual(
      report.partitions.map((p) => p.partition).sort(),
      [0, 1, 2],
      '/drained lists the partitions owned now',
    )
    assert.equal(report.drained, true, 'drained once the kept partitions are processed to their log ends')
    assert.deepEqual(
      supervisor
        .workers()
        .flatMap((w) => w.progress.map((p) => p.partition))
        .sort(),
      [0, 1, 2],
      '/status lists the partitions owned now',
    )
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

test('update() never moves a kept partition to another thread; a thread left without partitions is retired, its series too', async () => {
  const { supervisor, metrics, logFile, produce, committed, committedUpTo, batchStarted } =
    await tracked('move')
  try {
    for (const p of [0, 1, 2, 3]) await produce(p, 5)
    await supervisor.update([0, 1, 2, 3])
    assert.deepEqual(
      supervisor.workers().map((w) => [w.id, w.partitions]),
      [
        [0, [0, 2]],
        [1, [1, 3]],
      ],
    )
    await waitFor(async () => (await committed(3)) === 5n, 60_000, 'partition 3 processed')
    // A batch of partition 3 is in flight while partitions 0, 1 and 2 go: 3 must stay on thread 1.
    await produce(3, 5)
    await batchStarted(3, 5)
    await supervisor.update([3])
    assert.deepEqual(
      supervisor.workers().map((w) => [w.id, w.partitions]),
      [[1, [3]]],
    )
    const rendered = await metrics.registry.metrics()
    assert.match(rendered, /kasper_worker_up\{worker="1"\} 1/)
    assert.doesNotMatch(rendered, /kasper_worker_up\{worker="0"\}/, 'the retired worker left /metrics')
    assert.doesNotMatch(rendered, /kasper_worker_heap_used_bytes\{worker="0"\}/)
    await produce(3, 5)
    await waitFor(async () => (await committed(3)) === 15n, 60_000, 'partition 3 processed on')
    const log = readLog(logFile)
    assert.equal(log.built(3).length, 1, "partition 3's processor was built once: it never changed threads")
    assert.deepEqual(log.closed(3), [])
    assert.deepEqual(
      [...log.processed(3).keys()].sort((a, b) => a - b),
      [...Array(15).keys()],
      'every record of partition 3 processed',
    )
    // Given more, the retired thread's id comes back with the new partitions; 3 stays where it is.
    await supervisor.update([0, 1, 2, 3])
    assert.deepEqual(
      supervisor.workers().map((w) => [w.id, w.partitions]),
      [
        [0, [0, 2]],
        [1, [3, 1]],
      ],
    )
    await committedUpTo([0, 1, 2], 5n, 'the added partitions processed')
    assert.equal(readLog(logFile).built(3).length, 1)
    console.log('update([3]) kept partition 3 on thread 1 through the change, processor and all')
  } finally {
    await supervisor.stop('test over')
  }
})

test('update() that adds a thread outside a group keeps the running one (the pool is not replaced under it)', async () => {
  const { supervisor, logFile, produce, committed, committedUpTo } = await tracked('grow')
  try {
    for (const p of [0, 1, 2, 3]) await produce(p, 5)
    supervisor.start([[0, 2]])
    await waitFor(async () => (await committed(0)) === 5n, 60_000, 'partition 0 processed')
    await supervisor.update([0, 1, 2, 3])
    await committedUpTo([0, 1, 2, 3], 5n, 'every partition processed')
    assert.deepEqual(
      supervisor.workers().map((w) => [w.id, w.partitions, w.restarts]),
      [
        [0, [0, 2], 0],
        [1, [1, 3], 0],
      ],
    )
    const log = readLog(logFile)
    for (const p of [0, 2]) assert.equal(log.built(p).length, 1, `partition ${p} kept its processor`)
  } finally {
    await supervisor.stop('test over')
  }
})

test('with exactly-once, a worker given partitions (none revoked) restarts with its new set', async () => {
  const { supervisor, produce, committedUpTo } = await tracked('eos-grow', 'exactly-once')
  try {
    for (const p of [0, 1, 2, 3]) await produce(p, 5)
    supervisor.start([[0], [1]])
    await committedUpTo([0, 1], 5n, 'the first partitions processed')
    await supervisor.update([0, 1, 2, 3])
    await committedUpTo([0, 1, 2, 3], 5n, 'the added partitions processed')
    assert.equal(supervisor.stopping, false, 'the change did not fail the workers')
    assert.deepEqual(
      supervisor.workers().map((w) => [w.id, w.partitions, w.restarts]),
      [
        [0, [0, 2], 0],
        [1, [1, 3], 0],
      ],
    )
  } finally {
    await supervisor.stop('test over')
  }
})

test('revoke() during an update() waits for it: no worker of the update runs after the revoke', async () => {
  const { supervisor, logFile, produce, committed, batchStarted } = await tracked('revoke-chain')
  try {
    for (const p of [0, 1, 2, 3]) await produce(p, 5)
    await supervisor.update([0, 1, 2, 3])
    await waitFor(async () => (await committed(3)) === 5n, 60_000, 'partition 3 processed')
    await produce(3, 5)
    await batchStarted(3, 5)
    // Partition 3 is released mid-batch: the update is still in its first step when revoke() is called.
    const update = supervisor.update([0, 1, 2])
    const revoke = supervisor.revoke('test: eager rebalance during an update')
    await Promise.all([update, revoke])
    assert.deepEqual(supervisor.workers(), [], 'every worker stopped by the revoke')
    assert.equal(supervisor.isAssigned(), false)
    const log = readLog(logFile)
    for (const p of [0, 1, 2, 3]) assert.deepEqual(log.closed(p), log.built(p), `partition ${p} closed`)
  } finally {
    await supervisor.stop('test over')
  }
})

test('the eager path, revoke() then start(): every worker commits and stops, every processor is rebuilt', async () => {
  const { supervisor, logFile, produce, committed, committedUpTo, batchStarted } = await tracked('eager')
  try {
    for (const p of [0, 1, 2, 3]) await produce(p, 5)
    supervisor.start([
      [0, 2],
      [1, 3],
    ])
    await batchStarted(3, 0)
    await supervisor.revoke('test: eager rebalance')
    assert.equal(supervisor.isReady(), false, 'not ready while waiting for the next assignment')
    const revoked = readLog(logFile)
    for (const p of [0, 1, 2, 3]) {
      const processed = [...revoked.processed(p).keys()]
      const expected = processed.length === 0 ? undefined : BigInt(Math.max(...processed) + 1)
      assert.equal(await committed(p), expected, `partition ${p} committed up to its last processed record`)
      assert.deepEqual(revoked.closed(p), revoked.built(p), `partition ${p}'s processor was closed`)
    }
    supervisor.start([
      [0, 1],
      [2, 3],
    ])
    await committedUpTo([0, 1, 2, 3], 5n, 'every partition processed after the new start')
    for (const p of [0, 1, 2, 3]) assert.equal(readLog(logFile).built(p).length, 2, `partition ${p} rebuilt`)
  } finally {
    await supervisor.stop('test over')
  }
})
